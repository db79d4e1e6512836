"""``scopebot mcp [--http] [--port N] [--allow-code] [--allow-path DIR]``: the MCP server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scopebot.clitools import error_boundary, get_settings, port_in_use
from scopebot.errors import ConfigurationError


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)


def mcp(http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP on 127.0.0.1 instead of stdio.")] = False,
        port: Annotated[int | None, typer.Option("--port", min=1, max=65535,
                                                 help="HTTP port (default SCOPEBOT_MCP_PORT, 8765).")] = None,
        allow_code: Annotated[bool, typer.Option("--allow-code", help="Let clients run code in the sandbox "
                                                                      "(default SCOPEBOT_MCP_ALLOW_CODE, off).")] = False,
        allow_path: Annotated[list[Path] | None, typer.Option(
            "--allow-path", help="A folder whose files clients may pass by path (repeatable).")] = None,
        ) -> None:
    """Serve scopebot's tools (search, ask, recommend_tools, run_code, analyse_image, forum_search) and its
    sources to Model Context Protocol clients. stdio by default: configure your client to start
    `scopebot mcp`. Nothing is loaded until the first call."""
    settings = get_settings()
    with error_boundary():
        try:
            from scopebot.mcp_server.server import serve
        except ModuleNotFoundError as exc:
            if exc.name is None or not exc.name.startswith("mcp"):
                raise
            raise ConfigurationError("The MCP SDK is not installed",
                                     hint="pip install 'scopebot[mcp]'") from None
        from scopebot.mcp_server.services import ScopebotServices

        folders = [*settings.mcp_allowed_paths, *(allow_path or [])]
        for folder in folders:
            if not Path(folder).expanduser().is_dir():
                raise ConfigurationError(f"allowed path is not a folder: {folder}", hint="pass an existing folder")
        if http:  # a busy port: one line now, not a server traceback after start-up
            problem = port_in_use("127.0.0.1", port or settings.mcp_port)
            if problem:
                raise ConfigurationError(problem, hint="pick a free port with --port N (or SCOPEBOT_MCP_PORT=N), "
                                                       "or stop the program that uses it")
        services = ScopebotServices(settings, allow_code=allow_code or settings.mcp_allow_code,
                                    allowed_paths=folders)
        serve(services, "http" if http else "stdio", port=port or settings.mcp_port)
