"""Worker processes: the warm template ("zygote") and the pool that keeps it ready.

**Reuse policy.** A *run* always happens in a fresh child forked (through a per-run warden, which gives
it its own namespaces) from the template process; that child runs exactly one piece of user code and
then exits. The template itself never executes
user code, so nothing a run does — monkeypatching numpy, changing globals, filling caches,
writing files, changing the environment — can reach a later run, whoever sent it. The template
only pays the import of the scientific stack once; each fork inherits the imported modules for
free (copy-on-write). If the template dies it is restarted on the next run; a run whose template died
before the run's code was started (no start marker, see ``warden.py``) is sent once more to a fresh one.

**Which thread starts the template.** The template's parent-death signal (bubblewrap's
``--die-with-parent`` and the worker's own ``PR_SET_PDEATHSIG``) fires when the *thread* that forked it
exits, not the process. Templates are therefore started by one spawner thread that lives as long as this
process (:func:`spawn`), never by the request thread that happens to need one (a web server's worker
threads end when idle, which killed the warm template in the middle of a later run).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from scopebot.errors import SandboxError
from scopebot.sandbox.isolation import Isolation

#: Modules imported once by the warm template so that runs do not pay for them.
DEFAULT_PRELOAD: tuple[str, ...] = (
    "numpy", "scipy.ndimage", "scipy.stats", "pandas", "tifffile", "PIL.Image", "matplotlib",
    "matplotlib.pyplot", "skimage", "skimage.io", "skimage.filters", "skimage.measure",
    "skimage.morphology", "skimage.segmentation", "skimage.feature", "skimage.exposure",
    "skimage.restoration", "skimage.util", "skimage.draw", "skimage.transform",
)


class WorkerGone(SandboxError):
    """The template exited (or its pipe broke) before it reported on a job."""


class _Spawner:
    """Starts processes from one daemon thread that never exits (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def popen(self, cmd: list[str], **kwargs: object) -> subprocess.Popen:
        done = threading.Event()
        box: list[object] = []
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="sandbox-spawner", daemon=True)
                self._thread.start()
            self._jobs.put((cmd, kwargs, done, box))
        done.wait()
        if isinstance(box[0], BaseException):
            raise box[0]
        return box[0]  # type: ignore[return-value]

    def _loop(self) -> None:
        while True:
            cmd, kwargs, done, box = self._jobs.get()
            try:
                box.append(subprocess.Popen(cmd, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                box.append(exc)
            done.set()


_SPAWNER = _Spawner()


def _reset_spawner() -> None:
    global _SPAWNER
    _SPAWNER = _Spawner()  # a forked child has no spawner thread: it starts its own


os.register_at_fork(after_in_child=_reset_spawner)


def spawn(cmd: list[str], **kwargs: object) -> subprocess.Popen:
    """``subprocess.Popen`` from the long-lived spawner thread, so that the process's parent-death signal
    fires only when this process exits."""
    return _SPAWNER.popen(cmd, **kwargs)


class WorkerProcess:
    """One template process (possibly inside bubblewrap) that forks a child per job."""

    def __init__(self, isolation: Isolation, *, writable: Sequence[Path], readable: Sequence[Path],
                 env: dict[str, str], preload: Sequence[str] = (), python: str = sys.executable,
                 log_path: Path | None = None, start_timeout: float = 120.0) -> None:
        self.isolation = isolation
        self.preload = tuple(preload)
        self._pending: dict[str, tuple[threading.Event, list[dict]]] = {}
        self._lock = threading.Lock()
        cmd = isolation.command(python, Path(writable[0]), list(readable), ["serve", ",".join(self.preload)])
        self._log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = spawn(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                          env=env, start_new_session=True, close_fds=True)
        self.ready_info = self._wait_ready(start_timeout)
        self._reader = threading.Thread(target=self._read_replies, name="sandbox-reader", daemon=True)
        self._reader.start()

    def _wait_ready(self, timeout: float) -> dict:
        assert self.proc.stdout is not None
        result: list[bytes] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        line = result[0] if result else b""
        if not line:
            self.close()
            raise SandboxError("the sandbox worker did not start",
                               hint="check that the sandbox's Python can run (SCOPEBOT_SANDBOX_PYTHON) and see "
                                    "the worker.log of the sandbox folder")
        return json.loads(line)

    def _read_replies(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                reply = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                waiter = self._pending.pop(reply.get("id", ""), None)
            if waiter is not None:
                waiter[1].append(reply)
                waiter[0].set()
        with self._lock:  # the template died: wake everyone still waiting
            for event, _ in self._pending.values():
                event.set()
            self._pending.clear()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def submit(self, job: dict, wait_s: float) -> dict:
        """Send one job and wait for the template's report on it."""
        event: threading.Event = threading.Event()
        box: list[dict] = []
        with self._lock:
            self._pending[job["id"]] = (event, box)
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            with self._lock:
                self._pending.pop(job["id"], None)
            raise WorkerGone("the sandbox worker is gone", hint="the run can simply be retried") from exc
        reported = event.wait(wait_s)
        if not reported or not box:
            with self._lock:
                self._pending.pop(job["id"], None)
            error = WorkerGone if reported else SandboxError  # woken without a reply: the template exited
            raise error("the sandbox worker did not report on the run",
                               hint="the worker is restarted automatically; retry the run")
        return box[0]

    def close(self) -> None:
        """Stop the template; it kills any child still running."""
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, 9)  # bwrap's --die-with-parent takes the namespace with it
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait(timeout=5)
        if self._log is not subprocess.DEVNULL:
            self._log.close()  # type: ignore[union-attr]


class SandboxPool:
    """Keeps one warm template process and allows ``workers`` runs at the same time."""

    def __init__(self, isolation: Isolation, *, workers: int, writable: Sequence[Path], readable: Sequence[Path],
                 env: dict[str, str], preload: Sequence[str] = DEFAULT_PRELOAD, python: str = sys.executable,
                 log_path: Path | None = None) -> None:
        self._args = dict(isolation=isolation, writable=list(writable), readable=list(readable), env=env,
                          preload=preload, python=python, log_path=log_path)
        self._slots = threading.BoundedSemaphore(max(1, workers))
        self._lock = threading.Lock()
        self._worker: WorkerProcess | None = None
        self.started_at: float | None = None

    def _get(self) -> WorkerProcess:
        with self._lock:
            if self._worker is None or not self._worker.alive():
                if self._worker is not None:
                    self._worker.close()
                self._worker = WorkerProcess(**self._args)  # type: ignore[arg-type]
                self.started_at = time.monotonic()
            return self._worker

    def warm_up(self) -> dict:
        """Start the template now (instead of on the first run); returns its ready report."""
        return self._get().ready_info

    def submit(self, job: dict, wait_s: float, *, started: Callable[[], bool] | None = None) -> dict:
        """Run ``job`` on the warm template. ``started`` says whether the job's code was started; when the
        template died and it was not, the job is sent once more, to a fresh template."""
        with self._slots:
            for attempt in (1, 2):
                worker = self._get()
                try:
                    return worker.submit(job, wait_s)
                except SandboxError as exc:
                    with self._lock:
                        if self._worker is worker:
                            worker.close()
                            self._worker = None
                    if attempt == 2 or not isinstance(exc, WorkerGone) or started is None or started():
                        raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None
