"""``python -m scopebot.mcp_server``: the same as ``scopebot mcp`` (stdio unless ``--http``)."""

import typer

from scopebot.mcp_server.cli import mcp

if __name__ == "__main__":
    typer.run(mcp)
