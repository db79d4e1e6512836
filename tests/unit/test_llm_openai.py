"""OpenAI-compatible backend: requests, streaming, tool calls and error mapping over a mock transport.

An ``httpx2.MockTransport`` (httpx2 is the HTTP library of the installed openai SDK) is injected
through the model's ``http_client`` constructor argument; nothing is monkeypatched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx2
import pytest

from scopebot.errors import ConfigurationError, ModelError
from scopebot.llm import ContextOverflowError, Message, ToolCall, ToolSpec
from scopebot.llm.openai_compat import DUMMY_API_KEY, OpenAICompatibleModel

BASE = "http://llm.test/v1"
SECRET = "sk-test-VERYSECRET-0123456789abcdef"
SEARCH = ToolSpec(name="search_docs", description="Search the docs",
                  parameters={"type": "object", "properties": {"query": {"type": "string"}}})

Handler = Callable[[httpx2.Request], httpx2.Response]


class Recorder:
    """A mock endpoint: answers with ``handler`` and keeps every request for assertions."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.handler(request)

    def body(self, i: int = -1) -> dict:
        return json.loads(self.requests[i].content)


def make_model(handler: Handler, *, api_key: str | None = SECRET, model: str | None = "tiny",
               **kwargs: object) -> tuple[OpenAICompatibleModel, Recorder]:
    recorder = Recorder(handler)
    client = httpx2.Client(transport=httpx2.MockTransport(recorder))
    return OpenAICompatibleModel(BASE, model, api_key, max_retries=0, http_client=client,
                                 **kwargs), recorder  # type: ignore[arg-type]


def completion(message: dict, finish: str = "stop") -> dict:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "tiny",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}]}


def sse(chunks: list[dict]) -> httpx2.Response:
    lines = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=lines.encode())


def chunk(delta: dict, finish: str | None = None) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "tiny",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def error(status: int, message: str, code: str | None = None) -> Handler:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/models"):
            return httpx2.Response(200, json={"object": "list", "data": [
                {"id": "tiny", "object": "model"}, {"id": "small", "object": "model"}]})
        return httpx2.Response(status, json={"error": {"message": message, "type": "invalid_request_error",
                                                       "code": code}})
    return handler


USER = [Message(role="user", content="hello")]


# -- requests ---------------------------------------------------------------------------------------
def test_complete_sends_translated_request_and_parses_reply() -> None:
    model, rec = make_model(lambda r: httpx2.Response(200, json=completion({"content": "Hi there."})))
    history = [
        Message(role="system", content="be brief"),
        Message(role="user", content="find docs"),
        Message(role="assistant", tool_calls=[ToolCall(id="call_1", name="search_docs",
                                                       arguments={"query": "psf"})]),
        Message(role="tool", tool_call_id="call_1", content="three results"),
    ]
    reply = model.complete(history, tools=[SEARCH], max_tokens=20, stop=["\n\n"])
    assert reply.text == "Hi there." and reply.finish_reason == "stop"
    body = rec.body()
    assert rec.requests[0].url.path == "/v1/chat/completions"
    assert body["model"] == "tiny" and body["max_tokens"] == 20 and body["stop"] == ["\n\n"]
    assert body["tool_choice"] == "auto"
    assert body["tools"][0] == {"type": "function", "function": {
        "name": "search_docs", "description": "Search the docs", "parameters": SEARCH.parameters}}
    assistant, tool = body["messages"][2], body["messages"][3]
    assert assistant["tool_calls"][0]["function"] == {"name": "search_docs", "arguments": '{"query": "psf"}'}
    assert assistant["content"] is None
    assert tool == {"role": "tool", "content": "three results", "tool_call_id": "call_1"}


def test_no_tools_means_no_tool_fields() -> None:
    model, rec = make_model(lambda r: httpx2.Response(200, json=completion({"content": "ok"})))
    model.complete(USER)
    assert "tools" not in rec.body() and "tool_choice" not in rec.body()


def test_complete_parses_tool_calls_including_bad_json() -> None:
    calls = [{"id": "a", "type": "function", "function": {"name": "search_docs", "arguments": '{"query": "x"}'}},
             {"id": "b", "type": "function", "function": {"name": "search_docs", "arguments": "not json"}}]
    model, _ = make_model(lambda r: httpx2.Response(200, json=completion(
        {"content": None, "tool_calls": calls}, "tool_calls")))
    reply = model.complete(USER, tools=[SEARCH])
    assert reply.text == "" and reply.finish_reason == "tool_calls"
    assert reply.tool_calls[0] == ToolCall(id="a", name="search_docs", arguments={"query": "x"})
    assert reply.tool_calls[1].arguments == {"_raw_arguments": "not json"}


def test_stream_yields_text_incrementally() -> None:
    model, rec = make_model(lambda r: sse([chunk({"role": "assistant", "content": ""}), chunk({"content": "Hel"}),
                                           chunk({"content": "lo"}), chunk({}, "stop")]))
    deltas = list(model.stream(USER))
    assert [d.text for d in deltas if d.text] == ["Hel", "lo"]
    assert deltas[-1].finish_reason == "stop"
    assert rec.body()["stream"] is True


def test_stream_assembles_tool_call_fragments() -> None:
    fragments = [
        chunk({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_9", "type": "function",
                                                    "function": {"name": "search_docs", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"que'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ry": "otsu"}'}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_10", "type": "function",
                               "function": {"name": "search_docs", "arguments": "{}"}}]}),
        chunk({}, "tool_calls"),
    ]
    model, _ = make_model(lambda r: sse(fragments))
    deltas = list(model.stream(USER, tools=[SEARCH]))
    assert all(not d.tool_calls for d in deltas[:-1])
    assert deltas[-1].finish_reason == "tool_calls"
    assert deltas[-1].tool_calls == [ToolCall(id="call_9", name="search_docs", arguments={"query": "otsu"}),
                                     ToolCall(id="call_10", name="search_docs", arguments={})]


def test_empty_stream_with_tools_falls_back_to_one_plain_request() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if json.loads(request.content).get("stream"):
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=b"")
        return httpx2.Response(200, json=completion({"content": None, "tool_calls": [
            {"id": "x", "type": "function", "function": {"name": "search_docs", "arguments": "{}"}}]}, "tool_calls"))

    model, rec = make_model(handler)
    deltas = list(model.stream(USER, tools=[SEARCH]))
    assert [c.name for c in deltas[-1].tool_calls] == ["search_docs"]
    assert len(rec.requests) == 2
    model2, _ = make_model(handler)
    with pytest.raises(ModelError, match="closed the stream"):
        list(model2.stream(USER))


def test_model_none_uses_the_endpoints_first_model() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/models"):
            return httpx2.Response(200, json={"object": "list", "data": [{"id": "zeta", "object": "model"},
                                                                         {"id": "alpha", "object": "model"}]})
        return httpx2.Response(200, json=completion({"content": "ok"}))

    model, rec = make_model(handler, model=None)
    assert model.name == "openai:auto"
    model.complete(USER)
    assert rec.body()["model"] == "alpha" and model.name == "openai:alpha"


# -- errors -----------------------------------------------------------------------------------------
def test_connection_error_names_the_url() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    model, _ = make_model(handler)
    with pytest.raises(ModelError) as info:
        model.complete(USER)
    assert "endpoint unreachable at http://llm.test/v1" in info.value.message
    assert "SCOPEBOT_LLM_BASE_URL" in info.value.hint
    with pytest.raises(ModelError, match="unreachable"):
        list(model.stream(USER))


def test_timeout_is_reported() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=request)

    model, _ = make_model(handler)
    with pytest.raises(ModelError, match="did not answer in time") as info:
        model.complete(USER)
    assert "SCOPEBOT_LLM_TIMEOUT" in info.value.hint


def test_401_says_check_the_key_and_never_shows_it() -> None:
    model, _ = make_model(error(401, f"Incorrect API key provided: {SECRET}. Get one at example.org",
                                "invalid_api_key"))
    with pytest.raises(ConfigurationError) as info:
        model.complete(USER)
    assert "API key was rejected" in info.value.message and "OPENAI_API_KEY" in info.value.hint
    assert SECRET not in str(info.value) and "VERYSECRET" not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_404_lists_available_models() -> None:
    model, _ = make_model(error(404, "The model `gpt-9` does not exist", "model_not_found"), model="gpt-9")
    with pytest.raises(ConfigurationError) as info:
        model.complete(USER)
    assert "unknown model 'gpt-9'" in info.value.message
    assert "SCOPEBOT_LLM_MODEL" in info.value.hint and "small, tiny" in info.value.hint


def test_404_without_model_list_points_at_the_base_url() -> None:
    model, _ = make_model(lambda r: httpx2.Response(404, text="Not Found"))
    with pytest.raises(ConfigurationError) as info:
        model.complete(USER)
    assert "SCOPEBOT_LLM_BASE_URL" in info.value.hint


def test_empty_404_everywhere_says_nothing_openai_compatible_answers() -> None:
    # e.g. a firewall or proxy that answers 404 with no body for an address it cannot reach
    model, _ = make_model(lambda r: httpx2.Response(404, content=b""))
    with pytest.raises(ConfigurationError) as info:
        model.complete(USER)
    assert "no OpenAI-compatible server answers at http://llm.test/v1" in info.value.message
    assert "proxy" in info.value.hint and "SCOPEBOT_LLM_BASE_URL" in info.value.hint


@pytest.mark.parametrize(("msg", "code"), [
    ("This model's maximum context length is 2048 tokens. However, you requested 3000 tokens.",
     "context_length_exceeded"),
    ("the request exceeds the available context size, try increasing it", None),  # llama.cpp's llama-server
])
def test_context_overflow_is_its_own_error(msg: str, code: str | None) -> None:
    model, _ = make_model(error(400, msg, code))
    with pytest.raises(ContextOverflowError) as info:
        model.complete(USER)
    assert "SCOPEBOT_LLM_CONTEXT" in info.value.hint


@pytest.mark.parametrize(("status", "pattern"), [(500, "failed \\(HTTP 500\\)"), (429, "rate limiting"),
                                                 (422, "refused the request \\(HTTP 422\\)")])
def test_other_statuses(status: int, pattern: str) -> None:
    model, _ = make_model(error(status, "boom"))
    with pytest.raises(ModelError, match=pattern):
        model.complete(USER)


# -- the key ----------------------------------------------------------------------------------------
def test_key_is_sent_but_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    model, rec = make_model(lambda r: httpx2.Response(200, json=completion({"content": "ok"})))
    model.complete(USER)
    assert rec.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    for text in (repr(model), str(model), model.name, caplog.text):
        assert SECRET not in text
    assert "api_key=set" in repr(model)


def test_dummy_key_when_none_is_set() -> None:
    model, rec = make_model(lambda r: httpx2.Response(200, json=completion({"content": "ok"})), api_key=None)
    model.complete(USER)
    assert rec.requests[0].headers["authorization"] == f"Bearer {DUMMY_API_KEY}"
    assert "api_key=not set" in repr(model)


def test_no_messages_is_a_configuration_error() -> None:
    model, rec = make_model(lambda r: httpx2.Response(200, json=completion({"content": "ok"})))
    with pytest.raises(ConfigurationError):
        model.complete([])
    assert rec.requests == []


def test_an_unparsable_endpoint_url_is_a_configuration_error_with_a_hint() -> None:
    import pytest

    from scopebot.errors import ConfigurationError
    from scopebot.llm.openai_compat import OpenAICompatibleModel

    for url in ("http://[::1", "http://127.0.0.1:80\x00/v1"):
        with pytest.raises(ConfigurationError) as info:
            OpenAICompatibleModel(url, "m", None)
        assert "not a valid URL" in str(info.value) and "SCOPEBOT_LLM_BASE_URL" in (info.value.hint or "")
