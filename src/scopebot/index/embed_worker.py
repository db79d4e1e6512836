"""The embedder in its own process, for long-lived servers (the web UI, the MCP server).

A query embedding runs native code (onnxruntime, or torch) that a user's turn reaches. In a server that
many sessions share, a crash there must not take the server down, so :class:`ProcessEmbedder` runs the
configured embedder in a child process (``python -m scopebot.index.embed_worker``) behind the same
one-method :class:`~scopebot.index.embeddings.Embedder` seam. Embedding is a pure function, so when the
child dies or stops answering the parent starts a new one and asks again; only a second failure in a
row reaches the user, as a :class:`~scopebot.errors.ModelError` that says what happened.

Protocol (lines on the child's stdin/stdout): the child first writes ``{"ready": true, "name", "dim",
"variant"}``; then for each request ``{"texts": [...]}`` it answers ``{"n", "dim", "data"}`` with the
float32 rows base64-encoded, or ``{"error": "..."}``.
"""

from __future__ import annotations

import base64
import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import IO, Any

import numpy as np

from scopebot.errors import ModelError
from scopebot.index.embeddings import Embedder

WORKER_MODULE = "scopebot.index.embed_worker"
#: Settings the child needs to build the same embedder as the parent would.
FORWARDED_SETTINGS = ("home", "embedding_model", "embedding_backend", "embedding_int8_activations",
                      "embedding_threads", "embedding_batch_size")


def _how_it_ended(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            return f"stopped ({signal.Signals(-code).name})"
        except ValueError:
            return f"stopped (signal {-code})"
    return f"stopped (exit code {code})"


class ProcessEmbedder(Embedder):
    """The configured embedder, run in a child process that is restarted when it dies."""

    def __init__(self, settings_fields: dict[str, Any], *, command: Sequence[str] | None = None,
                 timeout: float = 120.0) -> None:
        self.settings_fields = dict(settings_fields)
        self.command = list(command) if command else [sys.executable, "-m", WORKER_MODULE]
        self.timeout = timeout
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._lock = threading.Lock()
        self._start()

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> ProcessEmbedder:
        fields = {name: getattr(settings, name) for name in FORWARDED_SETTINGS}
        fields["home"] = str(fields["home"])
        return cls(fields, **kwargs)

    # ---------------------------------------------------------------- the seam
    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            try:
                return self._ask(texts)
            except _Stopped as first:
                self.restarts += 1
                self._start()  # a pure function: ask a fresh worker once more
                try:
                    return self._ask(texts)
                except _Stopped as second:
                    raise ModelError(f"the embedding model {first.reason} and, restarted, {second.reason}",
                                     hint="run `scopebot models --self-test` and check the embedder install "
                                          "(SCOPEBOT_EMBEDDING_BACKEND=torch uses the reference embedder); "
                                          "the server keeps running") from None

    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self._stop()
        except Exception:  # noqa: BLE001
            pass

    # ---------------------------------------------------------------- the child
    def _start(self) -> None:
        self._stop()
        self._lines = queue.Queue()
        self._proc = subprocess.Popen([*self.command, json.dumps(self.settings_fields)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True)
        threading.Thread(target=_pump, args=(self._proc.stdout, self._lines), daemon=True).start()
        hello = self._read()
        if not hello.get("ready"):
            raise ModelError(f"the embedding worker did not start: {hello.get('error', 'no reply')}",
                             hint="check `scopebot search test` in a terminal for the full error")
        self.name, self.dim, self.variant = str(hello["name"]), int(hello["dim"]), str(hello.get("variant", ""))

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()

    def _ask(self, texts: list[str]) -> np.ndarray:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write((json.dumps({"texts": texts}) + "\n").encode())
            self._proc.stdin.flush()
        except OSError:
            raise _Stopped(self._ended()) from None
        reply = self._read()
        if "error" in reply:
            raise ModelError(f"the embedding model failed: {reply['error']}",
                             hint="check the embedder install (SCOPEBOT_EMBEDDING_BACKEND)")
        rows = np.frombuffer(base64.b64decode(reply["data"]), dtype=np.float32)
        return rows.reshape(int(reply["n"]), int(reply["dim"])).copy()

    def _read(self) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            if self._proc is not None:
                self._proc.kill()
            raise _Stopped(_how_it_ended(None)) from None
        if line is None:
            raise _Stopped(self._ended())
        return json.loads(line)

    def _ended(self) -> str:
        if self._proc is None:
            return _how_it_ended(None)
        try:
            return _how_it_ended(self._proc.wait(timeout=5))
        except subprocess.TimeoutExpired:
            self._proc.kill()
            return _how_it_ended(None)


def server_embedder(settings: Any) -> Embedder:
    """The query embedder of a long-lived server: in a restartable child process unless
    ``settings.embedding_worker`` is off or the embedder is the in-process test double."""
    from scopebot.index.embeddings import make_embedder

    if settings.embedding_worker and settings.embedding_model != "hash":
        return ProcessEmbedder.from_settings(settings)
    return make_embedder(settings)


class _Stopped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _pump(stream: IO[bytes] | None, lines: queue.Queue[bytes | None]) -> None:
    assert stream is not None
    for line in stream:
        lines.put(line)
    lines.put(None)


def main(argv: list[str] | None = None) -> int:
    """The child: build the embedder from the forwarded settings, then answer requests until stdin closes."""
    from scopebot.index.embeddings import make_embedder
    from scopebot.settings import Settings

    args = sys.argv[1:] if argv is None else argv
    out = sys.stdout.buffer

    def send(payload: dict[str, Any]) -> None:
        out.write((json.dumps(payload) + "\n").encode())
        out.flush()

    try:
        embedder = make_embedder(Settings(**json.loads(args[0])))
        probe = embedder.embed(["ready"])
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises with a hint
        send({"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    send({"ready": True, "name": embedder.name, "dim": int(probe.shape[1]),
          "variant": getattr(embedder, "variant", "")})
    for raw in sys.stdin.buffer:
        try:
            texts = json.loads(raw)["texts"]
            rows = np.ascontiguousarray(embedder.embed(list(texts)), dtype=np.float32)
            send({"n": rows.shape[0], "dim": rows.shape[1], "data": base64.b64encode(rows.tobytes()).decode()})
        except Exception as exc:  # noqa: BLE001
            send({"error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
