"""Errors raised during a UI action name the control to change, not the environment variable.

The chat backends say "check SCOPEBOT_LLM_BASE_URL" because that is what a CLI user changes. In the
web UI the same setting is the *Settings → Endpoint URL* field, so :func:`ui_message` rewrites the
names of the settings a page has a control for. Settings with no control on the page (timeouts,
login, code execution) keep their variable name: only the operator can change those.
"""

from __future__ import annotations

import re

from scopebot.errors import user_message

#: Environment variable -> the page control that sets the same thing (labels as on the page).
CONTROLS: dict[str, str] = {
    "SCOPEBOT_LLM_BASE_URL": "Settings → Endpoint URL",
    "SCOPEBOT_LLM_MODEL": "Settings → Model",
    "SCOPEBOT_LLM_API_KEY": "Settings → API key",
    "OPENAI_API_KEY": "Settings → API key",
    "SCOPEBOT_LLM_BACKEND": "Settings → Backend",
    "SCOPEBOT_ANSWER_MODE": "Settings → Answer mode",
    "SCOPEBOT_STRICT": "Settings → Strict",
}
_NAMES = re.compile(r"\b(" + "|".join(sorted(CONTROLS, key=len, reverse=True)) + r")\b(?:=[^\s,;)]*)?")


def name_controls(text: str) -> str:
    """``text`` with each variable that has a page control replaced by the control's name."""
    return _NAMES.sub(lambda m: CONTROLS[m.group(1)], text)


def ui_message(err: BaseException) -> str:
    """:func:`~scopebot.errors.user_message` for the page: plain text naming the page's controls."""
    return name_controls(user_message(err))
