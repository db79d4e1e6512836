"""The real embedded model (SmolLM2-135M via llama.cpp) in its worker process.

Assertions are about structure (text arrives in pieces, stop and max_tokens are honoured, a crash is
survived), never about what the tiny model says. A missing or wrong llama-cpp-python FAILS these tests.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from scopebot.llm import ContextOverflowError, Message, make_chat_model
from scopebot.llm.embedded import default_gguf_path
from scopebot.llm.errors import LLAMA_CPP_VERSION, WorkerCrashedError
from scopebot.llm.local import WorkerModel, WorkerPool
from scopebot.llm.selftest import SelfTest
from scopebot.prompts import PromptLibrary
from scopebot.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration

QUESTION = [Message(role="user", content="Explain in two sentences what a confocal microscope does.")]


def test_llama_cpp_is_installed_at_the_pinned_version() -> None:
    assert importlib.util.find_spec("llama_cpp") is not None, "llama-cpp-python is not installed"
    assert version("llama-cpp-python") == LLAMA_CPP_VERSION


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerModel]:
    home = tmp_path_factory.mktemp("home")
    built = make_chat_model(Settings(home=home, llm_backend="embedded", llm_context=2048, llm_threads=1))
    assert isinstance(built, WorkerModel)
    yield built
    built.close()


def test_streams_a_reply_in_pieces(model: WorkerModel) -> None:
    deltas = list(model.stream(QUESTION, max_tokens=32))
    pieces = [d.text for d in deltas if d.text]
    assert len(pieces) >= 2 and "".join(pieces).strip()
    assert deltas[-1].finish_reason in ("stop", "length") and deltas[-1].tool_calls == []
    assert all(d.finish_reason is None for d in deltas[:-1])
    assert model.loaded and model.worker_pid not in (None, os.getpid())


def test_the_self_test_ran_in_a_child_and_was_cached(model: WorkerModel) -> None:
    model.complete(QUESTION, max_tokens=2)
    assert model.self_test is not None
    # The process-wide worker pool may have chosen n_batch in an earlier test (another home), so this
    # home's verdict is asked for: it runs the self-test in child processes unless it is cached.
    result = model.self_test.verdict(model.spec)
    assert result.verdict in ("ok", "degraded") and model.self_test.cached(model.spec) is not None
    assert result.attempts[0].n_batch == 512 and result.key["llama_cpp"] == LLAMA_CPP_VERSION
    assert model.n_batch_in_use == result.n_batch


def test_max_tokens_is_honoured(model: WorkerModel) -> None:
    deltas = list(model.stream(QUESTION, max_tokens=4))
    assert deltas[-1].finish_reason == "length"
    assert 1 <= len([d for d in deltas if d.text]) <= 4


def test_stop_sequence_cuts_the_reply(model: WorkerModel) -> None:
    full = model.complete(QUESTION, max_tokens=24, temperature=0.0).text
    words = full.split()
    assert len(words) >= 4, "the model should say a few words"
    stop = " " + words[3]
    cut = model.complete(QUESTION, max_tokens=24, temperature=0.0, stop=[stop]).text
    assert cut == full[: full.index(stop)]


def test_one_worker_is_shared(model: WorkerModel) -> None:
    model.start()
    again = make_chat_model(Settings(home=model.self_test.cache_path.parent,  # type: ignore[union-attr]
                                     llm_backend="embedded", llm_context=2048, llm_threads=1))
    assert isinstance(again, WorkerModel) and again is not model and again.worker_pid == model.worker_pid


def test_context_overflow_is_clear(tmp_path: Path) -> None:
    small = WorkerModel(None, n_ctx=256, pool=WorkerPool(), self_test=SelfTest(tmp_path / "st.json"))
    try:
        with pytest.raises(ContextOverflowError) as info:
            small.complete([Message(role="user", content="describe the sample " * 200)], max_tokens=8)
        assert "256" in info.value.message and "SCOPEBOT_LLM_CONTEXT" in info.value.hint
        assert small.complete(QUESTION, max_tokens=4).text.strip()  # the worker survived the error
    finally:
        small.close()


def test_gguf_backend_accepts_a_local_file(tmp_path: Path) -> None:
    chosen = make_chat_model(Settings(home=tmp_path, llm_backend="gguf", llm_gguf_path=default_gguf_path()))
    assert isinstance(chosen, WorkerModel) and chosen.name == "gguf:SmolLM2-135M-Instruct"
    try:
        assert chosen.complete(QUESTION, max_tokens=8).text.strip()
    finally:
        chosen.close()


def test_grounded_prompt_runs_end_to_end(model: WorkerModel) -> None:
    messages = PromptLibrary(PROJECT_ROOT / "prompts").messages(
        "answer_system", passages="[bk-0123abcd] A pinhole rejects out-of-focus light.",
        question="What does the pinhole do?")
    reply = model.complete(messages, max_tokens=40)
    assert reply.text.strip() and reply.finish_reason in ("stop", "length")


def test_a_real_worker_killed_mid_answer_is_reported_and_replaced(tmp_path: Path) -> None:
    own = WorkerModel(None, pool=WorkerPool(), self_test=None, n_batch=512)
    try:
        stream = own.stream(QUESTION, max_tokens=64)
        first = next(stream)
        assert first.text
        pid = own.worker_pid
        assert pid is not None
        os.kill(pid, signal.SIGSEGV)  # what the broken native build does by itself
        with pytest.raises(WorkerCrashedError) as info:
            list(stream)
        assert info.value.reason == "SIGSEGV" and info.value.restarted
        assert own.complete(QUESTION, max_tokens=4).text.strip()
        assert own.worker_pid not in (None, pid)
    finally:
        own.close()


def test_the_parent_process_never_imports_llama_cpp(tmp_path: Path) -> None:
    code = ("import sys; from scopebot.llm import make_chat_model, Message; from scopebot.settings import Settings; "
            f"m = make_chat_model(Settings(home={str(tmp_path)!r})); "
            "print(m.complete([Message(role='user', content='Say hi.')], max_tokens=4).text.strip() != '', "
            "'llama_cpp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]
