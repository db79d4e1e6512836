"""The MCP server through the SDK's own client, connected in process, on a small invented index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp", reason="the scopebot[mcp] extra is not installed")

from mcp import Client  # noqa: E402
from mcp_client_helpers import with_client  # noqa: E402
from mcp_helpers import small_settings  # noqa: E402

from scopebot.mcp_server.services import ScopebotServices  # noqa: E402

TOOLS = {"search", "ask", "recommend_tools", "run_code", "analyse_image", "forum_search"}


@pytest.fixture
def services(tmp_path: Path) -> ScopebotServices:
    return ScopebotServices(small_settings(tmp_path))


def test_tools_have_input_and_output_schemas(services: ScopebotServices) -> None:
    listed = with_client(services, lambda c: c.list_tools()).tools
    assert {t.name for t in listed} == TOOLS
    by_name = {t.name: t for t in listed}
    for tool in listed:
        assert tool.description and tool.input_schema["type"] == "object"
        assert tool.output_schema and tool.output_schema["type"] == "object"
    assert by_name["search"].input_schema["required"] == ["query"]
    assert by_name["ask"].input_schema["properties"]["mode"]["enum"] == ["auto", "extractive", "generative"]
    assert {"answer", "abstained", "citations", "checks"} <= set(by_name["ask"].output_schema["properties"])
    assert by_name["recommend_tools"].input_schema["properties"]["dims"]["enum"] == ["2d", "3d", "any"]


def test_search_and_ask_return_text_and_structured_content(services: ScopebotServices) -> None:
    async def body(c: Client) -> tuple[Any, Any]:
        return (await c.call_tool("search", {"query": "noise2void", "k": 2}),
                await c.call_tool("ask", {"question": "How does Noise2Void work without clean images?"}))

    search, ask = with_client(services, body)
    assert not search.is_error and search.structured_content["results"][0]["key"].startswith("bk-")
    assert "Denoising" in search.content[0].text
    assert not ask.is_error and not ask.structured_content["abstained"]
    cite = ask.structured_content["citations"][0]
    assert cite["url"] and cite["resource_uri"] == f"scopebot://passage/{cite['key']}"
    assert "**Check report:**" in ask.content[0].text


def test_errors_are_tool_errors_with_the_cli_hint(services: ScopebotServices) -> None:
    async def body(c: Client) -> list[Any]:
        return [await c.call_tool("run_code", {"code": "print(1)"}),
                await c.call_tool("search", {"query": "   "}),
                await c.call_tool("search", {"query": "x", "k": 99}),
                await c.call_tool("forum_search", {"query": "stardist"})]

    run, empty, bad_k, forum = with_client(services, body)
    assert run.is_error and "How to fix: start the server with `scopebot mcp --allow-code`" in run.content[0].text
    assert empty.is_error and "How to fix:" in empty.content[0].text
    assert bad_k.is_error  # rejected by the input schema
    assert forum.is_error and "SCOPEBOT_FORUM_LIVE" in forum.content[0].text  # forum_live is off here


def test_resources_open_a_cited_passage(services: ScopebotServices) -> None:
    async def body(c: Client) -> tuple[Any, Any, Any]:
        ask = await c.call_tool("ask", {"question": "What does deconvolution reverse?"})
        uri = ask.structured_content["citations"][0]["resource_uri"]
        return ask, await c.read_resource(uri), await c.read_resource("scopebot://sources")

    ask, passage, sources = with_client(services, body)
    key = ask.structured_content["citations"][0]["key"]
    assert f"[{key}]" in passage.contents[0].text and "point spread function" in passage.contents[0].text
    assert {s["id"] for s in json.loads(sources.contents[0].text)} == {"testbook", "biii"}


def test_cli_refuses_an_allowed_path_that_is_not_a_folder(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from scopebot.cli import app

    result = CliRunner().invoke(app, ["mcp", "--allow-path", str(tmp_path / "missing")],
                                env={"SCOPEBOT_HOME": str(tmp_path / "home")})
    assert result.exit_code == 2
    assert "allowed path is not a folder" in result.output and "How to fix" in result.output


def test_tools_are_listed_before_any_index_exists(tmp_path: Path) -> None:
    from scopebot.settings import Settings

    services = ScopebotServices(Settings(home=tmp_path / "fresh", embedding_model="hash"))
    assert {t.name for t in with_client(services, lambda c: c.list_tools()).tools} == TOOLS
    assert not (tmp_path / "fresh").exists()  # listing opened nothing
