"""The local-model worker: llama.cpp in its own process, speaking JSON lines over stdin/stdout.

Started by :mod:`scopebot.llm.process` as ``python -m scopebot.llm.worker --model PATH --n-ctx N
--n-threads N --n-batch N --seed N``. A crash in native code (a SIGSEGV in ``libggml-cpu.so``) then
kills this process only; the server reports it and starts a new worker.

Protocol (one JSON object per line; the parent writes requests, the worker answers with events):

* after start-up: ``{"event": "ready", "pid", "n_batch", "llama_cpp"}`` or
  ``{"event": "error", "kind": "config"|"model", "message", "hint"}`` (and exit code 3);
* ``{"op": "ping"}`` -> ``{"event": "pong", "pid"}``;
* ``{"op": "chat", "messages": [...], "max_tokens", "temperature", "stop"}`` -> ``{"event": "delta",
  "text"}`` ... then ``{"event": "done", "finish_reason"}`` or ``{"event": "error", ...}``; a
  ``{"op": "cancel"}`` line sent meanwhile ends the generation early (``finish_reason: "cancelled"``);
* ``{"op": "exit"}``, or the end of stdin (the parent went away): exit 0.

Native libraries may print to file descriptor 1, so the protocol uses a duplicate of it and fd 1 is
pointed at stderr before llama.cpp is loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from scopebot.errors import ConfigurationError, ScopebotError
from scopebot.llm.base import Message
from scopebot.llm.errors import ContextOverflowError

#: Module run with ``python -m`` to start the real worker.
WORKER_MODULE = "scopebot.llm.worker"
#: Exit code of a worker whose model could not be loaded (not a crash).
EXIT_LOAD_FAILED = 3


def error_event(exc: BaseException) -> dict[str, Any]:
    """The ``error`` event for an exception raised while loading or generating."""
    if isinstance(exc, ContextOverflowError):
        kind = "overflow"
    elif isinstance(exc, ConfigurationError):
        kind = "config"
    else:
        kind = "model"
    if isinstance(exc, ScopebotError):
        return {"event": "error", "kind": kind, "message": exc.message, "hint": exc.hint}
    return {"event": "error", "kind": kind, "message": f"{type(exc).__name__}: {exc}", "hint": ""}


class Channel:
    """The protocol's two ends inside the worker: requests from stdin, events to the saved stdout."""

    def __init__(self, requests: IO[str], events: IO[str]) -> None:
        self.requests = requests
        self.events = events

    def send(self, event: dict[str, Any]) -> None:
        self.events.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.events.flush()

    def read(self) -> dict[str, Any] | None:
        """The next request, or None at the end of stdin."""
        while True:
            line = self.requests.readline()
            if not line:
                return None
            if line.strip():
                return json.loads(line)

    def cancelled(self) -> bool:
        """Whether a ``cancel`` (or ``exit``) line is waiting, without blocking."""
        try:
            ready, _, _ = select.select([self.requests], [], [], 0)
        except (OSError, ValueError):
            return False
        if not ready:
            return False
        request = self.read()
        return request is None or request.get("op") in ("cancel", "exit")


def protocol_channel() -> Channel:
    """Keep the real stdout for the protocol and send everything else written to fd 1 to stderr."""
    events_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return Channel(sys.stdin, os.fdopen(events_fd, "w", encoding="utf-8", buffering=1))


def serve(channel: Channel, generate: Any, ready: dict[str, Any]) -> int:
    """Answer requests until ``exit`` or the end of stdin. ``generate(request) -> Iterator[(text, finish)]``."""
    channel.send({"event": "ready", "pid": os.getpid(), **ready})
    while True:
        request = channel.read()
        if request is None or request.get("op") == "exit":
            return 0
        op = request.get("op")
        if op == "ping":
            channel.send({"event": "pong", "pid": os.getpid()})
        elif op == "cancel":
            continue  # arrived after the generation ended
        elif op == "chat":
            finish: str | None = None
            try:
                for text, reason in generate(request):
                    if text:
                        channel.send({"event": "delta", "text": text})
                    finish = reason or finish
                    if channel.cancelled():
                        finish = "cancelled"
                        break
            except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent
                channel.send(error_event(exc))
                continue
            channel.send({"event": "done", "finish_reason": finish or "stop"})
        else:
            channel.send({"event": "error", "kind": "config", "message": f"unknown request {op!r}", "hint": ""})


def llama_generator(path: Path, n_ctx: int, n_threads: int, n_batch: int, seed: int) -> Any:
    """Load the GGUF with llama.cpp (in this process) and return the ``generate`` function for :func:`serve`."""
    from scopebot.llm.embedded import LlamaCache, LlamaCppModel

    model = LlamaCppModel(path, n_ctx=n_ctx, n_threads=n_threads, n_batch=n_batch, seed=seed,
                          cache=LlamaCache())
    model.load()

    def generate(request: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
        messages = [Message.model_validate(m) for m in request.get("messages") or []]
        for delta in model.stream(messages, max_tokens=request.get("max_tokens"),
                                  temperature=request.get("temperature"), stop=request.get("stop")):
            yield delta.text, delta.finish_reason

    return generate


def llama_cpp_version() -> str:
    try:
        from importlib.metadata import version

        return version("llama-cpp-python")
    except Exception:  # noqa: BLE001 - not installed
        return "not installed"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scopebot.llm.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="GGUF file")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--n-threads", type=int, default=1)
    parser.add_argument("--n-batch", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    channel = protocol_channel()
    try:
        generate = llama_generator(args.model, args.n_ctx, args.n_threads, args.n_batch, args.seed)
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        channel.send(error_event(exc))
        return EXIT_LOAD_FAILED
    return serve(channel, generate, {"n_batch": args.n_batch, "llama_cpp": llama_cpp_version()})


if __name__ == "__main__":
    sys.exit(main())
