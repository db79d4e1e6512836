"""``make_chat_model``, the scripted backend, the format helpers, the scrubber and import weight."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from scopebot.errors import ConfigurationError
from scopebot.llm import Message, ScriptedModel, ToolCall, make_chat_model
from scopebot.llm.errors import scrub
from scopebot.llm.openai_format import ToolCallAssembler, message_to_openai, parse_arguments
from scopebot.settings import Settings


def settings(tmp_path: Path, **kwargs: object) -> Settings:
    return Settings(home=tmp_path, **kwargs)  # type: ignore[arg-type]


def test_scripted_backend_echoes_the_question(tmp_path: Path) -> None:
    model = make_chat_model(settings(tmp_path, llm_backend="scripted"))
    assert isinstance(model, ScriptedModel)
    reply = model.complete([Message(role="system", content="rules"),
                            Message(role="user", content="How do I threshold?\nmore")])
    assert reply.text == "Scripted reply. You asked: How do I threshold?"


def test_embedded_backend_is_the_default_and_runs_in_a_worker(tmp_path: Path) -> None:
    from scopebot.llm.local import WorkerModel
    from scopebot.llm.workerproc import DEFAULT_WORKER_COMMAND

    model = make_chat_model(settings(tmp_path, llm_context=1024, llm_threads=2, llm_batch=64))
    assert isinstance(model, WorkerModel)
    assert model.is_small and model.name == "embedded:SmolLM2-135M-Instruct"
    assert (model.n_ctx, model.n_threads, model.n_batch) == (1024, 2, 64)
    assert model.spec.command == DEFAULT_WORKER_COMMAND and model.worker_pid is None  # nothing started yet
    assert model.self_test is not None and model.self_test.cache_path == tmp_path / "llm-selftest.json"


def test_worker_command_is_injectable_and_python_means_this_python(tmp_path: Path) -> None:
    model = make_chat_model(settings(tmp_path, llm_worker_command="python -m scopebot.llm.worker_double --hang-after 1",
                                     llm_self_test=False))
    assert model.spec.command == (sys.executable, "-m", "scopebot.llm.worker_double", "--hang-after", "1")
    assert model.spec.injected and model.self_test is None


def test_gguf_backend_needs_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="needs a model file"):
        make_chat_model(settings(tmp_path, llm_backend="gguf"))
    with pytest.raises(ConfigurationError, match="not found"):
        make_chat_model(settings(tmp_path, llm_backend="gguf", llm_gguf_path=tmp_path / "nope.gguf"))


def test_base_url_selects_the_openai_backend(tmp_path: Path) -> None:
    from scopebot.llm.openai_compat import OpenAICompatibleModel

    model = make_chat_model(settings(tmp_path, llm_base_url="http://127.0.0.1:9/v1", llm_model="m",
                                     llm_api_key=SecretStr("sk-abcdefghijklmnop")))
    assert isinstance(model, OpenAICompatibleModel) and model.supports_tools
    assert model.base_url == "http://127.0.0.1:9/v1" and "sk-abcdefghijklmnop" not in repr(model)


def test_openai_backend_without_endpoint_or_key_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        make_chat_model(settings(tmp_path, llm_backend="openai"))
    assert "SCOPEBOT_LLM_BASE_URL" in info.value.hint and "OPENAI_API_KEY" in info.value.hint
    with pytest.raises(ConfigurationError, match="no model chosen"):
        make_chat_model(settings(tmp_path, llm_backend="openai", llm_api_key=SecretStr("sk-abcdefgh1234")))


def test_importing_scopebot_llm_stays_light() -> None:
    code = ("import sys, scopebot.llm, scopebot.prompts, scopebot.llm.cli, scopebot.llm.local, scopebot.llm.selftest; "
            "print(','.join(m for m in ('llama_cpp', 'openai', 'httpx2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_message_translation_roles() -> None:
    assert message_to_openai(Message(role="user", content="hi", name="ana")) == {
        "role": "user", "content": "hi", "name": "ana"}
    tool = message_to_openai(Message(role="tool", content="r", tool_call_id="c1"))
    assert tool == {"role": "tool", "content": "r", "tool_call_id": "c1"}
    said = message_to_openai(Message(role="assistant", content="let me look",
                                     tool_calls=[ToolCall(id="c1", name="f", arguments={"a": "é"})]))
    assert said["content"] == "let me look" and said["tool_calls"][0]["function"]["arguments"] == '{"a": "é"}'


def test_parse_arguments() -> None:
    assert parse_arguments('{"a": 1}') == {"a": 1}
    assert parse_arguments("") == {} and parse_arguments(None) == {}
    assert parse_arguments("[1, 2]") == {"_raw_arguments": "[1, 2]"}


def test_assembler_handles_repeated_names_and_missing_index() -> None:
    asm = ToolCallAssembler()
    asm.add({"index": 0, "id": "a", "function": {"name": "search", "arguments": '{"q":'}})
    asm.add({"index": 0, "function": {"name": "search", "arguments": ' "x"}'}})
    assert asm
    calls = asm.finish()
    assert calls == [ToolCall(id="a", name="search", arguments={"q": "x"})]
    assert not asm


def test_scrub_removes_keys() -> None:
    text = "key sk-proj-ABCDEFGH1234 and Bearer abc.def-ghi and mine: hunter2secret"
    cleaned = scrub(text, "hunter2secret")
    assert "ABCDEFGH" not in cleaned and "abc.def" not in cleaned and "hunter2" not in cleaned
    assert cleaned.startswith("key ***")
