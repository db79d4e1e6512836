"""``scopebot mcp``: scopebot's tools and sources for any Model Context Protocol client.

Tools (each with a JSON input schema and a typed ``outputSchema``; the text content is Markdown
for the client's model, the structured content is the typed result):

* ``search`` — hybrid search with citation keys, titles and deep links;
* ``ask`` — the grounded answer with its check report (or an abstention);
* ``recommend_tools`` — registry-checked tools and Model Zoo models;
* ``run_code`` — the sandbox, with uploaded files or files in folders the user allowed;
  refused unless the user turned code execution on;
* ``analyse_image`` — the code assistant (plan -> code -> run -> check, as ``scopebot code``); run only
  when asked and allowed;
* ``forum_search`` — live image.sc search (an offline forum is reported, not an error).

Resources: ``scopebot://sources`` (the indexed sources), ``scopebot://sources/{source_id}`` (a
source's sections with the key of each) and ``scopebot://passage/{key}`` (one cited passage).

A scopebot error becomes a tool error whose text is the CLI's message and its "How to fix" hint; other
exceptions, unknown arguments and schema violations are short tool errors too (:mod:`.calls`).
Nothing is fetched from outside at start: the index, the models and the sandbox are opened on the
first call that needs them. Transports: stdio (default) and streamable HTTP on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from scopebot import __version__
from scopebot.errors import ConfigurationError, ScopebotError, user_message
from scopebot.mcp_server import render
from scopebot.mcp_server.calls import ScopebotMCPServer
from scopebot.mcp_server.models import (
    SCHEME,
    AnalysisOutput,
    AskOutput,
    ForumOutput,
    RunOutput,
    SearchOutput,
    ToolsOutput,
)
from scopebot.mcp_server.services import ScopebotServices, Upload

R = TypeVar("R")
SourceKind = Literal["book", "registry", "model-zoo", "training", "forum"]
MAX_INLINE_FIGURES = 3

INSTRUCTIONS = (
    "scopebot answers microscopy and bioimage-analysis questions from curated sources (the open book "
    "'AI in Microscopy', BIII, the BioImage Model Zoo, training material, the image.sc forum). "
    "Use `search` for passages, `ask` for a checked answer, `recommend_tools` for software. Cite passages "
    "by their key in brackets, e.g. [bk-3f9a2c1d]; read scopebot://passage/<key> to open one. When `ask` "
    "abstains, say that the sources do not cover the question instead of answering from memory.")


def _call(fn: Callable[[], R]) -> R:
    """Run one service call; scopebot errors become tool errors carrying the CLI's hint."""
    try:
        return fn()
    except ScopebotError as exc:
        raise ToolError(user_message(exc)) from exc


def _result(structured: BaseModel, markdown: str, figures: list[str] | None = None) -> CallToolResult:
    content: list[ContentBlock] = [TextContent(type="text", text=markdown)]
    for fig in (figures or [])[:MAX_INLINE_FIGURES]:
        path = Path(fig)
        if path.is_file() and path.suffix.lower() == ".png":
            content.append(ImageContent(type="image", data=base64.b64encode(path.read_bytes()).decode("ascii"),
                                        mime_type="image/png"))
    return CallToolResult(content=content, structured_content=structured.model_dump(mode="json"))


def _resource(fn: Callable[[], R]) -> R:
    try:
        return fn()
    except ConfigurationError as exc:
        raise ResourceNotFoundError(user_message(exc)) from exc
    except ScopebotError as exc:
        raise ResourceError(user_message(exc)) from exc


def build_server(services: ScopebotServices) -> ScopebotMCPServer:
    """The MCP server over ``services`` (tools and resources registered, nothing opened yet)."""
    mcp = ScopebotMCPServer("scopebot", title="scopebot", version=__version__, instructions=INSTRUCTIONS,
                    log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @mcp.tool(title="Search the sources", annotations=read_only)
    def search(query: Annotated[str, Field(description="Keywords or a question, e.g. 'noise2void'.")],
               k: Annotated[int, Field(ge=1, le=20, description="Number of passages.")] = 5,
               kinds: Annotated[list[SourceKind] | None, Field(
                   description="Only these source kinds (default: all).")] = None,
               ) -> Annotated[CallToolResult, SearchOutput]:
        """Hybrid (BM25 + embedding) search over scopebot's microscopy sources. Each passage has a
        citation key, title, section and a deep link."""
        out = _call(lambda: services.search(query, k=k, kinds=kinds))
        return _result(out, render.search_markdown(out))

    @mcp.tool(title="Ask a grounded question", annotations=read_only)
    def ask(question: Annotated[str, Field(description="A microscopy or image-analysis question.")],
            mode: Annotated[Literal["auto", "extractive", "generative"], Field(
                description="extractive quotes the sources; generative lets the model write (checked).")] = "auto",
            strict: Annotated[bool | None, Field(
                description="Remove unsupported sentences instead of flagging them (default: the setting).")] = None,
            ) -> Annotated[CallToolResult, AskOutput]:
        """A source-grounded answer with numbered citations and a hallucination-check report. Abstains
        ('I could not find this in my sources.') when the sources do not support an answer."""
        out, _ = _call(lambda: services.ask(question, mode=mode, strict=strict))
        return _result(out, render.ask_markdown(out))

    @mcp.tool(title="Recommend tools", annotations=read_only)
    def recommend_tools(
            request: Annotated[str, Field(description="The task, e.g. 'segment nuclei in 3D without coding'.")],
            interface: Annotated[Literal["gui", "code", "any"], Field(
                description="gui: point-and-click; code: libraries and scripts.")] = "any",
            dims: Annotated[Literal["2d", "3d", "any"], Field(description="Image dimensionality.")] = "any",
            k: Annotated[int, Field(ge=1, le=20, description="Number of tools.")] = 5,
    ) -> Annotated[CallToolResult, ToolsOutput]:
        """Tools, plugins and pretrained models from BIII, the awesome list and the BioImage Model Zoo,
        ranked with reasons. Never invents tools: when nothing fits it says so."""
        from scopebot.tools.render import recommendation_markdown

        out, rec = _call(lambda: services.recommend(request, interface=interface, dims=dims, k=k))
        return _result(out, recommendation_markdown(rec))

    @mcp.tool(title="Run Python in the sandbox",
              annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False))
    def run_code(code: Annotated[str, Field(description="Python source. Input files are in the working folder.")],
                 files: Annotated[list[Upload] | None, Field(description="Files to upload (base64).")] = None,
                 paths: Annotated[list[str] | None, Field(
                     description="Files on this machine inside a folder the user allowed.")] = None,
                 timeout: Annotated[float | None, Field(gt=0, description="Wall-clock seconds.")] = None,
                 ) -> Annotated[CallToolResult, RunOutput]:
        """Run Python in scopebot's sandbox (separate process, resource limits, no network, private
        folder). Off unless the user started the server with --allow-code."""
        out = _call(lambda: services.run_code(code, uploads=files or [], paths=paths or [], timeout=timeout))
        return _result(out, render.run_markdown(out), out.figures)

    @mcp.tool(title="Write analysis code for an image",
              annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False))
    def analyse_image(
            request: Annotated[str, Field(description="The analysis, e.g. 'count the nuclei and measure area'.")],
            image_path: Annotated[str | None, Field(
                description="An image (TIFF, OME-TIFF, PNG, JPEG) inside a folder the user allowed.")] = None,
            image: Annotated[Upload | None, Field(description="Or the image uploaded as base64.")] = None,
            run: Annotated[bool, Field(
                description="Also run the code in the sandbox (needs --allow-code).")] = False,
    ) -> Annotated[CallToolResult, AnalysisOutput]:
        """scopebot's code assistant (as `scopebot code`): the request becomes a checked plan that compiles to
        Python reading the image from IMAGE_PATH. Without run, the plan and the code are returned with
        status 'not_run' and ok=false (nothing answered yet); with run=true the code runs in the sandbox
        and ok=true only when it printed every quantity the plan promised. Requests the plan cannot
        answer come back declined."""
        out = _call(lambda: services.analyse_image(request, image_path=image_path, upload=image, run=run))
        return _result(out, render.analysis_markdown(out), out.figures)

    @mcp.tool(title="Search the image.sc forum", annotations=ToolAnnotations(read_only_hint=True,
                                                                             open_world_hint=True))
    def forum_search(query: Annotated[str, Field(description="What to look for on forum.image.sc.")],
                     k: Annotated[int, Field(ge=1, le=20, description="Number of passages.")] = 5,
                     ) -> Annotated[CallToolResult, ForumOutput]:
        """Live search of the image.sc forum; topics come back as citable passages with author links.
        When the forum is unreachable, reachable=false and a message say so."""
        out = _call(lambda: services.forum_search(query, k=k))
        return _result(out, render.forum_markdown(out))

    # ------------------------------------------------------------------------- resources
    @mcp.resource(f"{SCHEME}://sources", name="sources", title="Indexed sources", mime_type="application/json",
                  description="The book, registries, Model Zoo and training sources in the index, with licenses.")
    def sources() -> str:
        return json.dumps(_resource(services.sources), ensure_ascii=False, indent=1)

    @mcp.resource(f"{SCHEME}://sources/{{source_id}}", name="source-contents", title="Contents of a source",
                  mime_type="application/json",
                  description="A source's sections (book chapters, registry entries) with the key of each.")
    def source_contents(source_id: str) -> str:
        return json.dumps(_resource(lambda: services.contents(source_id)), ensure_ascii=False, indent=1)

    @mcp.resource(f"{SCHEME}://passage/{{key}}", name="passage", title="A cited passage", mime_type="text/markdown",
                  description="The passage behind a citation key such as bk-3f9a2c1d, with its deep link.")
    def passage(key: str) -> str:
        c = _resource(lambda: services.passage(key))
        return (f"# {c.breadcrumb}\n\nkey: [{c.key}] · source: {c.source_id} ({c.kind})"
                + (f" · <{c.url}>" if c.url else "") + f"\n\n{c.body.strip()}\n")

    return mcp


def serve(services: ScopebotServices, transport: Literal["stdio", "http"] = "stdio", *,
          port: int = 8765, path: str = "/mcp") -> None:
    """Run the server until the client disconnects (stdio) or until interrupted (HTTP on 127.0.0.1)."""
    server = build_server(services)
    try:
        if transport == "stdio":
            server.run("stdio")
        else:
            print(f"scopebot MCP server on http://127.0.0.1:{port}{path} (streamable HTTP; Ctrl+C to stop)",
                  file=sys.stderr, flush=True)
            server.run("streamable-http", host="127.0.0.1", port=port, streamable_http_path=path)
    finally:
        services.close()
