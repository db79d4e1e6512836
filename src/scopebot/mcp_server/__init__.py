"""scopebot as a Model Context Protocol server (``scopebot mcp``); see :mod:`scopebot.mcp_server.server`.

Importing this package is light: the ``mcp`` SDK (the ``scopebot[mcp]`` extra) is imported only by
:mod:`scopebot.mcp_server.server`. :class:`~scopebot.mcp_server.services.ScopebotServices` (the calls
behind the tools, also used by the Jupyter magic) needs no SDK.
"""
