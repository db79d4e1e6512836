"""scopebot's capabilities as plain calls for outside clients: the MCP server and the Jupyter magic.

:class:`ScopebotServices` wraps the product's own components (the knowledge base, the answer
pipeline, the tool recommender, the sandbox, the code assistant and the live forum search), builds
each one on first use, and returns the typed results of :mod:`scopebot.mcp_server.models`. Errors
are scopebot's own (:class:`ConfigurationError` / :class:`ScopebotRuntimeError`, with a ``hint``);
the caller decides how to show them.

Two policies live here because every outside client needs them:

* **running code** (``run_code``, and running ``analyse_image``'s code) is refused unless
  ``allow_code`` is on (``SCOPEBOT_MCP_ALLOW_CODE`` or ``scopebot mcp --allow-code``);
* **files** come either as uploads (base64, written to a private folder) or as paths inside a
  folder the user allowed (``SCOPEBOT_MCP_ALLOWED_PATHS`` or ``--allow-path``), resolved with
  symlinks followed, so ``../`` and links cannot reach anything else.
"""

from __future__ import annotations

import base64
import binascii
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, Field

from scopebot.errors import ConfigurationError
from scopebot.mcp_server.models import (
    AnalysisOutput,
    AskOutput,
    CitationOut,
    ForumOutput,
    Passage,
    RunOutput,
    SearchOutput,
    ToolsOutput,
    passage_uri,
)

if TYPE_CHECKING:
    from scopebot.answer.models import Answer, Citation
    from scopebot.index.models import Chunk, SearchResult
    from scopebot.llm.base import ChatModel
    from scopebot.settings import Settings
    from scopebot.tools.models import Recommendation

T = TypeVar("T")
ALLOW_CODE_HINT = ("start the server with `scopebot mcp --allow-code` or set SCOPEBOT_MCP_ALLOW_CODE=true "
                   "(code always runs in scopebot's sandbox)")
ALLOW_PATH_HINT = ("upload the file instead, or allow its folder with `scopebot mcp --allow-path DIR` "
                   "(or SCOPEBOT_MCP_ALLOWED_PATHS='[\"DIR\"]')")


class Upload(BaseModel):
    """A file sent by the client, copied into the run's working folder under ``name``."""

    name: str = Field(description="File name inside the working folder, e.g. 'cells.tif' (no folders).")
    content_base64: str = Field(description="The file's bytes, base64-encoded.")


def _passage(result: SearchResult, max_chars: int | None = None) -> Passage:
    c = result.chunk
    text = c.body if max_chars is None or len(c.body) <= max_chars else c.body[:max_chars].rstrip() + " …"
    return Passage(key=c.key, title=c.title, section=c.section, breadcrumb=c.breadcrumb, url=c.url,
                   source=c.source_id, kind=c.kind, score=round(result.score, 6), text=text,
                   resource_uri=passage_uri(c.key))


def _citation(c: Citation) -> CitationOut:
    return CitationOut(n=c.n, key=c.key, title=c.title, section=c.section, url=c.url, source=c.source_id,
                       part=c.part, resource_uri=passage_uri(c.key))


def ask_output(answer: Answer) -> AskOutput:
    """The typed result of ``ask`` for one :class:`~scopebot.answer.models.Answer`."""
    return AskOutput(question=answer.question, answer=answer.answer, abstained=answer.abstained,
                     abstain_reason=answer.abstain_reason, citations=[_citation(c) for c in answer.citations],
                     closest_sources=[_citation(c) for c in answer.closest_sources], checks=answer.checks,
                     check_summary=answer.checks.badge(), backend=answer.backend, mode=answer.mode)


def tools_output(rec: Recommendation) -> ToolsOutput:
    return ToolsOutput(query=rec.query, message=rec.message, nothing_fits=rec.nothing_fits,
                       results=rec.results, nearest=rec.nearest)


def safe_name(name: str) -> str:
    """A plain file name (no folders, no leading dot), or a usage error."""
    clean = (name or "").strip()
    if not clean or clean != Path(clean).name or clean.startswith(".") or "\\" in clean or "\x00" in clean:
        raise ConfigurationError(f"invalid upload file name {name!r}",
                                 hint="use a plain file name such as 'cells.tif' (no folders, no leading dot)")
    return clean


class ScopebotServices:
    """search / ask / recommend / run_code / analyse_image / forum_search over the real components.

    Components are built lazily and shared; calls that use the chat model or the sandbox are
    serialised (llama.cpp is not thread-safe). Pass ``model`` to inject a chat model (tests use the
    scripted one); by default it comes from :func:`scopebot.llm.make_chat_model`.
    """

    def __init__(self, settings: Settings, *, model: ChatModel | None = None, allow_code: bool | None = None,
                 allowed_paths: Sequence[Path] | None = None) -> None:
        self.settings = settings
        self.allow_code = settings.mcp_allow_code if allow_code is None else allow_code
        paths = settings.mcp_allowed_paths if allowed_paths is None else allowed_paths
        self.allowed_paths = [Path(p).expanduser().resolve() for p in paths]
        self._model = model
        self._parts: dict[str, Any] = {}
        self._build_lock = threading.RLock()  # factories may build their parts
        self._run_lock = threading.Lock()

    # ---------------------------------------------------------------- lazy components
    def _get(self, name: str, factory: Callable[[], T]) -> T:
        with self._build_lock:
            if name not in self._parts:
                self._parts[name] = factory()
            return self._parts[name]  # type: ignore[no-any-return]

    @property
    def kb(self) -> Any:
        """The live knowledge base (raises MissingIndexError with a hint when none was built)."""
        from scopebot.index.embed_worker import server_embedder
        from scopebot.knowledge import KnowledgeBase

        return self._get("kb", lambda: KnowledgeBase.open(self.settings, embedder=server_embedder(self.settings)))

    @property
    def model(self) -> ChatModel:
        def build() -> ChatModel:
            if self._model is not None:
                return self._model
            from scopebot.llm import make_chat_model

            return make_chat_model(self.settings)

        return self._get("model", build)

    @property
    def pipeline(self) -> Any:
        def build() -> Any:
            from scopebot.answer.factory import build_answer_pipeline

            return build_answer_pipeline(self.settings, kb=self.kb, model=self.model)

        return self._get("pipeline", build)

    @property
    def recommender(self) -> Any:
        from scopebot.tools.factory import build_recommender

        kb = self.kb
        # the answer route's name check, on the pipeline that `ask` uses (built on the first check)
        return self._get("recommender", lambda: build_recommender(
            self.settings, kb, name_check=lambda text: self.pipeline.unknown_names(text)))

    @property
    def sandbox(self) -> Any:
        from scopebot.sandbox.runner import Sandbox

        # one warm worker (runs are serialised here): a long-lived server or kernel forks each run from a
        # template that already imported the scientific stack (SCOPEBOT_SANDBOX_WORKERS=0: cold runs)
        workers = min(1, self.settings.sandbox_workers)
        return self._get("sandbox", lambda: Sandbox.from_settings(self.settings, output_dir=self.settings.home / "runs",
                                                                  workers=workers))

    def close(self) -> None:
        """Stop the sandbox (if one was started)."""
        sandbox = self._parts.pop("sandbox", None)
        if sandbox is not None:
            sandbox.close()

    # ---------------------------------------------------------------- knowledge
    def search(self, query: str, k: int = 5, kinds: Sequence[str] | None = None) -> SearchOutput:
        """Hybrid search over the index: passages with citation keys, titles and deep links."""
        if not 1 <= k <= 50:
            raise ConfigurationError(f"k must be between 1 and 50, not {k}", hint="ask for e.g. k=5 passages")
        hits = self.kb.search(query, k=k, kinds=list(kinds) if kinds else None)
        return SearchOutput(query=query, kinds=list(kinds or []), results=[_passage(h) for h in hits])

    def ask(self, question: str, *, mode: str | None = None, strict: bool | None = None,
            k: int | None = None) -> tuple[AskOutput, Answer]:
        """The grounded answer with its check report (an abstention when the sources do not say)."""
        if not question.strip():
            raise ConfigurationError("The question is empty", hint='ask e.g. "How does Otsu thresholding work?"')
        if mode is not None and mode not in ("auto", "extractive", "generative"):
            raise ConfigurationError(f"Unknown answer mode {mode!r}", hint="use extractive, generative or auto")
        pipeline = self.pipeline
        with self._run_lock:
            answer = pipeline.answer(question, mode=mode, strict=strict, k=k)
        return ask_output(answer), answer

    def recommend(self, request: str, *, interface: str = "any", dims: str = "any",
                  k: int = 5) -> tuple[ToolsOutput, Recommendation]:
        """Ranked tools and Model Zoo models from the registries in the index."""
        rec = self.recommender.recommend(request, interface=interface, dims=dims, k=k)
        return tools_output(rec), rec

    def passage(self, key: str) -> Chunk:
        """One indexed passage by citation key."""
        chunk = self.kb.get(key.strip())
        if chunk is None:
            raise ConfigurationError(f"No passage with the key {key!r} in the index",
                                     hint="use a key returned by search or ask, e.g. bk-3f9a2c1d")
        return chunk

    def sources(self) -> list[dict[str, Any]]:
        """The indexed sources: id, title, kind, license, revision and counts (from the index manifest)."""
        return [{"id": s.id, "title": s.title, "kind": s.kind, "license": s.license, "revision": s.revision,
                 "sections": s.sections, "chunks": s.chunks, "status": s.status}
                for s in self.kb.manifest.sources.values()]

    def contents(self, source_id: str) -> list[dict[str, str]]:
        """A source's sections in index order: the first passage's key, title, section and deep link."""
        if source_id not in self.kb.manifest.sources:
            raise ConfigurationError(f"Unknown source {source_id!r}",
                                     hint=f"use one of: {', '.join(sorted(self.kb.manifest.sources))}")
        seen: set[tuple[str, str]] = set()
        out: list[dict[str, str]] = []
        for c in self.kb.iter_chunks():
            if c.source_id != source_id or (c.url, c.breadcrumb) in seen:
                continue
            seen.add((c.url, c.breadcrumb))
            out.append({"key": c.key, "title": c.title, "section": c.section, "breadcrumb": c.breadcrumb,
                        "url": c.url, "resource_uri": passage_uri(c.key)})
        return out

    # ---------------------------------------------------------------- forum
    def forum_search(self, query: str, k: int = 5) -> ForumOutput:
        """Live image.sc search; an unreachable forum is an outcome (``reachable=False``), not an error."""
        from scopebot.forum.live import LiveForumSearch

        if not query.strip():
            raise ConfigurationError("The forum query is empty", hint='search e.g. "stardist 3D training"')
        forum = self._get("forum", lambda: LiveForumSearch.from_settings(self.settings))
        if forum is None:
            raise ConfigurationError("Live forum search is off", hint="set SCOPEBOT_FORUM_LIVE=true")
        outcome = forum.try_search(query, k=k)
        return ForumOutput(query=query, reachable=outcome.reachable, message=outcome.message,
                           results=[_passage(r) for r in outcome.results])

    # ---------------------------------------------------------------- files
    def allowed_file(self, path: str | Path) -> Path:
        """``path`` resolved (symlinks followed), if it is a file inside an allowed folder."""
        if not self.allowed_paths:
            raise ConfigurationError(f"Reading {path} is not allowed: no folder was allowed", hint=ALLOW_PATH_HINT)
        try:
            real = Path(path).expanduser().resolve(strict=True)
        except (OSError, RuntimeError):
            raise ConfigurationError(f"file not found: {path}", hint="check the path") from None
        if not any(real.is_relative_to(root) for root in self.allowed_paths):
            raise ConfigurationError(f"{path} is outside the allowed folders", hint=ALLOW_PATH_HINT)
        if real.is_dir():
            raise ConfigurationError(f"{path} is a folder, not a file", hint="pass one file inside it")
        if not real.is_file():
            raise ConfigurationError(f"not a regular file: {path}", hint="pass a file")
        return real

    def _write_uploads(self, uploads: Sequence[Upload], folder: Path) -> dict[str, Path]:
        limit = self.settings.mcp_max_upload_mb * 1024 * 1024
        out: dict[str, Path] = {}
        for up in uploads:
            name = safe_name(up.name)
            if len(up.content_base64) > limit * 4 // 3 + 4:
                raise ConfigurationError(f"upload {name} is larger than {self.settings.mcp_max_upload_mb} MiB",
                                         hint="raise SCOPEBOT_MCP_MAX_UPLOAD_MB or crop the file")
            try:
                data = base64.b64decode(up.content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise ConfigurationError(f"upload {name} is not valid base64",
                                         hint="send the file's bytes base64-encoded") from None
            target = folder / name
            target.write_bytes(data)
            out[name] = target
        return out

    def _inputs(self, uploads: Sequence[Upload], paths: Sequence[str], folder: Path) -> dict[str, Path]:
        files = self._write_uploads(uploads, folder)
        for p in paths:
            real = self.allowed_file(p)
            if real.name in files:
                raise ConfigurationError(f"two input files are named {real.name}", hint="rename one upload")
            files[real.name] = real
        return files

    def _require_code(self, what: str) -> None:
        if not self.allow_code:
            raise ConfigurationError(f"{what} is off for MCP clients", hint=ALLOW_CODE_HINT)

    # ---------------------------------------------------------------- code
    def run_code(self, code: str, *, uploads: Sequence[Upload] = (), paths: Sequence[str] = (),
                 timeout: float | None = None) -> RunOutput:
        """Run ``code`` in the sandbox with the given files in its working folder (only when allowed)."""
        self._require_code("Running code")
        if not code.strip():
            raise ConfigurationError("The code is empty", hint="send the Python source to run")
        if timeout is not None and not 0 < timeout <= self.settings.sandbox_timeout:
            raise ConfigurationError(f"timeout must be in (0, {self.settings.sandbox_timeout}] seconds",
                                     hint="raise SCOPEBOT_SANDBOX_TIMEOUT for longer runs")
        folder = Path(tempfile.mkdtemp(prefix="scopebot-mcp-"))
        try:
            files = self._inputs(uploads, paths, folder)
            sandbox = self.sandbox
            with self._run_lock:
                result = sandbox.run(code, files=files, timeout=timeout)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        data = result.model_dump(include=set(RunOutput.model_fields))
        return RunOutput(**data, inputs=sorted(files))

    def analyse_image(self, request: str, *, image_path: str | None = None, upload: Upload | None = None,
                      run: bool = False) -> AnalysisOutput:
        """The code assistant's plan and code for an image; run in the sandbox (and checked) only when ``run``."""
        from scopebot.imagefiles import checked_image

        if not request.strip():
            raise ConfigurationError("The request is empty", hint='describe the analysis, e.g. "count the nuclei"')
        if run:
            self._require_code("Running the analysis code")
        if image_path is not None and upload is not None:
            raise ConfigurationError("pass either image_path or image, not both", hint="send one image")
        folder = Path(tempfile.mkdtemp(prefix="scopebot-mcp-"))
        try:
            raw: Path | None = None
            if upload is not None:
                raw = self._write_uploads([upload], folder)[safe_name(upload.name)]
            elif image_path is not None:
                raw = self.allowed_file(image_path)
            notes: list[str] = []
            image = checked_image(raw, folder / "converted", notes=notes) if raw is not None else None
            return self.analyse(request, image, run=run, notes=notes)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def analyse(self, request: str, image: Path | None, *, run: bool, notes: Sequence[str] = (),
                image_info: dict[str, Any] | None = None) -> AnalysisOutput:
        """Plan -> compile -> (run -> check) with the product's code assistant, as ``scopebot code`` does.

        Without ``run`` nothing runs: the result shows the code a run would run, with ``ok=False`` and
        the status ``not_run``. ``image`` must be a checked file (:func:`scopebot.imagefiles.checked_image`).
        """
        from scopebot.agent.ports import BasicImageInspector
        from scopebot.mcp_server.planning import analysis_output, plan_without_running

        info = image_info if image_info is not None else (BasicImageInspector().inspect(image) if image else {})
        if run:
            coder = self.code_assistant()
            with self._run_lock:
                result = coder.run(request, image)
        else:
            planner = self.plan_assistant()
            with self._run_lock:
                result = plan_without_running(planner, request, image)
        result.notes = [*notes, *result.notes]
        return analysis_output(result, info)

    def code_assistant(self) -> Any:
        """The product's code assistant over this service's model, sandbox and knowledge base."""
        from scopebot.code.assistant import CodeAssistant

        model, sandbox, kb = self.model, self.sandbox, self.optional_kb()
        return self._get("coder", lambda: CodeAssistant(model, sandbox, kb, prompts_dir=self.settings.prompts_dir,
                                                        max_rounds=self.settings.code_repair_rounds))

    def plan_assistant(self) -> Any:
        """The same code assistant over a sandbox that runs nothing (plan and code only; no sandbox started)."""
        from scopebot.code.assistant import CodeAssistant
        from scopebot.mcp_server.planning import PlanOnlySandbox

        model, kb = self.model, self.optional_kb()
        return self._get("planner", lambda: CodeAssistant(model, PlanOnlySandbox(), kb,  # type: ignore[arg-type]
                                                          prompts_dir=self.settings.prompts_dir,
                                                          max_rounds=self.settings.code_repair_rounds))

    def optional_kb(self) -> Any:
        from scopebot.errors import MissingIndexError

        try:
            return self.kb
        except MissingIndexError:
            return None
