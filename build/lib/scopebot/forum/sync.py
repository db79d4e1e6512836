"""``scopebot sync imagesc``: fetch forum topics into the store, then ingest the store into the index.

The sync is incremental and crash-safe:

1. *Discover* candidate topics (``/search.json`` with Discourse filters, or ``/latest.json``).
2. For each candidate whose listing signature (last post time, post count, solved flag) differs
   from the stored one, *fetch* the topic and store it atomically. Unchanged topics are skipped
   without a request. A 404/410/403 means the topic was deleted or hidden: it is skipped and, when
   we had stored it, removed (authors' deletions are respected). Malformed JSON fails that topic
   only. After ``max_consecutive_failures`` unreachable errors in a row the sync stops early.
3. *Ingest* every stored topic (not only this run's) through the injected ``ingest`` callable, but
   only when the store's content digest differs from the last successful ingest. The index builder
   replaces the forum source atomically, so a failure at any point leaves the previous index intact,
   and the next run ingests what the store holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from scopebot.errors import ConfigurationError
from scopebot.forum.client import DiscourseClient
from scopebot.forum.convert import FORUM_SOURCE, topic_to_sections
from scopebot.forum.errors import ForumDataError, ForumError, ForumRateLimited, ForumUnavailable, TopicGone
from scopebot.forum.models import TopicSummary
from scopebot.forum.store import TopicStore
from scopebot.sources.models import Section, SourceSpec

log = logging.getLogger("scopebot.forum")

#: The index builder's ``ingest_sections`` (or a test collector).
IngestFn = Callable[[SourceSpec, list[Section]], object]
#: Progress callback: (event, topic id, title) with event in fetched/new/updated/unchanged/gone/failed.
ProgressFn = Callable[[str, int, str], None]


@dataclass
class SyncOptions:
    """What to fetch. Without query, tags, category or ``solved`` the latest topics are used."""

    query: str = ""
    tags: list[str] = field(default_factory=list)
    category: str = ""
    since: date | None = None
    solved: bool = False
    max_topics: int = 100

    def __post_init__(self) -> None:
        if self.max_topics < 1:
            raise ConfigurationError("--max-topics must be at least 1", hint="e.g. --max-topics 50")

    @property
    def uses_search(self) -> bool:
        return bool(self.query.strip() or self.tags or self.category or self.solved)

    def search_query(self) -> str:
        """The Discourse search string, e.g. ``stardist tags:fiji,python after:2024-01-01 status:solved``."""
        parts = [self.query.strip()] if self.query.strip() else []
        if self.tags:
            parts.append("tags:" + ",".join(t.strip().lower() for t in self.tags if t.strip()))
        if self.category:
            parts.append(f"#{self.category.strip().lstrip('#')}")
        if self.since:
            parts.append(f"after:{self.since.isoformat()}")
        if self.solved:
            parts.append("status:solved")
        if not self.query.strip():
            parts.append("order:latest")
        return " ".join(parts)


@dataclass
class SyncReport:
    """Counts and problems of one sync run."""

    discovered: int = 0
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    gone: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    aborted: str = ""
    discovery_warning: str = ""
    stored_total: int = 0
    ingested: bool = False
    ingest_result: object = None
    sections: int = 0

    @property
    def ok(self) -> bool:
        return not self.aborted

    def summary(self) -> str:
        text = (f"discovered {self.discovered}, fetched {self.fetched}, new {self.new}, "
                f"updated {self.updated}, skipped unchanged {self.unchanged}, "
                f"gone {len(self.gone)}, failed {len(self.failed)}; {self.stored_total} topics stored")
        if self.ingested:
            text += f"; ingested {self.sections} sections"
        return text


class ForumSync:
    """Runs one sync of the forum into a :class:`TopicStore` and the index."""

    def __init__(self, client: DiscourseClient, store: TopicStore, ingest: IngestFn | None = None, *,
                 base_url: str | None = None, max_replies: int = 3, max_consecutive_failures: int = 3,
                 progress: ProgressFn | None = None) -> None:
        self.client = client
        self.store = store
        self.ingest = ingest
        self.base_url = (base_url or client.base_url).rstrip("/")
        self.max_replies = max_replies
        self.max_consecutive_failures = max_consecutive_failures
        self.progress = progress
        self.source = FORUM_SOURCE.model_copy(update={"url": self.base_url})

    # -- discovery -------------------------------------------------------------------------------
    def discover(self, options: SyncOptions, report: SyncReport | None = None) -> list[TopicSummary]:
        """Candidate topics, newest activity first, at most ``max_topics``, deduplicated.

        A failure on the first page raises (nothing can be done); a failure on a later page keeps the
        topics found so far and is noted in the report.
        """
        found: dict[int, TopicSummary] = {}
        page = 1 if options.uses_search else 0
        first = True
        while len(found) < options.max_topics:
            try:
                if options.uses_search:
                    result = self.client.search(options.search_query(), page=page)
                    topics, more = result.topics, result.has_more
                else:
                    listing = self.client.latest(page=page)
                    topics, more = listing.topic_list.topics, bool(listing.topic_list.more_topics_url)
            except ForumError as exc:
                if first:
                    raise
                if report is not None:
                    report.discovery_warning = f"stopped listing topics early: {exc.message}"
                break
            first = False
            before = len(found)
            for t in topics:
                if options.since and (t.last_posted_at or t.created_at or "")[:10] < options.since.isoformat():
                    continue
                found.setdefault(t.id, t)
                if len(found) >= options.max_topics:
                    break
            # stop at the last page, and when a page adds nothing (older than --since, or repeats)
            if not more or len(found) == before:
                break
            page += 1
        return list(found.values())

    # -- the run ---------------------------------------------------------------------------------
    def run(self, options: SyncOptions, *, ingest: bool = True, force_ingest: bool = False) -> SyncReport:
        """Discover, fetch changed topics, store them, and ingest the store when it changed."""
        report = SyncReport()
        with self.store.locked():
            self.store.load()
            candidates = self.discover(options, report)
            report.discovered = len(candidates)
            consecutive = 0
            for summary in candidates:
                outcome = self._sync_one(summary, report)
                consecutive = consecutive + 1 if outcome == "unavailable" else 0
                if outcome == "rate-limited":
                    report.aborted = f"the forum asked us to slow down: {report.failed[summary.id]}"
                    break
                if consecutive >= self.max_consecutive_failures:
                    report.aborted = (f"stopped after {consecutive} failed requests in a row: "
                                      f"{report.failed[summary.id]}")
                    break
            report.stored_total = len(self.store)
            if ingest and self.ingest is not None:
                self.ingest_store(report, force=force_ingest)
        return report

    def _notify(self, event: str, topic_id: int, title: str) -> None:
        if self.progress is not None:
            self.progress(event, topic_id, title)

    def _sync_one(self, summary: TopicSummary, report: SyncReport) -> str:
        stored = self.store.get(summary.id)
        if stored is not None and stored.signature == summary.signature:
            report.unchanged += 1
            self._notify("unchanged", summary.id, summary.title)
            return "unchanged"
        try:
            topic = self.client.topic(summary.id)
        except TopicGone as exc:
            report.gone.append(summary.id)
            if self.store.remove(summary.id):
                report.removed.append(summary.id)
            log.info("topic %s is gone: %s", summary.id, exc.message)
            self._notify("gone", summary.id, summary.title)
            return "gone"
        except ForumDataError as exc:
            report.failed[summary.id] = exc.message
            self._notify("failed", summary.id, summary.title)
            return "failed"
        except ForumUnavailable as exc:
            report.failed[summary.id] = exc.message
            self._notify("failed", summary.id, summary.title)
            return "rate-limited" if isinstance(exc, ForumRateLimited) else "unavailable"
        except ForumError as exc:
            report.failed[summary.id] = exc.message
            self._notify("failed", summary.id, summary.title)
            return "failed"
        report.fetched += 1
        sections = topic_to_sections(topic, base_url=self.base_url, max_replies=self.max_replies)
        fingerprint = sections[0].metadata["fingerprint"] if sections else "empty"
        if stored is not None and stored.fingerprint == fingerprint:
            self.store.touch(topic.id, summary.signature)
            report.unchanged += 1
            self._notify("unchanged", topic.id, topic.title)
            return "unchanged"
        self.store.save(topic, fingerprint)
        if summary.signature != topic.signature:       # listing and topic disagree: trust the listing
            self.store.touch(topic.id, summary.signature)
        event = "new" if stored is None else "updated"
        setattr(report, event, getattr(report, event) + 1)
        self._notify(event, topic.id, topic.title)
        return event

    def sections(self) -> list[Section]:
        """Sections of every stored topic (the whole forum source, as the index should hold it)."""
        out: list[Section] = []
        for topic in self.store.iter_topics():
            out.extend(topic_to_sections(topic, base_url=self.base_url, max_replies=self.max_replies))
        return out

    def ingest_store(self, report: SyncReport, *, force: bool = False) -> None:
        """Hand all stored sections to the index when the store changed since the last ingest."""
        if self.ingest is None or (not len(self.store) and not self.store.last_ingested):
            return                      # nothing synced, nothing ever ingested: leave the index alone
        if not force and not self.store.needs_ingest:
            return
        digest = self.store.digest()
        sections = self.sections()
        report.ingest_result = self.ingest(self.source, sections)
        self.store.mark_ingested(digest)
        report.ingested = True
        report.sections = len(sections)
