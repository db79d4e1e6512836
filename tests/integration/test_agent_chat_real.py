"""`scopebot chat --json` on the real stack (the index in ~/.scopebot, MiniLM router, answer pipeline, recommender):
the round-17 conversations. Fails, never skips, when no index is built. The scripted chat backend keeps the
answers extractive; the test checks routes, kinds and what reached the recommender, never facts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from scopebot.settings import Settings

pytestmark = pytest.mark.integration


def _chat(lines: list[str]) -> tuple[int, list[dict[str, Any]]]:
    from scopebot.agent.factory import build_assistant
    from scopebot.cli import app
    from scopebot.index.builder import live_dir

    settings = Settings(llm_backend="scripted", answer_mode="extractive", allow_code_execution=False)
    if live_dir(settings) is None:
        pytest.fail(f"no index built in {settings.home}: run `scopebot ingest`", pytrace=False)
    result = CliRunner().invoke(app, ["chat", "--json"], input="\n".join(lines) + "\n",
                                obj={"create_assistant": lambda s, **kw: build_assistant(settings, **kw)})
    return result.exit_code, [json.loads(x) for x in result.output.splitlines() if x.strip().startswith("{")]


def test_round17_conversations_in_chat_json() -> None:
    code, out = _chat(["What is deconvolution and when should I use it?", "Does it work in 3D too?",
                       '{"text": "Which software would you recommend for it?", "route": "tool"}', "/reset",
                       "Which software would you recommend for it?", "/reset",
                       "What is the DeepBlobby3D plugin for napari good for?"])
    assert code == 0, out
    assert not [o for o in out if "error" in o], out
    first, second, software, _, alone, _, invented = out
    assert software["kind"] == "tools"
    request = next(s for s in software["trace"] if s["name"] == "recommend")["inputs"]["request"]
    assert "deconvolution" in request.lower()  # "it" is the conversation's topic
    assert alone["kind"] in ("clarification", "answer", "abstention"), alone  # a reply, never an error
    if alone["kind"] == "clarification":
        assert "nothing earlier in this conversation" in alone["markdown"]
    assert invented["kind"] == "abstention" and "DeepBlobby3D" in invented["markdown"], invented["markdown"][:300]
    assert not any(s["name"] == "recommend" for s in invented["trace"])  # no cards for an invented tool
