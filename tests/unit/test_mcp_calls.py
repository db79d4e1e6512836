"""MCP tool calls: undecodable text, unknown arguments, short validation errors, unexpected exceptions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp_client_helpers import with_client  # noqa: E402
from mcp_helpers import small_settings  # noqa: E402

from scopebot.mcp_server.services import ScopebotServices  # noqa: E402


@pytest.fixture
def services(tmp_path: Path) -> ScopebotServices:
    return ScopebotServices(small_settings(tmp_path))


def test_lone_surrogates_in_json_strings_are_replaced(services: ScopebotServices,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = services.search

    def search(query: str, **kw: Any) -> Any:
        seen.append(query)
        query.encode("utf-8")  # what the MiniLM tokenizer needs
        return real(query, **kw)

    monkeypatch.setattr(services, "search", search)
    out = with_client(services, lambda c: c.call_tool("search", {"query": "noise2void \udcff\ud800 denoising"}))
    assert not out.is_error, out.content[0].text
    assert seen == ["noise2void \ufffd\ufffd denoising"]


def test_unknown_arguments_are_refused_with_the_valid_ones(services: ScopebotServices) -> None:
    out = with_client(services, lambda c: c.call_tool("search", {"query": "otsu", "top_k": 3}))
    assert out.is_error
    text = out.content[0].text
    assert "'top_k'" in text and "How to fix: use only: query, k, kinds" in text


def test_validation_errors_are_short_and_without_the_pydantic_url(services: ScopebotServices) -> None:
    out = with_client(services, lambda c: c.call_tool("search", {"query": "otsu", "k": 0}))
    assert out.is_error
    text = out.content[0].text
    assert "errors.pydantic.dev" not in text and "For further information" not in text
    assert text.startswith("invalid arguments for search: k: Input should be greater than or equal to 1")
    assert len(text.splitlines()) == 2


def test_unexpected_exceptions_become_tool_errors_with_a_hint_and_one_log_line(
        services: ScopebotServices, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(*a: Any, **kw: Any) -> Any:
        raise IndexError("list index out of range")

    monkeypatch.setattr(services, "search", broken)
    with caplog.at_level(logging.INFO):
        out = with_client(services, lambda c: c.call_tool("search", {"query": "otsu"}))
    assert out.is_error
    text = out.content[0].text
    assert "IndexError: list index out of range" in text and "How to fix:" in text
    ours = [r for r in caplog.records if r.name == "scopebot.mcp"]
    assert len(ours) == 1 and ours[0].exc_info is None and "IndexError" in ours[0].getMessage()
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.WARNING)


def test_http_transport_prints_its_url_on_stderr(services: ScopebotServices, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from scopebot.mcp_server import server as server_mod

    started: list[tuple[Any, ...]] = []
    monkeypatch.setattr(server_mod.ScopebotMCPServer, "run", lambda self, *a, **kw: started.append((a, kw)))
    server_mod.serve(services, "http", port=8799, path="/mcp")
    assert started and started[0][0] == ("streamable-http",)
    assert "http://127.0.0.1:8799/mcp" in capsys.readouterr().err


def test_corrupt_tiff_gives_a_message_and_a_hint_not_a_bare_tool_error(services: ScopebotServices,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    import base64

    data = b"II*\x00" + (0xFFFFFFFF).to_bytes(4, "little") + bytes(496)  # first page far past the end
    image = {"name": "corrupt.tif", "content_base64": base64.b64encode(data).decode()}
    with caplog.at_level(logging.WARNING):
        out = with_client(services, lambda c: c.call_tool("analyse_image", {"request": "count the nuclei",
                                                                            "image": image}))
    assert out.is_error
    text = out.content[0].text
    assert "truncated or corrupt" in text and "How to fix:" in text
    assert not any(r.exc_info for r in caplog.records)
    assert not any("invalid offset" in r.getMessage() for r in caplog.records)
