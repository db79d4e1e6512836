"""``scopebot mcp`` over stdio, driven by the MCP SDK's own client, on the real index in the home.

The server is spawned exactly as a desktop chat app or editor assistant would start it (the
``scopebot`` console script with the argument ``mcp``). Every tool is called once in one session;
the tests then check the schemas, cited search results for "noise2void", a cited answer, an
abstention for an invented Fiji plugin, and that running code is refused by default.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from async_helpers import run_coroutine  # noqa: E402

from scopebot.citations import KEY_PATTERN, NOT_IN_SOURCES
from scopebot.settings import Settings

pytestmark = pytest.mark.integration
mcp = pytest.importorskip("mcp", reason="the scopebot[mcp] extra is not installed")

TOOLS = {"search", "ask", "recommend_tools", "run_code", "analyse_image", "forum_search"}
INVENTED = "How do I configure the Fiji plugin NucleoQuantifierPro-X9 for mitochondria?"


def server_env() -> dict[str, str]:
    keep = ("SCOPEBOT_", "HF_", "TRANSFORMERS_OFFLINE", "ANONYMIZED_TELEMETRY", "OPENAI_API_KEY")
    return {k: v for k, v in os.environ.items() if k.startswith(keep)}


def scopebot_command() -> str:
    exe = shutil.which("scopebot") or str(Path(sys.executable).parent / "scopebot")
    assert Path(exe).exists(), "the scopebot console script is not installed (pip install -e '.[dev]')"
    return exe


@pytest.fixture(scope="module")
def session() -> dict[str, Any]:
    from mcp import Client, StdioServerParameters

    from scopebot.index.builder import live_dir

    settings = Settings()
    if live_dir(settings) is None:
        pytest.fail(f"no index in {settings.home}: build it with `scopebot ingest` before the integration tests")
    params = StdioServerParameters(command=scopebot_command(), args=["mcp"], env=server_env())

    async def main() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Client(params, read_timeout_seconds=300) as client:
            out["server"] = client.server_info
            out["tools"] = (await client.list_tools()).tools
            out["templates"] = (await client.list_resource_templates()).resource_templates
            out["search"] = await client.call_tool("search", {"query": "noise2void", "k": 5})
            out["ask"] = await client.call_tool("ask", {"question": "How does Noise2Void denoise images "
                                                                    "without clean ground truth?"})
            out["invented"] = await client.call_tool("ask", {"question": INVENTED})
            out["tools_call"] = await client.call_tool("recommend_tools", {
                "request": "segment nuclei in 3D fluorescence stacks without coding", "interface": "gui"})
            out["run_code"] = await client.call_tool("run_code", {"code": "print('hi')"})
            out["analyse"] = await client.call_tool("analyse_image", {"request": "count the nuclei"})
            out["forum"] = await client.call_tool("forum_search", {"query": "stardist training", "k": 3})
            key = out["search"].structured_content["results"][0]["key"]
            out["passage"] = await client.read_resource(f"scopebot://passage/{key}")
        return out

    return run_coroutine(main)


def test_lists_the_tools_with_schemas(session: dict[str, Any]) -> None:
    assert session["server"].name == "scopebot"
    tools = {t.name: t for t in session["tools"]}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.input_schema["type"] == "object" and tool.input_schema.get("required")
        assert tool.output_schema and tool.output_schema["type"] == "object"
    assert {t.uri_template for t in session["templates"]} == {"scopebot://passage/{key}",
                                                               "scopebot://sources/{source_id}"}


def test_search_noise2void_is_cited(session: dict[str, Any]) -> None:
    import re

    result = session["search"]
    assert not result.is_error
    hits = result.structured_content["results"]
    assert len(hits) == 5
    for hit in hits:
        assert re.fullmatch(KEY_PATTERN, hit["key"]) and hit["title"] and hit["url"].startswith("http")
    assert any("noise2void" in (h["text"] + h["title"] + h["section"]).lower().replace(" ", "") for h in hits[:3])
    assert f"[{hits[0]['key']}]" in result.content[0].text
    passage = session["passage"].contents[0].text
    assert f"[{hits[0]['key']}]" in passage and hits[0]["url"] in passage


def test_ask_returns_a_cited_answer_with_checks(session: dict[str, Any]) -> None:
    data = session["ask"].structured_content
    assert not session["ask"].is_error and not data["abstained"], data["answer"]
    assert data["citations"] and all(c["url"] and c["key"] for c in data["citations"])
    assert "[1]" in data["answer"] and data["checks"]["invalid_citations"] == 0
    assert "**Check report:**" in session["ask"].content[0].text


def test_invented_fiji_plugin_abstains(session: dict[str, Any]) -> None:
    data = session["invented"].structured_content
    assert data["abstained"] and data["answer"].startswith(NOT_IN_SOURCES)
    assert not data["citations"]


def test_recommend_analyse_and_forum_work_and_code_is_refused(session: dict[str, Any]) -> None:
    tools = session["tools_call"].structured_content
    assert not tools["nothing_fits"] and tools["results"] and all(r["links"] for r in tools["results"])
    run = session["run_code"]
    assert run.is_error and "--allow-code" in run.content[0].text
    analyse = session["analyse"].structured_content
    assert analyse["code"] and not analyse["ran"] and "IMAGE_PATH" in analyse["code"]
    forum = session["forum"]
    assert not forum.is_error
    if forum.structured_content["reachable"]:
        assert all(r["key"].startswith("fm-") and r["url"] for r in forum.structured_content["results"])
    else:
        assert "not reachable" in forum.structured_content["message"]


def test_fresh_home_lists_tools_and_errors_carry_the_cli_hint(tmp_path: Path) -> None:
    """Before any index is built the server still starts and lists its tools; a search says how to fix it."""
    from mcp import Client, StdioServerParameters

    env = {**server_env(), "SCOPEBOT_HOME": str(tmp_path / "fresh-home")}
    params = StdioServerParameters(command=scopebot_command(), args=["mcp"], env=env)

    async def main() -> tuple[Any, Any]:
        async with Client(params, read_timeout_seconds=120) as client:
            return (await client.list_tools()).tools, await client.call_tool("search", {"query": "noise2void"})

    tools, search = run_coroutine(main)
    assert {t.name for t in tools} == TOOLS
    assert search.is_error
    assert "No index found" in search.content[0].text and "How to fix: build it with `scopebot ingest`" in \
        search.content[0].text
    assert not (tmp_path / "fresh-home" / "index").exists()
