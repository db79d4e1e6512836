"""Errors of the forum connector, each saying how to fix it.

They never contain request headers, so an API key cannot leak through an error message.
"""

from __future__ import annotations

from scopebot.errors import ScopebotRuntimeError

#: What the chat shows when the live forum search cannot be used.
UNREACHABLE_MESSAGE = "the image.sc forum is not reachable; answering from the index only"


class ForumError(ScopebotRuntimeError):
    """Base class of forum failures."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.status = status


class ForumUnavailable(ForumError):
    """The forum could not be reached (offline, DNS, timeouts, 5xx or 429 after all retries)."""


class ForumRateLimited(ForumUnavailable):
    """The forum asked us to wait longer than we are willing to (429 with a long Retry-After)."""


class TopicGone(ForumError):
    """The topic no longer exists or is not visible to us (404/410/403)."""


class ForumDataError(ForumError):
    """The forum answered, but not with the JSON we expected (malformed or wrong shape)."""
