"""Atomic JSON files and the on-disk HTTP response cache of the forum client.

Every file is written to a temporary sibling and moved into place with :func:`os.replace`, so a
crash (or Ctrl-C) never leaves a half-written file behind: readers see the old or the new content.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("scopebot.forum")


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` via a temp file + ``os.replace`` (atomic on POSIX/NTFS)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


class ResponseCache:
    """JSON responses keyed by URL + query parameters, each stamped with its fetch time.

    The cache never stores credentials: keys are built from the URL and the parameters only, and
    the client sends the API key in headers, which are not part of the key or of the file.
    """

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self.clock = clock

    @staticmethod
    def key(url: str, params: Mapping[str, Any] | None = None) -> str:
        items = sorted((str(k), str(v)) for k, v in (params or {}).items())
        raw = url + "?" + "&".join(f"{k}={v}" for k, v in items)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, max_age: float) -> Any | None:
        """The cached value when it is at most ``max_age`` seconds old, else None."""
        path = self._path(key)
        try:
            entry = read_json(path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.warning("ignoring unreadable forum cache entry %s", path.name)
            return None
        fetched = float(entry.get("fetched_at", 0.0)) if isinstance(entry, dict) else 0.0
        if self.clock() - fetched > max_age:
            return None
        return entry.get("data")

    def put(self, key: str, url: str, data: Any) -> None:
        try:
            write_json_atomic(self._path(key), {"fetched_at": self.clock(), "url": url, "data": data})
        except OSError as exc:  # a full disk must not break a working request
            log.warning("could not write forum cache entry: %s", exc)

    def clear(self) -> int:
        """Delete every cached response; returns how many were removed."""
        n = 0
        if self.directory.is_dir():
            for path in self.directory.glob("*/*.json"):
                path.unlink(missing_ok=True)
                n += 1
        return n
