"""Prompt templates: data in ``prompts/<name>.md``, validated when loaded.

A prompt file is a small YAML front matter followed by a ``str.format``-style body::

    ---
    name: answer_system
    description: What the prompt is for.
    placeholders: [question, passages, not_in_sources]
    ---
    System text with {passages} ...
    ---user---
    User text with {question} ...

The body before a ``---user---`` line is the system message and the text after it the user message
(a body without the marker is a single system message). Literal braces are written ``{{`` ``}}``.

Validation on load: the front matter has exactly the known keys, ``name`` equals the file name,
every ``{placeholder}`` in the body is declared, every declared placeholder is used, and placeholders
are plain identifiers (no ``{a.b}``, ``{a[0]}``, ``{a!r}`` or format specs). Any violation is a
:class:`~scopebot.errors.ConfigurationError` naming the file and the placeholder.

Constants shared with the checkers (:data:`PROMPT_CONSTANTS`: the "not in my sources" phrase and a
citation example) are defined in :mod:`scopebot.citations` and filled in automatically; a prompt
declares them like any placeholder but callers do not pass them.
"""

from __future__ import annotations

import re
import string
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from scopebot.citations import NOT_IN_SOURCES, format_citation, make_key
from scopebot.errors import ConfigurationError
from scopebot.llm.base import Message

if TYPE_CHECKING:
    from scopebot.settings import Settings

#: Values injected into every prompt that declares them (defined once, in ``scopebot.citations``).
PROMPT_CONSTANTS: dict[str, str] = {
    "not_in_sources": NOT_IN_SOURCES,
    "citation_example": format_citation(make_key("book", "example", "0")),
}
USER_MARKER = "---user---"
FRONT_MATTER_KEYS = {"name", "description", "placeholders", "version"}
_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n(.*)\Z", re.DOTALL)
_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _fields(text: str, path: Path) -> set[str]:
    """Placeholder names used in a ``str.format`` template, rejecting anything but plain names."""
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:  # e.g. a single '{' or '}'
        raise ConfigurationError(f"prompt {path}: malformed braces ({exc})",
                                 hint="write literal braces as {{ and }}") from exc
    for _literal, fname, spec, conversion in parsed:
        if fname is None:
            continue
        if not _IDENTIFIER_RE.fullmatch(fname) or spec or conversion:
            shown = "{" + fname + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ConfigurationError(f"prompt {path}: unsupported placeholder {shown}",
                                     hint="use plain names like {question}; write literal braces as {{ }}")
        names.add(fname)
    return names


@dataclass(frozen=True)
class PromptTemplate:
    """One validated prompt: a system part, an optional user part and its declared placeholders."""

    name: str
    description: str
    placeholders: tuple[str, ...]
    system: str
    user: str | None = None
    path: Path | None = None
    version: str | None = None
    _constants: dict[str, str] = field(default_factory=lambda: dict(PROMPT_CONSTANTS), repr=False,
                                      compare=False)

    @classmethod
    def from_file(cls, path: Path) -> PromptTemplate:
        """Read and validate ``path`` (see the module docstring for the rules)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read prompt file {path}: {exc.strerror}",
                                     hint="check SCOPEBOT_PROMPTS_DIR") from exc
        return cls.from_text(text, path=path)

    @classmethod
    def from_text(cls, text: str, *, path: Path | None = None) -> PromptTemplate:
        where = path or Path("<text>")
        match = _FRONT_MATTER_RE.match(text.replace("\r\n", "\n"))
        if not match:
            raise ConfigurationError(f"prompt {where}: missing YAML front matter",
                                     hint="start the file with ---, name/description/placeholders, ---")
        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"prompt {where}: invalid front matter: {exc}",
                                     hint="fix the YAML between the --- lines") from exc
        if not isinstance(meta, dict):
            raise ConfigurationError(f"prompt {where}: front matter must be a mapping",
                                     hint="write key: value lines between the --- lines")
        unknown = sorted(set(meta) - FRONT_MATTER_KEYS)
        if unknown:
            raise ConfigurationError(f"prompt {where}: unknown front-matter key(s) {', '.join(unknown)}",
                                     hint=f"allowed keys: {', '.join(sorted(FRONT_MATTER_KEYS))}")
        name, description = meta.get("name"), meta.get("description")
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"prompt {where}: 'name' is required", hint="add name: <file stem>")
        if path is not None and name != path.stem:
            raise ConfigurationError(f"prompt {where}: name {name!r} does not match the file name",
                                     hint=f"set name: {path.stem} or rename the file")
        if not isinstance(description, str) or not description.strip():
            raise ConfigurationError(f"prompt {where}: 'description' is required",
                                     hint="add a one-line description of what the prompt is for")
        declared = meta.get("placeholders") or []
        if not isinstance(declared, list) or not all(isinstance(p, str) for p in declared):
            raise ConfigurationError(f"prompt {where}: 'placeholders' must be a list of names",
                                     hint="write placeholders: [question, passages]")
        if len(set(declared)) != len(declared):
            raise ConfigurationError(f"prompt {where}: a placeholder is declared twice",
                                     hint="list each placeholder once")
        body = match.group(2)
        system, user = cls._split(body, where)
        used = _fields(system, where) | (_fields(user, where) if user is not None else set())
        undeclared = sorted(used - set(declared))
        if undeclared:
            raise ConfigurationError(f"prompt {where}: unknown placeholder {{{undeclared[0]}}}"
                                     + (f" (and {', '.join(undeclared[1:])})" if undeclared[1:] else ""),
                                     hint="declare it under placeholders: in the front matter, or write "
                                          "literal braces as {{ }}")
        unused = sorted(set(declared) - used)
        if unused:
            raise ConfigurationError(f"prompt {where}: declared placeholder {unused[0]!r} is never used",
                                     hint="use it in the body or remove it from placeholders:")
        version = meta.get("version")
        return cls(name=name, description=description.strip(), placeholders=tuple(declared),
                   system=system, user=user, path=path, version=None if version is None else str(version))

    @staticmethod
    def _split(body: str, where: Path) -> tuple[str, str | None]:
        lines = body.split("\n")
        markers = [i for i, line in enumerate(lines) if line.strip() == USER_MARKER]
        if len(markers) > 1:
            raise ConfigurationError(f"prompt {where}: more than one {USER_MARKER} line",
                                     hint="split the body into one system part and one user part")
        if not markers:
            system, user = body.strip(), None
        else:
            cut = markers[0]
            system, user = "\n".join(lines[:cut]).strip(), "\n".join(lines[cut + 1:]).strip()
        if not system:
            raise ConfigurationError(f"prompt {where}: the body is empty", hint="write the prompt text")
        return system, user

    # -- rendering ---------------------------------------------------------------------------------
    @property
    def inputs(self) -> tuple[str, ...]:
        """Placeholders the caller must pass (declared ones minus the shared constants)."""
        return tuple(p for p in self.placeholders if p not in self._constants)

    def _values(self, values: dict[str, Any]) -> dict[str, str]:
        clashing = sorted(set(values) & set(self._constants))
        if clashing:
            raise ConfigurationError(f"prompt {self.name}: {clashing[0]!r} is a shared constant",
                                     hint="do not pass it; it comes from scopebot.citations")
        missing = [p for p in self.inputs if p not in values]
        extra = sorted(set(values) - set(self.inputs))
        if missing:
            raise ConfigurationError(f"prompt {self.name}: missing value for {{{missing[0]}}}",
                                     hint=f"pass {', '.join(missing)} when rendering")
        if extra:
            raise ConfigurationError(f"prompt {self.name}: unexpected value {extra[0]!r}",
                                     hint=f"this prompt takes {', '.join(self.inputs) or 'no values'}")
        filled = {k: str(v) for k, v in values.items()}
        filled.update({k: v for k, v in self._constants.items() if k in self.placeholders})
        return filled

    def render(self, **values: Any) -> str:
        """The whole prompt as one text (system part, a blank line, then the user part)."""
        filled = self._values(values)
        parts = [self.system.format(**filled)]
        if self.user is not None:
            parts.append(self.user.format(**filled))
        return "\n\n".join(parts)

    def messages(self, **values: Any) -> list[Message]:
        """The prompt as chat messages: a system message and, when the body has one, a user message."""
        filled = self._values(values)
        out = [Message(role="system", content=self.system.format(**filled))]
        if self.user is not None:
            out.append(Message(role="user", content=self.user.format(**filled)))
        return out


class PromptLibrary:
    """All prompts of a directory, loaded (and validated) once each, on first use."""

    def __init__(self, prompts_dir: Path) -> None:
        self.prompts_dir = Path(prompts_dir)
        self._cache: dict[str, PromptTemplate] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """Names of the prompt files in the directory."""
        if not self.prompts_dir.is_dir():
            return []
        return sorted(p.stem for p in self.prompts_dir.glob("*.md") if p.name.lower() != "readme.md")

    def get(self, name: str) -> PromptTemplate:
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None:
            return cached
        path = self.prompts_dir / f"{name}.md"
        if not _IDENTIFIER_RE.fullmatch(name) or not path.is_file():
            known = ", ".join(self.names()) or "none"
            raise ConfigurationError(f"no prompt named {name!r} in {self.prompts_dir}",
                                     hint=f"available prompts: {known}; or check SCOPEBOT_PROMPTS_DIR")
        template = PromptTemplate.from_file(path)
        with self._lock:
            self._cache[name] = template
        return template

    def render(self, name: str, **values: Any) -> str:
        return self.get(name).render(**values)

    def messages(self, name: str, **values: Any) -> list[Message]:
        return self.get(name).messages(**values)

    def validate_all(self) -> list[PromptTemplate]:
        """Load every prompt in the directory; the first invalid one raises."""
        return [self.get(name) for name in self.names()]


def load_prompt(name: str, settings: Settings | None = None) -> PromptTemplate:
    """Load and validate ``prompts/<name>.md`` from ``settings.prompts_dir`` (default settings if None)."""
    if settings is None:
        from scopebot.settings import load_settings

        settings = load_settings()
    return PromptLibrary(settings.prompts_dir).get(name)
