"""One local-model worker process seen from the parent: start it, talk JSON lines to it, stop it.

:class:`WorkerProcess` never blocks forever: every wait has a timeout (:class:`WorkerSilent`), and a
worker that went away is reported with how it ended (:class:`WorkerDied`, e.g. ``SIGSEGV``). Nothing
here imports native code; the worker does that in its own process.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, replace
from typing import IO, Any

from scopebot.errors import ConfigurationError, ModelError, ScopebotError
from scopebot.llm.errors import ContextOverflowError
from scopebot.llm.worker import WORKER_MODULE

#: The command that runs the real worker (the options of :class:`WorkerSpec` are appended).
DEFAULT_WORKER_COMMAND: tuple[str, ...] = (sys.executable, "-m", WORKER_MODULE)


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process runs: the command, the GGUF and llama.cpp's options."""

    command: tuple[str, ...]
    model: str
    n_ctx: int = 2048
    n_threads: int = 1
    n_batch: int = 512
    seed: int = 0

    def argv(self) -> list[str]:
        return [*self.command, "--model", self.model, "--n-ctx", str(self.n_ctx), "--n-threads",
                str(self.n_threads), "--n-batch", str(self.n_batch), "--seed", str(self.seed)]

    def with_batch(self, n_batch: int) -> WorkerSpec:
        return replace(self, n_batch=n_batch)

    @property
    def injected(self) -> bool:
        """Whether the command is not the real llama.cpp worker (a test double)."""
        return tuple(self.command) != DEFAULT_WORKER_COMMAND


class WorkerDied(Exception):
    """The worker process ended; ``reason`` says how (``SIGSEGV``, ``exit code 1``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WorkerSilent(Exception):
    """The worker sent nothing for ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no reply for {seconds:.0f} s")
        self.seconds = seconds


def describe_exit(code: int | None) -> str:
    """``-11`` -> ``SIGSEGV``; ``1`` -> ``exit code 1``; None -> ``still running``."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def remote_error(event: dict[str, Any]) -> ScopebotError:
    """The scopebot error for an ``error`` event sent by the worker."""
    message = str(event.get("message") or "the local model failed")
    hint = str(event.get("hint") or "")
    kind = event.get("kind")
    if kind == "overflow":
        return ContextOverflowError(message, hint=hint) if hint else ContextOverflowError(message)
    if kind == "config":
        return ConfigurationError(message, hint=hint)
    return ModelError(message, hint=hint)


class WorkerProcess:
    """A running worker. Start-up is asynchronous: :meth:`wait_ready` waits for the model to load."""

    def __init__(self, spec: WorkerSpec, *, env: dict[str, str] | None = None) -> None:
        self.spec = spec
        self.ready: dict[str, Any] | None = None
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._write_lock = threading.Lock()
        try:
            self._proc = subprocess.Popen(spec.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, env=env, close_fds=True)
        except OSError as exc:
            raise ConfigurationError(f"cannot start the local-model worker {spec.command[0]!r}: {exc.strerror}",
                                     hint="check SCOPEBOT_LLM_WORKER_COMMAND (leave it unset for the "
                                          "built-in worker)") from exc
        threading.Thread(target=self._read_events, args=(self._proc.stdout,), daemon=True,
                         name=f"llm-worker-{self.pid}-out").start()
        threading.Thread(target=self._read_stderr, args=(self._proc.stderr,), daemon=True,
                         name=f"llm-worker-{self.pid}-err").start()

    def __repr__(self) -> str:
        return f"WorkerProcess(pid={self.pid}, n_batch={self.spec.n_batch}, alive={self.alive})"

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll()

    # -- reader threads ---------------------------------------------------------------------------
    def _read_events(self, stream: IO[bytes]) -> None:
        try:
            for raw in stream:
                line = raw.decode("utf-8", "replace").strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    self.stderr_tail.append(line)  # stray output from native code
                    continue
                if isinstance(event, dict):
                    self._events.put(event)
        except (OSError, ValueError):
            pass
        finally:
            self._events.put(None)

    def _read_stderr(self, stream: IO[bytes]) -> None:
        try:
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip()
                if line:
                    self.stderr_tail.append(line)
        except (OSError, ValueError):
            pass

    # -- protocol ---------------------------------------------------------------------------------
    def exit_reason(self, wait: float = 5.0) -> str:
        try:
            code: int | None = self._proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            code = None
        return describe_exit(code)

    def send(self, request: dict[str, Any]) -> None:
        data = (json.dumps(request, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            with self._write_lock:
                assert self._proc.stdin is not None
                self._proc.stdin.write(data)
                self._proc.stdin.flush()
        except (OSError, ValueError):
            raise WorkerDied(self.exit_reason()) from None

    def event(self, timeout: float) -> dict[str, Any]:
        """The next event; :class:`WorkerSilent` after ``timeout`` s, :class:`WorkerDied` at its end."""
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            raise WorkerSilent(timeout) from None
        if event is None:
            self._events.put(None)  # keep reporting the end
            raise WorkerDied(self.exit_reason())
        return event

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        """Wait until the model is loaded; a load failure is raised as the worker reported it."""
        if self.ready is None:
            event = self.event(timeout)
            if event.get("event") == "error":
                self.stop()
                raise remote_error(event)
            if event.get("event") != "ready":
                raise WorkerDied(f"unexpected first message {event.get('event')!r}")
            self.ready = event
        return self.ready

    def ping(self, timeout: float) -> dict[str, Any]:
        """Health check: the worker answers ``pong`` within ``timeout`` s."""
        self.send({"op": "ping"})
        event = self.event(timeout)
        if event.get("event") != "pong":
            raise WorkerDied(f"answered {event.get('event')!r} to a health check")
        return event

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the worker to exit; kill it if it does not within ``timeout`` s."""
        if self.alive:
            try:
                self.send({"op": "exit"})
            except WorkerDied:
                pass
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_pipes()

    def kill(self) -> None:
        if self.alive:
            self._proc.kill()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
            pass
        self._close_pipes()

    def _close_pipes(self) -> None:
        if self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
