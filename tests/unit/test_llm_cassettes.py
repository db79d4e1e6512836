"""The OpenAI-compatible backend over real HTTP, replayed from vcrpy cassettes (no server, no key).

The cassettes in ``tests/cassettes/llm/`` were recorded against llama-cpp-python's OpenAI-compatible
server running the embedded SmolLM2 GGUF on 127.0.0.1:8765. By default the tests only replay
(``record_mode="none"``): any request that is not in a cassette fails, so CI needs neither a server
nor a secret. The key is a fixed dummy and ``Authorization``-type headers are filtered out.

Re-recording (needs ``pip install 'llama-cpp-python[server]'``, i.e. fastapi, sse-starlette,
starlette-context)::

    rm tests/cassettes/llm/*.yaml            # or SCOPEBOT_VCR_RECORD=all to overwrite
    VCR_RECORD=1 python -m pytest tests/unit/test_llm_cassettes.py -q

(``SCOPEBOT_VCR_RECORD`` works too where the test set-up does not clear ``SCOPEBOT_*`` variables.)
With the variable set, the module starts the server itself (unless one already answers on
port 8765) with the fixed model alias below, so the recorded URLs and bodies match on replay.
Assertions are about structure (text arrives, tool calls parse), never about facts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scopebot.llm import ContextOverflowError, Message, ToolSpec
from scopebot.llm.openai_compat import OpenAICompatibleModel

vcr = pytest.importorskip("vcr")

PORT = 8765
BASE_URL = f"http://127.0.0.1:{PORT}/v1"
LONG_PORT = 8766
MODEL = "smollm2-135m"
CASSETTES = Path(__file__).resolve().parents[1] / "cassettes" / "llm"
FILTERED_HEADERS = ["authorization", "api-key", "x-api-key", "openai-organization", "openai-project"]
# tests/conftest.py clears SCOPEBOT_* variables, so VCR_RECORD is accepted as well.
RECORD = (os.environ.get("SCOPEBOT_VCR_RECORD") or os.environ.get("VCR_RECORD") or "").strip().lower()
RECORD_MODE = {"": "none", "0": "none", "1": "once", "once": "once", "all": "all"}.get(RECORD, "none")

SEARCH = ToolSpec(name="search_docs", description="Search the microscopy documentation for a query",
                  parameters={"type": "object", "properties": {"query": {"type": "string"}},
                              "required": ["query"]})
TOOL_MESSAGES = [Message(role="system", content="You can call the search_docs tool."),
                 Message(role="user", content="Use the search_docs tool to search for deconvolution.")]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _serve(port: int, n_ctx: int) -> Iterator[None]:
    """When recording, make sure llama.cpp's server runs on ``port``; when replaying, nothing."""
    if RECORD_MODE == "none" or _port_open(port):
        yield
        return
    from scopebot.llm.embedded import default_gguf_path

    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(default_gguf_path()),
         "--model_alias", MODEL, "--chat_format", "chatml-function-calling", "--host", "127.0.0.1",
         "--port", str(port), "--n_threads", "1", "--n_ctx", str(n_ctx), "--seed", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not _port_open(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("llama.cpp server did not start (pip install 'llama-cpp-python[server]')")
            time.sleep(0.5)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server() -> Iterator[None]:
    yield from _serve(PORT, 2048)


@pytest.fixture(scope="module")
def long_server() -> Iterator[None]:
    """A second server with room for the plan prompt (the plan's JSON schema alone is ~6k tokens)."""
    yield from _serve(LONG_PORT, 8192)


@pytest.fixture
def cassette(request: pytest.FixtureRequest, server: None) -> Iterator[object]:
    """A cassette named after the test; replay-only unless SCOPEBOT_VCR_RECORD is set."""
    recorder = vcr.VCR(cassette_library_dir=str(CASSETTES), record_mode=RECORD_MODE,
                       match_on=["method", "scheme", "host", "port", "path", "query", "body"],
                       filter_headers=FILTERED_HEADERS, decode_compressed_response=True)
    with recorder.use_cassette(f"{request.node.name}.yaml") as tape:
        yield tape


def make_model(base_url: str = BASE_URL, **kwargs: object) -> OpenAICompatibleModel:
    # No key on purpose: the dummy key is sent, and filtered from the cassette anyway.
    return OpenAICompatibleModel(base_url, kwargs.pop("model", MODEL), None, max_retries=0,  # type: ignore[arg-type]
                                 timeout=120, **kwargs)  # type: ignore[arg-type]


def test_plain_completion(cassette: object) -> None:
    reply = make_model().complete([Message(role="user", content="Say hello in five words.")], max_tokens=16)
    assert reply.text.strip() and reply.finish_reason in ("stop", "length") and reply.tool_calls == []


def test_streamed_completion_arrives_in_pieces_and_honours_stop(cassette: object) -> None:
    deltas = list(make_model().stream(
        [Message(role="user", content="Name three microscope parts, separated by commas.")],
        max_tokens=32, stop=["\n"]))
    pieces = [d.text for d in deltas if d.text]
    assert len(pieces) >= 2, "a stream should deliver more than one piece"
    assert "\n" not in "".join(pieces)
    assert deltas[-1].finish_reason in ("stop", "length") and not deltas[-1].text


def test_model_is_discovered_when_unset(cassette: object) -> None:
    model = make_model(model=None)
    assert model.list_models() == [MODEL]
    assert model.complete([Message(role="user", content="Hi")], max_tokens=4).text
    assert model.name == f"openai:{MODEL}"


def test_tool_call_is_parsed(cassette: object) -> None:
    reply = make_model().complete(TOOL_MESSAGES, tools=[SEARCH], max_tokens=48)
    assert reply.finish_reason == "tool_calls" and len(reply.tool_calls) == 1
    call = reply.tool_calls[0]
    assert call.name == "search_docs" and call.id
    assert isinstance(call.arguments.get("query"), str) and call.arguments["query"]


def test_forced_tool_call_is_assembled_from_a_stream(cassette: object) -> None:
    model = make_model(tool_choice={"type": "function", "function": {"name": "search_docs"}})
    deltas = list(model.stream(TOOL_MESSAGES, tools=[SEARCH], max_tokens=48))
    final = deltas[-1]
    assert final.finish_reason == "tool_calls"
    assert [c.name for c in final.tool_calls] == ["search_docs"]
    assert isinstance(final.tool_calls[0].arguments.get("query"), str)


def test_streaming_with_auto_tools_falls_back_to_a_plain_request(cassette: object) -> None:
    # llama-cpp-python's server cannot stream with tool_choice="auto": it sends 200 and an empty body.
    deltas = list(make_model().stream(TOOL_MESSAGES, tools=[SEARCH], max_tokens=48))
    assert [c.name for c in deltas[-1].tool_calls] == ["search_docs"]
    assert len(cassette.requests) == 2  # type: ignore[attr-defined]


def test_context_overflow_over_http(cassette: object) -> None:
    long_question = "Describe the optics of a widefield microscope in detail. " * 300
    with pytest.raises(ContextOverflowError) as info:
        make_model().complete([Message(role="user", content=long_question)], max_tokens=16)
    assert "context" in info.value.message and "SCOPEBOT_LLM_CONTEXT" in info.value.hint


def test_cassettes_hold_no_credentials() -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert len(files) >= 7, "cassettes are missing: re-record them (see the module docstring)"
    for path in files:
        text = path.read_text(encoding="utf-8").lower()
        assert "authorization" not in text and "sk-no-key-required" not in text, path.name


def test_plan_arrives_as_structured_output(long_server: None, request: pytest.FixtureRequest) -> None:
    """The code planner's JSON schema goes out as ``response_format``; llama-cpp-python's server refuses
    OpenAI's ``json_schema`` form, so the backend moves on to ``json_object`` + schema (grammar-constrained
    decoding). Structure only: the reply validates as a plan, whatever the tiny model put in it.

    Replayed in order on method and path, not on the body: the prompt holds the plan's schema, which
    grows with the plan vocabulary; the bodies actually sent are checked below instead."""
    from scopebot.code.model_plan import model_plan
    from scopebot.code.plan import ImageMeta

    recorder = vcr.VCR(cassette_library_dir=str(CASSETTES), record_mode=RECORD_MODE,
                       match_on=["method", "scheme", "host", "port", "path"],
                       filter_headers=FILTERED_HEADERS, decode_compressed_response=True)
    sent: list[dict] = []
    model = make_model(f"http://127.0.0.1:{LONG_PORT}/v1")
    model._client = model._client.with_options(timeout=900)  # recording: a 7k-token prompt on one core
    create = model._client.chat.completions.create

    def spy(**kwargs: object) -> object:
        sent.append(json.loads(json.dumps(kwargs)))
        return create(**kwargs)

    with recorder.use_cassette(f"{request.node.name}.yaml"):
        model._client.chat.completions.create = spy  # type: ignore[method-assign]
        plan, error = model_plan(model, "count the nuclei and give each area", ImageMeta(axes="YX"),
                                 max_tokens=400)
    formats = [b["response_format"]["type"] for b in sent]
    assert formats[:2] == ["json_schema", "json_object"], formats
    assert sent[0]["response_format"]["json_schema"]["name"] == "analysis_plan"
    assert sent[1]["response_format"]["schema"]["properties"]["segmentation"]
    assert model._json_format == 1  # remembered: the next plan goes out in the accepted form at once
    assert plan is not None, error
    assert plan.meta.axes == "YX"  # the file's facts win over whatever the model wrote
