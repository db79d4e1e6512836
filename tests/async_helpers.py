"""Running a client coroutine from a synchronous test."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any


def run_coroutine(factory: Callable[[], Awaitable[Any]]) -> Any:
    """``asyncio.run(factory())`` in a fresh thread: works even when this thread already runs an event loop
    (as playwright's sync API does while a browser is open)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(factory())  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
