"""The agent: one conversation that routes each turn and uses scopebot's capabilities.

* :mod:`scopebot.agent.router` — deterministic turn routing (rules + nearest labelled examples);
* :mod:`scopebot.agent.assistant` — :class:`~scopebot.agent.assistant.Assistant`, the conversation;
* :mod:`scopebot.agent.toolloop` — the bounded tool-calling loop for tool-capable backends;
* :mod:`scopebot.agent.ports` — the protocols the Assistant depends on, and lazy adapters;
* :mod:`scopebot.agent.cli` — ``scopebot chat``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Assistant", "Route", "Router", "TurnResult"]


def __getattr__(name: str) -> Any:  # lazy, so importing scopebot.agent stays cheap
    if name == "Assistant":
        from scopebot.agent.assistant import Assistant

        return Assistant
    if name == "Router":
        from scopebot.agent.router import Router

        return Router
    if name in ("Route", "TurnResult"):
        from scopebot.agent import models

        return getattr(models, name)
    raise AttributeError(name)
