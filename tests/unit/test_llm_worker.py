"""The local model out of process, with the scripted worker (no llama.cpp): crash, hang, restart, self-test.

The scripted worker (``scopebot.llm.worker_double``) speaks the real protocol and dies by a real signal,
so these tests exercise the real process handling; each spawn costs a fraction of a second.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_answer_fixtures import retriever, settings

from scopebot.answer.pipeline import AnswerPipeline
from scopebot.errors import ConfigurationError, ModelError
from scopebot.llm import ContextOverflowError, Message
from scopebot.llm.errors import (
    REINSTALL_COMMAND,
    ModelUnavailableError,
    WorkerCrashedError,
    WorkerFailedError,
    WorkerTimeoutError,
)
from scopebot.llm.local import WorkerModel, WorkerPool
from scopebot.llm.selftest import SelfTest
from scopebot.llm.worker import Channel, serve
from scopebot.llm.worker_double import REPLY_PREFIX
from scopebot.llm.workerproc import describe_exit, remote_error

DOUBLE = (sys.executable, "-m", "scopebot.llm.worker_double")
HELLO = [Message(role="user", content="hello there")]


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-model.Q4_0.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    return path


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    own = WorkerPool()
    yield own
    own.close()


def model(gguf: Path, pool: WorkerPool, *options: str, self_test: SelfTest | None = None, **kwargs: object) -> WorkerModel:
    return WorkerModel(gguf, command=(*DOUBLE, *options), pool=pool, self_test=self_test, **kwargs)  # type: ignore[arg-type]


def text_of(deltas: list) -> str:  # type: ignore[type-arg]
    return "".join(d.text for d in deltas)


# -- the protocol inside the worker (in process) ---------------------------------------------------
def test_serve_answers_ping_chat_errors_and_exit() -> None:
    def generate(request: dict) -> object:  # type: ignore[type-arg]
        if request["messages"][0]["content"] == "fail":
            raise ContextOverflowError("too long")
        yield "a", None
        yield "b", "length"

    requests = io.StringIO("\n".join(json.dumps(r) for r in [
        {"op": "ping"}, {"op": "chat", "messages": [{"role": "user", "content": "x"}]},
        {"op": "chat", "messages": [{"role": "user", "content": "fail"}]}, {"op": "nope"}, {"op": "exit"},
        {"op": "ping"}]) + "\n")
    events = io.StringIO()
    assert serve(Channel(requests, events), generate, {"n_batch": 8}) == 0
    got = [json.loads(line) for line in events.getvalue().splitlines()]
    assert [e["event"] for e in got] == ["ready", "pong", "delta", "delta", "done", "error", "error"]
    assert got[0]["n_batch"] == 8 and got[4]["finish_reason"] == "length"
    assert got[5]["kind"] == "overflow" and got[6]["kind"] == "config"


def test_exit_codes_and_remote_errors_are_described() -> None:
    assert describe_exit(-signal.SIGSEGV) == "SIGSEGV" and describe_exit(1) == "exit code 1"
    assert isinstance(remote_error({"kind": "overflow", "message": "m"}), ContextOverflowError)
    assert isinstance(remote_error({"kind": "config", "message": "m", "hint": "h"}), ConfigurationError)
    error = remote_error({"kind": "model", "message": "boom", "hint": "fix it"})
    assert isinstance(error, ModelError) and error.hint == "fix it"


# -- turns through a worker process ------------------------------------------------------------------
def test_streams_through_the_worker_and_reuses_it(gguf: Path, pool: WorkerPool) -> None:
    m = model(gguf, pool)
    deltas = list(m.stream(HELLO))
    assert len([d for d in deltas if d.text]) >= 3 and deltas[-1].finish_reason == "stop"
    assert text_of(deltas) == f"{REPLY_PREFIX} You asked: hello there"
    pid = m.worker_pid
    assert pid is not None and pid != os.getpid() and m.loaded
    assert m.complete(HELLO, max_tokens=2).finish_reason == "length"
    assert m.worker_pid == pid  # one worker serves every turn
    other = model(gguf, pool)
    other.complete(HELLO)
    assert other.worker_pid == pid  # shared by models with the same configuration


def test_crash_mid_stream_gives_a_clear_error_and_the_next_turn_works(gguf: Path, pool: WorkerPool) -> None:
    m = model(gguf, pool, "--crash-after", "2", "--crash-when", "BOOM", n_batch=1)
    m.start()
    first = m.worker_pid
    received: list[str] = []
    with pytest.raises(WorkerCrashedError) as info:
        for delta in m.stream([Message(role="user", content="BOOM please")]):
            received.append(delta.text)
    assert len(received) == 2  # the answer had started streaming
    error = info.value
    assert error.reason == "SIGSEGV" and error.restarted
    assert "stopped (SIGSEGV)" in error.message and "it was restarted" in error.message
    assert "--self-test" in error.hint and REINSTALL_COMMAND in error.hint
    assert m.worker_pid not in (None, first)  # a fresh worker is already starting
    assert m.complete(HELLO).text.startswith(REPLY_PREFIX)


def test_a_hung_worker_times_out_and_is_replaced(gguf: Path, pool: WorkerPool) -> None:
    m = model(gguf, pool, "--hang-after", "1", "--crash-when", "HANG", timeout=1.0)
    m.start()
    hung = m.worker_pid
    start = time.monotonic()
    with pytest.raises(WorkerTimeoutError) as info:
        m.complete([Message(role="user", content="HANG now")])
    assert time.monotonic() - start < 10
    assert "gave no reply (no reply for 1 s)" in info.value.message and info.value.restarted
    assert "SCOPEBOT_LLM_WORKER_TIMEOUT" in info.value.hint
    assert m.worker_pid != hung
    assert m.complete(HELLO).text.startswith(REPLY_PREFIX)


def test_a_worker_that_died_while_idle_is_replaced_silently(gguf: Path, pool: WorkerPool) -> None:
    m = model(gguf, pool)
    m.start()
    pid = m.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert m.complete(HELLO).text.startswith(REPLY_PREFIX)
    assert m.worker_pid != pid


def test_an_abandoned_stream_is_cancelled_and_the_worker_stays_usable(gguf: Path, pool: WorkerPool) -> None:
    m = model(gguf, pool, "--delay", "0.05")
    stream = m.stream(HELLO)
    next(stream)
    stream.close()
    pid = m.worker_pid
    assert m.complete(HELLO).text == f"{REPLY_PREFIX} You asked: hello there"
    assert m.worker_pid == pid


def test_a_native_fault_with_batching_switches_to_n_batch_1(gguf: Path, pool: WorkerPool, tmp_path: Path) -> None:
    tester = SelfTest(tmp_path / "selftest.json")
    m = model(gguf, pool, "--crash-after", "0", "--crash-when", "BOOM", self_test=tester, n_batch=64)
    assert m.complete(HELLO).text  # self-test passes (no BOOM in it) -> n_batch=64
    assert m.n_batch_in_use == 64
    with pytest.raises(WorkerCrashedError, match="restarted with n_batch=1"):
        m.complete([Message(role="user", content="BOOM")])
    assert m.n_batch_in_use == 1 and m.start()["n_batch"] == 1
    cached = tester.cached(m.spec)
    assert cached is not None and cached.verdict == "degraded" and cached.n_batch == 1


def test_repeated_failures_switch_the_model_off(gguf: Path, pool: WorkerPool) -> None:
    m = model(gguf, pool, "--crash-after", "0", "--signal", "SIGKILL", max_failures=2, n_batch=1)
    with pytest.raises(WorkerCrashedError) as first:
        m.complete(HELLO)
    assert first.value.restarted and first.value.reason == "SIGKILL"
    with pytest.raises(WorkerCrashedError) as second:
        m.complete(HELLO)
    assert not second.value.restarted and "2 times in a row" in second.value.message
    with pytest.raises(ModelUnavailableError):
        m.complete(HELLO)
    assert isinstance(second.value, WorkerFailedError) and isinstance(second.value, ModelError)


def test_a_load_failure_is_reported_as_the_worker_said(gguf: Path, pool: WorkerPool) -> None:
    m = model(gguf, pool, "--fail-load", "cannot map the model file")
    with pytest.raises(ModelError, match="cannot map the model file") as info:
        m.complete(HELLO)
    assert not isinstance(info.value, WorkerFailedError)


def test_a_missing_worker_program_is_a_configuration_error(gguf: Path, pool: WorkerPool) -> None:
    m = WorkerModel(gguf, command=["/nonexistent/python"], pool=pool)
    with pytest.raises(ConfigurationError, match="cannot start the local-model worker") as info:
        m.complete(HELLO)
    assert "SCOPEBOT_LLM_WORKER_COMMAND" in info.value.hint


# -- the self-test -------------------------------------------------------------------------------------
def test_self_test_ok_is_cached_per_environment(gguf: Path, pool: WorkerPool, tmp_path: Path) -> None:
    tester = SelfTest(tmp_path / "selftest.json")
    m = model(gguf, pool, self_test=tester, n_batch=32)
    result = tester.verdict(m.spec)
    assert result.verdict == "ok" and result.n_batch == 32 and not result.cached
    assert result.attempts[0].ok and "ok" in result.summary()
    again = tester.verdict(m.spec)
    assert again.cached and again.verdict == "ok"
    assert tester.cached(m.spec.with_batch(16)) is None  # another configuration is tested anew
    other_file = tmp_path / "other.gguf"
    other_file.write_bytes(b"GGUF" + b"\0" * 10)
    assert tester.cached(model(other_file, pool).spec.with_batch(32)) is None
    assert json.loads((tmp_path / "selftest.json").read_text())["version"] == 1


def test_self_test_degrades_to_n_batch_1_like_the_broken_avx512_build(gguf: Path, pool: WorkerPool,
                                                                       tmp_path: Path) -> None:
    tester = SelfTest(tmp_path / "selftest.json")
    m = model(gguf, pool, "--crash-if-batch-over", "1", self_test=tester, n_batch=512)
    assert m.complete(HELLO).text.startswith(REPLY_PREFIX)
    assert m.n_batch_in_use == 1
    result = tester.verdict(m.spec)
    assert result.cached and result.verdict == "degraded" and result.n_batch == 1
    assert "SIGSEGV" in result.attempts[0].detail and result.attempts[1].ok
    assert REINSTALL_COMMAND in result.summary()


def test_failed_self_test_makes_the_model_unavailable_and_the_pipeline_answers_extractively(
        gguf: Path, pool: WorkerPool, tmp_path: Path) -> None:
    tester = SelfTest(tmp_path / "selftest.json")
    m = model(gguf, pool, "--crash-if-batch-over", "0", self_test=tester, is_small=False)
    with pytest.raises(ModelUnavailableError) as info:
        m.complete(HELLO)
    assert "failed its self-test" in info.value.message and REINSTALL_COMMAND in info.value.hint
    result = tester.verdict(m.spec)
    assert result.verdict == "failed" and result.n_batch is None and len(result.attempts) == 2

    answer = AnswerPipeline(retriever(), m, settings(tmp_path)).answer(
        "How does Noise2Void denoise without clean images?", mode="generative")
    assert answer.mode == "extractive" and not answer.abstained and answer.citations
