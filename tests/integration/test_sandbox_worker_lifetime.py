"""The warm template survives the thread that started it, and a template that dies before a run starts
is replaced once (never when the user's code may have started).

Regression for the UI's Run button failing after a code turn: the template was started from a request
thread; its parent-death signal (bubblewrap's --die-with-parent, the worker's own PR_SET_PDEATHSIG) is
bound to the *thread* that forked it, so when that thread exited (Gradio's worker threads end after
being idle) the warm template was killed, in the middle of the next run.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from scopebot.code.synthetic import write_synthetic_image
from scopebot.errors import SandboxError
from scopebot.sandbox import Sandbox, SandboxLimits

pytestmark = pytest.mark.integration


def _in_thread(fn) -> None:  # noqa: ANN001
    box: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            box.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if box:
        raise box[0]


def test_template_outlives_the_thread_that_started_it(tmp_path: Path) -> None:
    image, _ = write_synthetic_image(tmp_path / "img")
    with Sandbox(SandboxLimits(timeout_s=20), workers=1, output_dir=tmp_path / "o") as sb:
        _in_thread(lambda: sb.run("print(open(IMAGE_PATH, 'rb').read(2))", files={"image.tif": image},
                                  globals={"IMAGE_PATH": "image.tif"}))
        time.sleep(0.5)
        worker = sb._pool._worker
        assert worker is not None and worker.alive(), "the template died with the thread that started it"
        pid = worker.proc.pid
        result = sb.run("print('hello')")
        assert result.ok and result.stdout.strip() == "hello", result.error
        assert sb._pool._worker is not None and sb._pool._worker.proc.pid == pid  # the same warm template


def test_run_survives_the_starting_thread_ending_during_the_run(tmp_path: Path) -> None:
    with Sandbox(SandboxLimits(timeout_s=20), workers=1, output_dir=tmp_path / "o") as sb:
        release = threading.Event()
        started = threading.Event()

        def starter() -> None:  # like a Gradio worker thread: warms the pool, then idles out and exits
            sb.warm_up()
            started.set()
            release.wait()

        t = threading.Thread(target=starter)
        t.start()
        started.wait(60)
        threading.Timer(0.8, release.set).start()
        result = sb.run("import time\ntime.sleep(2)\nprint('hello')")
        t.join()
        assert result.ok and result.stdout.strip() == "hello", result.error


def test_dead_template_is_replaced_once_before_the_code_starts(tmp_path: Path) -> None:
    with Sandbox(SandboxLimits(timeout_s=20), workers=1, output_dir=tmp_path / "o") as sb:
        sb.warm_up()
        dead = sb._pool._worker
        os.killpg(dead.proc.pid, signal.SIGKILL)
        dead.proc.wait(10)
        dead.alive = lambda: True  # type: ignore[method-assign]  # the pool still believes it is warm
        result = sb.run("print('hello')")
        assert result.ok and result.stdout.strip() == "hello", result.error
        assert sb._pool._worker is not dead and sb._pool._worker.alive()


def test_run_whose_code_started_is_not_retried(tmp_path: Path) -> None:
    marker = tmp_path / "o"
    with Sandbox(SandboxLimits(timeout_s=20), workers=1, output_dir=marker) as sb:
        sb.warm_up()
        worker = sb._pool._worker

        def kill_template() -> None:
            os.killpg(worker.proc.pid, signal.SIGKILL)

        threading.Timer(1.5, kill_template).start()
        t0 = time.monotonic()
        with pytest.raises(SandboxError):
            sb.run("import time\ntime.sleep(4)\nprint('side effect')")
        assert time.monotonic() - t0 < 4  # reported at once, not re-run (which would take another 4 s)
        result = sb.run("print('next')")  # and the next run gets a fresh template
        assert result.ok and result.stdout.strip() == "next", result.error
