"""Data derived from one index build, computed once per build and kept beside it.

Some consumers compute statistics over every chunk on their first call: the answer pipeline's
corpus document frequencies, the tool catalog's validated Model Zoo entries. In a fresh CLI process
that costs seconds each time. :func:`cached_json` keeps such a result as JSON in the build directory
(``<build>/derived/<name>-<version>.json``), so it is computed once per build and deleted with it.
``version`` must change whenever the computation changes; :func:`code_version` derives one from
the source files of the code that computes it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,80}$")


def code_version(*objects: Any) -> str:
    """A short hash of the source files defining ``objects`` (functions, classes or modules)."""
    h = hashlib.sha256()
    for obj in objects:
        try:
            h.update(Path(inspect.getsourcefile(obj) or "").read_bytes())
        except (OSError, TypeError):
            h.update(repr(obj).encode())
    return h.hexdigest()[:12]


def cached_json(directory: Path, name: str, version: str, compute: Callable[[], T]) -> T:
    """``compute()``'s JSON-serialisable result, read from ``directory/derived`` when it was stored before."""
    if not _NAME.match(name) or not _NAME.match(version):
        raise ValueError(f"derived data names are lower-case words, not {name!r} / {version!r}")
    path = directory / "derived" / f"{name}-{version}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    value = compute()
    try:
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):  # read-only index or a value JSON cannot hold: compute next time
        pass
    return value
