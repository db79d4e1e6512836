"""Text typed or sent by a user, made safe for tokenizers, JSON and terminals.

Bytes that are not UTF-8 reach Python as lone surrogates: command-line arguments and ``$(cat file)``
are decoded with ``surrogateescape`` (U+DC80-U+DCFF), and JSON may carry escapes such as ``"\\ud800"``.
Such a string cannot be encoded as UTF-8, so tokenizers, ``print`` and JSON writers fail on it. Every
entry point (CLI arguments, MCP tool arguments, the Jupyter magic) passes user text through
:func:`clean_text`, and ``Embedder.embed`` applies :func:`clean_texts` once more, for every backend.
"""

from __future__ import annotations

import re
from typing import Any

#: What an undecodable character becomes (the Unicode replacement character).
REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate (an undecodable byte) replaced by U+FFFD; otherwise unchanged."""
    if not isinstance(text, str):
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(REPLACEMENT, text)
    return text


def clean_texts(texts: list[str]) -> list[str]:
    """:func:`clean_text` of each text."""
    return [clean_text(t) for t in texts]


def clean_value(value: Any) -> Any:
    """Strings anywhere inside JSON-like data (dicts, lists) cleaned with :func:`clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(clean_value(v) for v in value)
    return value
