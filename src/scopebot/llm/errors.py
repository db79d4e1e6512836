"""Chat-model errors shared by the backends, and the secret scrubber every error passes through.

:class:`ContextOverflowError` is a :class:`~scopebot.errors.ModelError` that callers may catch on its
own (e.g. the answer pipeline retries with fewer passages). :func:`scrub` removes API keys from any
text that could reach a log, a traceback or the user, so that a key is never shown.
"""

from __future__ import annotations

import re

from scopebot.errors import ModelError

#: Things that look like API keys: OpenAI-style ``sk-...`` tokens (also partially masked ones an
#: endpoint may echo back) and ``Bearer <token>`` headers.
_KEY_LIKE = re.compile(r"(sk-[A-Za-z0-9_*\-]{6,}|(?i:bearer)\s+[A-Za-z0-9._~+/=*\-]{6,})")

CONTEXT_HINT = ("shorten the question or the conversation, retrieve fewer passages (SCOPEBOT_TOP_K), "
                "or raise SCOPEBOT_LLM_CONTEXT")


class ContextOverflowError(ModelError):
    """The prompt (plus the tokens to generate) does not fit in the model's context window."""

    def __init__(self, message: str = "the prompt is longer than the model's context window", *,
                 hint: str = CONTEXT_HINT) -> None:
        super().__init__(message, hint=hint)


def scrub(text: str, *secrets: str | None) -> str:
    """Return ``text`` with every given secret and anything key-like replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_LIKE.sub("***", text)


#: The llama-cpp-python release scopebot is tested with (pinned in pyproject.toml).
LLAMA_CPP_VERSION = "0.3.36"
#: How to rebuild llama-cpp-python portably (no -march=native): the fix when the local model crashes.
REINSTALL_COMMAND = (f'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --force-reinstall --no-cache-dir '
                     f'llama-cpp-python=={LLAMA_CPP_VERSION}')
REINSTALL_HINT = (f"rebuild llama.cpp without CPU-specific code: {REINSTALL_COMMAND} ; then run "
                  "`scopebot models --self-test`. Meanwhile use --mode extractive or an OpenAI-compatible "
                  "endpoint (SCOPEBOT_LLM_BASE_URL)")


class WorkerFailedError(ModelError):
    """The local-model worker process died or hung during a turn (the server itself is unaffected).

    ``reason`` is what happened (``SIGSEGV``, ``exit code 1``, ``no reply for 120 s``); ``restarted``
    whether a fresh worker was started for the next turn.
    """

    def __init__(self, message: str, *, reason: str, restarted: bool, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
        self.restarted = restarted


class WorkerCrashedError(WorkerFailedError):
    """The worker process exited (a signal such as SIGSEGV, or an exit code) in the middle of a turn."""


class WorkerTimeoutError(WorkerFailedError):
    """The worker stayed silent longer than its timeout; it was stopped."""


class ModelUnavailableError(ModelError):
    """The local model cannot run here (its self-test failed, or it kept crashing).

    Callers that have a model-free way to answer (the answer pipeline's extractive mode) fall back to
    it; the message says how to fix the installation.
    """

    def __init__(self, message: str, *, hint: str = REINSTALL_HINT) -> None:
        super().__init__(message, hint=hint)
