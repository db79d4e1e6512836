"""How scopebot's MCP server takes a tool call: clean text, known arguments, short errors with a hint.

:class:`ScopebotMCPServer` is the SDK's server with one step added in front of every tool call and
one behind it:

* in front: strings in the arguments lose undecodable characters (lone surrogates from JSON escapes,
  see :mod:`scopebot.usertext`), and an argument the tool does not have is refused with the list of
  the valid ones (the SDK would silently drop it, e.g. ``timeout_s`` for ``timeout``);
* behind: a schema violation becomes one short line per field (no pydantic URL), and an exception
  that is not one of scopebot's errors (a decoder failing on a corrupt file, say) becomes a tool
  error with its message and a "How to fix" hint, logged as one line instead of a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedResourceError, UnexpectedToolError
from pydantic import ValidationError

from scopebot.usertext import clean_value

logger = logging.getLogger("scopebot.mcp")
UNEXPECTED_HINT = ("check the input (a file may be corrupt, truncated or in another format: open it in Fiji and "
                   "export it again); if the input is fine, report the message above as a scopebot bug")


def _one_line(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[:limit] + " …"


def _original(exc: BaseException) -> BaseException:
    """The exception the SDK wrapped (its ``Unexpected...Error`` wrappers peeled off)."""
    while isinstance(exc, UnexpectedToolError | UnexpectedResourceError) and exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def validation_message(tool: str, exc: ValidationError, valid: list[str]) -> str:
    """A schema violation as short lines: ``field: what is wrong``, then the valid arguments."""
    lines = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        lines.append(f"{where}: {err.get('msg', 'invalid')}")
    return (f"invalid arguments for {tool}: " + "; ".join(lines)
            + f"\n  How to fix: send valid values for: {', '.join(valid)} (see the tool's input schema)")


class ScopebotMCPServer(MCPServer):
    """:class:`MCPServer` whose tool calls are cleaned, checked and answered with short errors."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        tool = self._tool_manager.get_tool(name)
        valid = list((tool.parameters or {}).get("properties", {})) if tool is not None else []
        arguments = clean_value(dict(arguments or {}))
        if tool is not None:
            unknown = sorted(set(arguments) - set(valid))
            if unknown:
                logger.warning("tool %s: unknown argument(s) %s", name, ", ".join(unknown))
                raise ToolError(f"{name} has no argument{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(repr(u) for u in unknown)}\n  How to fix: use only: {', '.join(valid)}")
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError as exc:
            cause = _original(exc)
            logger.warning("tool %s failed: %s: %s", name, type(cause).__name__, _one_line(cause))
            logger.debug("tool %s traceback", name, exc_info=cause)
            raise ToolError(f"{name} failed: {type(cause).__name__}: {_one_line(cause)}"
                            f"\n  How to fix: {UNEXPECTED_HINT}") from None
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(validation_message(name, exc.__cause__, valid)) from None
            raise
