"""The embedded SmolLM2 and any local GGUF, served by a worker process (never in the server's process).

:class:`WorkerModel` is the :class:`ChatModel` for the ``embedded`` and ``gguf`` backends. Each turn
goes to a worker process (:mod:`scopebot.llm.worker`) that runs llama.cpp. Before its first turn the
model runs the self-test (:mod:`scopebot.llm.selftest`) to choose ``n_batch``. Then, for every turn:

* a health check (``ping``) before the turn; a worker that died while idle is replaced silently;
* a timeout: a worker silent for ``timeout`` s is killed and the turn fails with
  :class:`WorkerTimeoutError`;
* a worker that dies mid-turn (SIGSEGV in native code) fails the turn with
  :class:`WorkerCrashedError`, whose message says what happened and that a new worker was started.
  A crash by signal with ``n_batch > 1`` switches to ``n_batch = 1`` (remembered in the self-test
  cache). After ``max_failures`` failed turns in a row the model reports
  :class:`ModelUnavailableError`, and the answer pipeline falls back to extractive answers.

Workers are shared by every model with the same configuration in a process (:data:`SHARED_POOL`);
one turn at a time per worker, like a llama.cpp context.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scopebot.errors import ConfigurationError, ModelError
from scopebot.llm.base import ChatDelta, ChatModel, Message, ToolSpec
from scopebot.llm.embedded import DEFAULT_N_BATCH, check_gguf, default_gguf_path
from scopebot.llm.errors import (
    REINSTALL_COMMAND,
    REINSTALL_HINT,
    ModelUnavailableError,
    WorkerCrashedError,
    WorkerFailedError,
    WorkerTimeoutError,
)
from scopebot.llm.openai_format import messages_to_plain_chat
from scopebot.llm.selftest import SelfTest
from scopebot.llm.workerproc import (
    DEFAULT_WORKER_COMMAND,
    WorkerDied,
    WorkerProcess,
    WorkerSilent,
    WorkerSpec,
    remote_error,
)

_log = logging.getLogger(__name__)
#: Seconds a healthy, idle worker takes at most to answer ``ping``.
PING_TIMEOUT = 10.0
#: Signals of a fault in native code (not a kill from outside): after one, the worker runs with n_batch=1.
NATIVE_FAULTS = frozenset({"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT"})


@dataclass
class _Slot:
    """One worker configuration: its lock, its process, the chosen n_batch and the failure count."""

    lock: threading.Lock
    process: WorkerProcess | None = None
    n_batch: int | None = None
    failures: int = 0
    unavailable: str = ""


class WorkerPool:
    """Process-wide workers, one per (command, model, n_ctx, n_threads, seed, requested n_batch)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._slots: dict[WorkerSpec, _Slot] = {}

    def slot(self, spec: WorkerSpec) -> _Slot:
        with self._guard:
            return self._slots.setdefault(spec, _Slot(threading.Lock()))

    def close(self) -> None:
        """Stop every worker (one busy for more than 1 s is killed)."""
        with self._guard:
            slots = list(self._slots.values())
            self._slots.clear()
        for slot in slots:
            locked = slot.lock.acquire(timeout=1.0)
            process, slot.process = slot.process, None
            if process is not None:
                process.stop() if locked else process.kill()
            if locked:
                slot.lock.release()


#: The pool shared by every :class:`WorkerModel` that is not given its own.
SHARED_POOL = WorkerPool()
atexit.register(SHARED_POOL.close)


class WorkerModel(ChatModel):
    """A GGUF chat model answered by a llama.cpp worker process (text only; no native tool calling)."""

    supports_tools = False

    def __init__(self, path: Path | None = None, *, n_ctx: int = 2048, n_threads: int = 1,
                 n_batch: int = DEFAULT_N_BATCH, max_tokens: int = 256, temperature: float = 0.0, seed: int = 0,
                 is_small: bool | None = None, name: str | None = None, command: Sequence[str] | None = None,
                 timeout: float = 120.0, start_timeout: float = 120.0, lock_timeout: float | None = 600.0,
                 self_test: SelfTest | None = None, pool: WorkerPool | None = None, max_failures: int = 3) -> None:
        embedded = path is None
        self.path = default_gguf_path() if embedded else check_gguf(path)  # type: ignore[arg-type]
        self.n_ctx, self.n_threads, self.n_batch = n_ctx, n_threads, n_batch
        self.max_tokens, self.temperature = max_tokens, temperature
        self.is_small = embedded if is_small is None else is_small
        stem = self.path.name.removesuffix(".gguf").split(".Q")[0]
        self.name = name or (f"embedded:{stem}" if embedded else f"gguf:{stem}")
        self.spec = WorkerSpec(tuple(command) if command else DEFAULT_WORKER_COMMAND, str(self.path),
                               n_ctx, n_threads, n_batch, seed)
        self.timeout, self.start_timeout, self.lock_timeout = timeout, start_timeout, lock_timeout
        self.self_test = self_test
        self.max_failures = max(1, max_failures)
        self._pool = pool or SHARED_POOL

    def __repr__(self) -> str:
        return (f"WorkerModel(name={self.name!r}, path={str(self.path)!r}, n_ctx={self.n_ctx}, "
                f"n_threads={self.n_threads}, n_batch={self.n_batch})")

    # -- state ------------------------------------------------------------------------------------
    @property
    def _slot(self) -> _Slot:
        return self._pool.slot(self.spec)

    @property
    def worker_pid(self) -> int | None:
        """The pid of the current worker process (None before the first turn)."""
        process = self._slot.process
        return process.pid if process is not None else None

    @property
    def n_batch_in_use(self) -> int | None:
        """The n_batch the worker runs with (after the self-test), None before the first turn."""
        return self._slot.n_batch

    @property
    def loaded(self) -> bool:
        process = self._slot.process
        return process is not None and process.alive and process.ready is not None

    def _acquire(self) -> _Slot:
        slot = self._slot
        if not slot.lock.acquire(timeout=-1 if self.lock_timeout is None else self.lock_timeout):
            raise ModelError(f"the model {self.name} stayed busy for {self.lock_timeout:.0f} s",
                             hint="another answer is still being generated; try again, or use an "
                                  "OpenAI-compatible server for concurrent users")
        return slot

    # -- worker life cycle ------------------------------------------------------------------------
    def _choose_batch(self, slot: _Slot) -> int:
        if slot.n_batch is None:
            if self.self_test is None or self.n_batch <= 1:
                slot.n_batch = self.n_batch
            else:
                result = self.self_test.verdict(self.spec)
                if result.verdict == "failed":
                    tried = "; ".join(f"n_batch={a.n_batch}: {a.detail}" for a in result.attempts)
                    slot.unavailable = f"the local model {self.name} failed its self-test ({tried})"
                    raise ModelUnavailableError(slot.unavailable)
                if result.verdict == "degraded":
                    _log.warning("local model %s: %s", self.name, result.summary())
                slot.n_batch = result.n_batch or 1
        return slot.n_batch

    def _ready(self, slot: _Slot) -> WorkerProcess:
        """A started, loaded and healthy worker for ``slot`` (the caller holds the slot's lock)."""
        if slot.unavailable:
            raise ModelUnavailableError(slot.unavailable)
        n_batch = self._choose_batch(slot)
        process = slot.process
        if process is not None and not process.alive:
            _log.warning("local model worker %s ended while idle (%s); starting a new one", process.pid,
                         process.exit_reason(0))
            process = slot.process = None
        if process is None:
            process = slot.process = WorkerProcess(self.spec.with_batch(n_batch))
        try:
            process.wait_ready(self.start_timeout)
            process.ping(PING_TIMEOUT)
        except WorkerDied as died:
            raise self._failed(slot, died.reason, during="while starting") from None
        except WorkerSilent as silent:
            raise self._failed(slot, str(silent), during="while starting", hung=True) from None
        except Exception:
            slot.process = None  # the model could not be loaded (reported as the worker said)
            raise
        return process

    def _failed(self, slot: _Slot, reason: str, *, during: str, hung: bool = False) -> WorkerFailedError:
        """Kill the failed worker, start a new one, and build the error the turn raises."""
        process, slot.process = slot.process, None
        spec = process.spec if process is not None else self.spec
        if process is not None:
            process.kill()
            if process.stderr_tail:
                _log.warning("local model worker %s stderr (last lines):\n%s", process.pid,
                             "\n".join(process.stderr_tail))
        slot.failures += 1
        safer = reason in NATIVE_FAULTS and (slot.n_batch or 1) > 1
        if safer:
            slot.n_batch = 1
            if self.self_test is not None:
                self.self_test.record_crash(self.spec, reason)
        what = f"gave no reply ({reason})" if hung else f"stopped ({reason})"
        message = f"the local model {self.name} {what} {during}"
        if slot.failures >= self.max_failures:
            slot.unavailable = (f"the local model {self.name} failed {slot.failures} times in a row "
                                f"(last: {reason}); it is switched off until scopebot restarts")
            error_type = WorkerTimeoutError if hung else WorkerCrashedError
            return error_type(f"{message}; it failed {slot.failures} times in a row, so it was not restarted: "
                              "answers use extractive mode until scopebot restarts", reason=reason,
                              restarted=False, hint=REINSTALL_HINT)
        restarted = True
        try:
            slot.process = WorkerProcess(spec.with_batch(slot.n_batch or 1))
        except ConfigurationError:
            restarted = False
        mode = " with n_batch=1 (slower, safer)" if safer else ""
        next_step = f"it was restarted{mode}; ask again" if restarted else "restarting it failed"
        if hung:
            hint = "raise SCOPEBOT_LLM_WORKER_TIMEOUT for a big model on a slow CPU, or ask a shorter question"
            return WorkerTimeoutError(f"{message}; {next_step}", reason=reason, restarted=restarted, hint=hint)
        hint = ("if it happens again, run `scopebot models --self-test`; to rebuild llama.cpp portably: "
                f"{REINSTALL_COMMAND}")
        return WorkerCrashedError(f"{message}; {next_step}", reason=reason, restarted=restarted, hint=hint)

    def start(self) -> dict[str, Any]:
        """Start (or check) the worker now; returns its ``ready`` message (pid, n_batch, llama_cpp)."""
        slot = self._acquire()
        try:
            return dict(self._ready(slot).ready or {})
        finally:
            slot.lock.release()

    load = start

    def close(self) -> None:
        """Stop this configuration's worker (a later turn starts a new one)."""
        slot = self._acquire()
        try:
            process, slot.process = slot.process, None
            if process is not None:
                process.stop()
        finally:
            slot.lock.release()

    # -- the seam ---------------------------------------------------------------------------------
    def stream(self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
               max_tokens: int | None = None, temperature: float | None = None,
               stop: Sequence[str] | None = None) -> Iterator[ChatDelta]:
        """Generate in the worker, yielding text as it arrives. ``tools`` are ignored."""
        if not messages:
            raise ConfigurationError("no messages to send to the chat model", hint="pass at least one user message")
        request = {"op": "chat", "messages": messages_to_plain_chat(messages),
                   "max_tokens": max_tokens or self.max_tokens,
                   "temperature": self.temperature if temperature is None else temperature,
                   "stop": list(stop) if stop else []}
        slot = self._acquire()
        try:
            process = self._ready(slot)
            finished = False
            try:
                process.send(request)
                while True:
                    event = process.event(self.timeout)
                    kind = event.get("event")
                    if kind == "delta" and event.get("text"):
                        yield ChatDelta(text=str(event["text"]))
                    elif kind == "done":
                        finished = True
                        slot.failures = 0
                        yield ChatDelta(finish_reason=str(event.get("finish_reason") or "stop"))
                        return
                    elif kind == "error":
                        finished = True
                        raise remote_error(event)
            except WorkerDied as died:
                finished = True
                raise self._failed(slot, died.reason, during="while answering") from None
            except WorkerSilent as silent:
                finished = True
                raise self._failed(slot, str(silent), during="while answering", hung=True) from None
            finally:
                if not finished:  # the caller stopped reading: end the generation before the next turn
                    self._cancel(slot, process)
        finally:
            slot.lock.release()

    def _cancel(self, slot: _Slot, process: WorkerProcess) -> None:
        try:
            process.send({"op": "cancel"})
            while process.event(self.timeout).get("event") not in ("done", "error"):
                pass
        except (WorkerDied, WorkerSilent):
            process.kill()
            if slot.process is process:
                slot.process = None
