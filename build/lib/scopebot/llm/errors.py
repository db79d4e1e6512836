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
