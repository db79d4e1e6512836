"""The on-disk store of synced forum topics: the source of truth for the ``forum`` index source.

Layout under ``<home>/forum/``::

    topics/<id>.json   one fetched topic (parsed Discourse JSON + signature + fingerprint)
    index.json         summary of all stored topics and the digest of the last successful ingest
    .lock              held while a sync runs (so two syncs never interleave)

Both kinds of file are written atomically (temp file + ``os.replace``), topic first, index second.
If a sync dies between the two writes, :meth:`TopicStore.load` reconciles the index with the topic
files, so a crash can never lose a fetched topic nor leave a dangling entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from scopebot.errors import ConfigurationError
from scopebot.forum.cache import read_json, write_json_atomic
from scopebot.forum.models import Topic

log = logging.getLogger("scopebot.forum")
STORE_VERSION = 1


class StoredEntry(BaseModel):
    """What the index file remembers about one stored topic."""

    topic_id: int
    title: str
    signature: str
    fingerprint: str
    last_posted_at: str = ""
    synced_at: float = 0.0


class TopicStore:
    """Stored topics of one forum, keyed by topic id."""

    def __init__(self, root: Path, clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self.topics_dir = self.root / "topics"
        self.index_path = self.root / "index.json"
        self.clock = clock
        self.entries: dict[int, StoredEntry] = {}
        self.last_ingested: str = ""
        self.load()

    # -- loading & reconciling -------------------------------------------------------------------
    def load(self) -> None:
        """Read the index and make it agree with the topic files on disk."""
        self.entries = {}
        self.last_ingested = ""
        data: dict[str, Any] = {}
        if self.index_path.is_file():
            try:
                data = read_json(self.index_path)
            except (OSError, ValueError):
                log.warning("forum store index %s is unreadable; rebuilding it from the topic files",
                            self.index_path)
                data = {}
        for raw in (data.get("topics") or {}).values():
            with contextlib.suppress(ValidationError, TypeError):
                entry = StoredEntry.model_validate(raw)
                self.entries[entry.topic_id] = entry
        self.last_ingested = str(data.get("last_ingested") or "")
        on_disk = {int(p.stem): p for p in self.topics_dir.glob("*.json") if p.stem.isdigit()}
        changed = False
        for tid in list(self.entries):
            if tid not in on_disk:      # entry without a file: forget it
                del self.entries[tid]
                changed = True
        for tid, path in on_disk.items():
            if tid in self.entries:
                continue
            record = self._read_record(path)  # file without entry: a crash between the two writes
            if record is None:
                continue
            self.entries[tid] = StoredEntry.model_validate(record["entry"])
            changed = True
        if changed:
            self._write_index()

    def _read_record(self, path: Path) -> dict[str, Any] | None:
        try:
            record = read_json(path)
            Topic.model_validate(record["topic"])
            StoredEntry.model_validate(record["entry"])
            return record
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            log.warning("ignoring unreadable stored topic %s", path.name)
            return None

    def _write_index(self) -> None:
        write_json_atomic(self.index_path, {
            "version": STORE_VERSION, "last_ingested": self.last_ingested,
            "topics": {str(tid): e.model_dump() for tid, e in sorted(self.entries.items())}})

    # -- access ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, topic_id: object) -> bool:
        return topic_id in self.entries

    def get(self, topic_id: int) -> StoredEntry | None:
        return self.entries.get(int(topic_id))

    def topic(self, topic_id: int) -> Topic | None:
        """The stored topic, or None when missing or unreadable."""
        record = self._read_record(self._topic_path(topic_id))
        return Topic.model_validate(record["topic"]) if record else None

    def iter_topics(self) -> Iterator[Topic]:
        """Every stored topic in id order (unreadable files are skipped with a warning)."""
        for tid in sorted(self.entries):
            topic = self.topic(tid)
            if topic is not None:
                yield topic

    def _topic_path(self, topic_id: int) -> Path:
        return self.topics_dir / f"{int(topic_id)}.json"

    # -- changes ---------------------------------------------------------------------------------
    def save(self, topic: Topic, fingerprint: str) -> StoredEntry:
        """Store (or replace) a topic: topic file first, then the index, both atomically."""
        entry = StoredEntry(topic_id=topic.id, title=topic.title, signature=topic.signature,
                            fingerprint=fingerprint, last_posted_at=topic.last_posted_at or "",
                            synced_at=self.clock())
        write_json_atomic(self._topic_path(topic.id),
                          {"version": STORE_VERSION, "entry": entry.model_dump(),
                           "topic": topic.model_dump(mode="json")})
        self.entries[topic.id] = entry
        self._write_index()
        return entry

    def touch(self, topic_id: int, signature: str) -> None:
        """Record a new listing signature for a topic whose content did not change."""
        entry = self.entries.get(int(topic_id))
        if entry is not None and entry.signature != signature:
            self.entries[entry.topic_id] = entry.model_copy(update={"signature": signature})
            self._write_index()

    def remove(self, topic_id: int) -> bool:
        """Forget a topic (e.g. deleted on the forum); True when it was stored."""
        existed = int(topic_id) in self.entries
        self.entries.pop(int(topic_id), None)
        self._write_index()           # index first: a crash now leaves a file that load() re-adds
        self._topic_path(topic_id).unlink(missing_ok=True)
        return existed

    def digest(self) -> str:
        """Hash of all stored fingerprints: changes whenever the forum source's content changes."""
        raw = "\n".join(f"{tid}:{e.fingerprint}" for tid, e in sorted(self.entries.items()))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def mark_ingested(self, digest: str) -> None:
        self.last_ingested = digest
        self._write_index()

    @property
    def needs_ingest(self) -> bool:
        return self.digest() != self.last_ingested

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive lock for the duration of a sync (advisory, POSIX only; a no-op elsewhere)."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ConfigurationError("Another forum sync is already running on this home directory",
                                         hint="wait for it to finish (or stop it) and run again") from None
            yield
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
