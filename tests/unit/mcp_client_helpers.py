"""Calling the MCP server through the SDK's own client, connected in process (needs the mcp extra)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from async_helpers import run_coroutine
from mcp import Client

from scopebot.mcp_server.server import build_server
from scopebot.mcp_server.services import ScopebotServices


def with_client(services: ScopebotServices, body: Callable[[Client], Awaitable[Any]]) -> Any:
    """Run ``body(client)`` against a server built for ``services``; returns its result."""
    async def main() -> Any:
        async with Client(build_server(services)) as client:
            return await body(client)

    return run_coroutine(main)
