"""A scripted local-model worker (the test double of :mod:`scopebot.llm.worker`), shipped in the package.

It speaks the same JSON-lines protocol without loading any model, and can be told to misbehave the
way a broken native build does, so tests (and people) can check that the server survives::

    python -m scopebot.llm.worker_double --crash-after 2            # SIGSEGV after 2 deltas of every chat
    python -m scopebot.llm.worker_double --crash-after 1 --crash-when BOOM   # only when the question says BOOM
    python -m scopebot.llm.worker_double --crash-if-batch-over 1    # like the broken AVX-512 build
    python -m scopebot.llm.worker_double --hang-after 1             # stops answering (a hang)
    python -m scopebot.llm.worker_double --quote-context            # quotes the first passage, with its key

Select it with ``SCOPEBOT_LLM_WORKER_COMMAND="python -m scopebot.llm.worker_double --crash-after 1"``
(the worker options ``--model --n-ctx --n-threads --n-batch --seed`` are appended and accepted).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

from scopebot.citations import CITATION_RE
from scopebot.llm.worker import Channel, protocol_channel, serve

#: Prefix of every reply of the scripted worker.
REPLY_PREFIX = "Scripted worker reply."


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scopebot.llm.worker_double")
    parser.add_argument("--crash-after", type=int, default=None,
                        help="die by --signal after this many deltas of a chat request")
    parser.add_argument("--crash-when", default=None, help="only crash/hang when the question (the last user message, or its 'Question:' line) "
                             "contains this")
    parser.add_argument("--hang-after", type=int, default=None, help="stop answering after this many deltas")
    parser.add_argument("--crash-if-batch-over", type=int, default=None,
                        help="crash on any chat when --n-batch is larger than this")
    parser.add_argument("--fail-load", default=None, help="report this load error at start-up")
    parser.add_argument("--signal", default="SIGSEGV", help="signal used to crash (SIGSEGV, SIGABRT, SIGKILL)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between deltas")
    parser.add_argument("--quote-context", action="store_true",
                        help="reply with the first sentence of the first cited passage in the prompt, with its "
                             "key (a grounded answer that passes the checks)")
    parser.add_argument("--model", default="")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--n-threads", type=int, default=1)
    parser.add_argument("--n-batch", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def _die(name: str) -> None:
    sig = getattr(signal, name.upper(), signal.SIGSEGV)
    if sig not in (signal.SIGKILL, signal.SIGSTOP):
        signal.signal(sig, signal.SIG_DFL)
    sys.stderr.flush()
    os.kill(os.getpid(), sig)
    time.sleep(5)  # the signal is delivered before this ends
    os._exit(1)


def quoted_reply(messages: list[dict[str, Any]]) -> str | None:
    """The first sentence of the first passage (``[key] title`` line, then its text) and its citation."""
    for message in messages:
        lines = str(message.get("content", "")).splitlines()
        for i, line in enumerate(lines):
            match = CITATION_RE.match(line.strip())
            if match and i + 1 < len(lines) and lines[i + 1].strip():
                sentence = re.split(r"(?<=[.!?])\s", lines[i + 1].strip(), maxsplit=1)[0]
                return f"{sentence.rstrip('.')} [{match.group(1)}]."
    return None


def scripted_generator(args: argparse.Namespace) -> Any:
    def generate(request: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
        messages = request.get("messages") or []
        question = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        asked = re.search(r"^Question:\s*(.+)$", question, re.MULTILINE)  # a grounded prompt: not the passages
        question = asked.group(1) if asked else question
        first_line = question.strip().splitlines()[0][:200] if question.strip() else ""
        triggered = args.crash_when is None or args.crash_when in question
        if args.crash_if_batch_over is not None and args.n_batch > args.crash_if_batch_over:
            _die(args.signal)
        reply = quoted_reply(messages) if args.quote_context else None
        words = (reply or f"{REPLY_PREFIX} You asked: {first_line}").split(" ")
        limit = request.get("max_tokens") or len(words)
        for i, word in enumerate(words[:limit]):
            if triggered and args.crash_after is not None and i >= args.crash_after:
                _die(args.signal)
            if triggered and args.hang_after is not None and i >= args.hang_after:
                time.sleep(3600)
            if args.delay:
                time.sleep(args.delay)
            yield (word if i == 0 else " " + word), None
        yield "", "length" if limit < len(words) else "stop"

    return generate


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    channel: Channel = protocol_channel()
    if args.fail_load:
        channel.send({"event": "error", "kind": "model", "message": args.fail_load, "hint": "scripted failure"})
        return 3
    return serve(channel, scripted_generator(args), {"n_batch": args.n_batch, "llama_cpp": "scripted"})


if __name__ == "__main__":
    sys.exit(main())
