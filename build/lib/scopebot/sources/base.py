"""Parser protocol, parser registry and the per-ingest problem report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scopebot.errors import SourceError
from scopebot.sources.models import Section, SourceSpec

#: A parser reads the source's folder and yields sections. Problems with single files are
#: recorded in the report (and parsing goes on); a problem that makes the whole source unusable
#: is raised as :class:`SourceError`.
Parser = Callable[[Path, SourceSpec, "ParseReport"], Iterator[Section]]

_PARSERS: dict[str, Parser] = {}


def register(name: str) -> Callable[[Parser], Parser]:
    """Decorator registering a parser under ``name`` (the ``parser:`` field of the manifest)."""

    def deco(fn: Parser) -> Parser:
        _PARSERS[name] = fn
        return fn

    return deco


def get_parser(name: str) -> Parser:
    from scopebot.sources import parsers  # noqa: F401  (registers the built-in parsers)

    try:
        return _PARSERS[name]
    except KeyError:
        from scopebot.errors import ConfigurationError

        raise ConfigurationError(f"Unknown parser {name!r}",
                                 hint=f"use one of: {', '.join(sorted(_PARSERS))}") from None


def parser_names() -> list[str]:
    from scopebot.sources import parsers  # noqa: F401

    return sorted(_PARSERS)


@dataclass
class ParseReport:
    """Collects non-fatal problems found while parsing one source."""

    source_id: str
    problems: list[SourceError] = field(default_factory=list)
    files_read: int = 0

    def problem(self, message: str, *, path: Path | str = "", line: int | None = None, hint: str = "") -> None:
        self.problems.append(SourceError(message, source_id=self.source_id, path=str(path), line=line, hint=hint))
