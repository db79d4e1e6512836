"""Loading ``knowledge/sources.yaml`` and locating each source on disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import ValidationError

from scopebot.errors import ConfigurationError, SourceError
from scopebot.sources.models import SourceSpec


def load_manifest(path: Path) -> list[SourceSpec]:
    """Read and validate the source manifest; errors name the file and the entry."""
    if not path.is_file():
        raise ConfigurationError(f"Source manifest not found: {path}",
                                 hint="set SCOPEBOT_MANIFEST_PATH or run from the project checkout")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise ConfigurationError(f"Invalid YAML in {path}" + (f" at line {line + 1}" if line is not None else ""),
                                 hint=str(exc).splitlines()[0]) from exc
    entries = (data or {}).get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigurationError(f"{path} must contain a top-level 'sources:' list")
    specs: list[SourceSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        try:
            spec = SourceSpec.model_validate(entry)
        except ValidationError as exc:
            name = entry.get("id", f"#{i + 1}") if isinstance(entry, dict) else f"#{i + 1}"
            raise ConfigurationError(f"Invalid source entry {name} in {path}", hint=str(exc)) from exc
        if spec.id in seen:
            raise ConfigurationError(f"Duplicate source id {spec.id!r} in {path}")
        seen.add(spec.id)
        specs.append(spec)
    return specs


def select(specs: list[SourceSpec], ids: list[str] | None) -> list[SourceSpec]:
    """The specs with the given ids (all when ``ids`` is empty); unknown ids are an error."""
    if not ids:
        return specs
    known = {s.id: s for s in specs}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ConfigurationError(f"Unknown source id(s): {', '.join(unknown)}",
                                 hint=f"known sources: {', '.join(known)}")
    return [known[i] for i in ids]


def source_path(spec: SourceSpec, sources_dir: Path) -> Path:
    """Where the source lives; raises :class:`SourceError` saying how to get it when missing."""
    path = sources_dir / spec.subpath
    if not path.exists():
        how = (f"download it from {spec.download_url or spec.url} (revision {spec.revision or 'latest'}) "
               f"into {path}, or set SCOPEBOT_SOURCES_DIR to a folder that has it")
        raise SourceError(f"Source {spec.id!r} ({spec.title}) is missing", source_id=spec.id,
                          path=str(path), hint=how)
    return path


def fingerprint(path: Path) -> str:
    """Content hash of a source file or folder (names and bytes of every file, sorted)."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        h.update(str(f.relative_to(path.parent if path.is_file() else path)).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()
