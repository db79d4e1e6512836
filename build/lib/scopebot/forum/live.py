"""Live search of the image.sc forum during a chat, returning citable index-style results.

Forum hits come back as :class:`~scopebot.index.models.SearchResult` records with
``kind="forum"`` chunks, keyed like indexed forum chunks (``make_key("forum", ...)``), so the answer
pipeline can cite them beside the index. The best ``expand`` topics are read in full (question and
accepted answer); the rest use Discourse's search excerpt. Reachability is checked with one quick
request and remembered for ``reachability_ttl`` seconds, so an offline chat does not wait on every turn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scopebot.citations import make_key
from scopebot.forum.client import DiscourseClient
from scopebot.forum.convert import ACCEPTED, FORUM_SOURCE, QUESTION, SOURCE_ID, topic_to_sections, topic_url
from scopebot.forum.errors import UNREACHABLE_MESSAGE, ForumError, ForumUnavailable
from scopebot.forum.html import cooked_to_text
from scopebot.forum.models import SearchPost, TopicSummary
from scopebot.index.models import BREADCRUMB_SEP, Chunk, SearchResult
from scopebot.sources.models import Section

if TYPE_CHECKING:
    from scopebot.settings import Settings

log = logging.getLogger("scopebot.forum")


@dataclass
class LiveOutcome:
    """What the chat needs: the hits, whether the forum was used, and a line to show if not."""

    results: list[SearchResult] = field(default_factory=list)
    reachable: bool = True
    message: str = ""


class LiveForumSearch:
    """Searches the forum for one chat turn; never raises for "offline" in :meth:`try_search`."""

    def __init__(self, client: DiscourseClient, clock: Callable[[], float] = time.monotonic, *,
                 reachability_ttl: float = 60.0, expand: int = 2, cache_max_age: float = 3600.0,
                 max_chars: int = 900, rrf_k: int = 60, label: str = "image.sc forum") -> None:
        self.client = client
        self.clock = clock
        self.reachability_ttl = reachability_ttl
        self.expand = expand
        self.cache_max_age = cache_max_age
        self.max_chars = max_chars
        self.rrf_k = rrf_k
        self.label = label
        self._reachable: tuple[float, bool] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: object) -> LiveForumSearch | None:
        """A live search for ``settings.forum_url``, or None when ``forum_live`` is off."""
        if not settings.forum_live:
            return None
        client = DiscourseClient.from_settings(settings, timeout=8.0, min_interval=0.2)
        return cls(client, **kwargs)  # type: ignore[arg-type]

    # -- reachability ----------------------------------------------------------------------------
    def is_reachable(self) -> bool:
        """Whether the forum answers; remembered for ``reachability_ttl`` seconds."""
        now = self.clock()
        if self._reachable is not None and now - self._reachable[0] < self.reachability_ttl:
            return self._reachable[1]
        ok = self.client.ping()
        self._reachable = (now, ok)
        return ok

    def _mark(self, ok: bool) -> None:
        self._reachable = (self.clock(), ok)

    # -- search ----------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        """The ``k`` best forum passages for ``query``; raises :class:`ForumUnavailable` when offline."""
        query = query.strip()
        if not query or k < 1:
            return []
        if not self.is_reachable():
            raise ForumUnavailable(UNREACHABLE_MESSAGE, url=self.client.base_url,
                                   hint="check the connection or set SCOPEBOT_FORUM_LIVE=false")
        try:
            page = self.client.search(query, max_age=self.cache_max_age)
        except ForumUnavailable:
            self._mark(False)
            raise
        self._mark(True)
        topics = {t.id: t for t in page.topics}
        order: list[int] = []
        best_post: dict[int, SearchPost] = {}
        for post in page.posts:
            if post.topic_id not in best_post:
                best_post[post.topic_id] = post
                order.append(post.topic_id)
        for tid in topics:                      # topics matched by title only have no post hit
            if tid not in best_post:
                order.append(tid)
        chunks: list[Chunk] = []
        for rank, tid in enumerate(order):
            summary = topics.get(tid)
            if summary is None:
                continue
            chunks.extend(self._topic_chunks(summary, best_post.get(tid), expand=rank < self.expand))
            if len(chunks) >= k:
                break
        return [SearchResult(chunk=c, score=1.0 / (self.rrf_k + i + 1), rank=i + 1)
                for i, c in enumerate(chunks[:k])]

    def try_search(self, query: str, k: int = 5) -> LiveOutcome:
        """Like :meth:`search`, but reports "not reachable" as an outcome instead of an error."""
        try:
            return LiveOutcome(results=self.search(query, k))
        except ForumUnavailable:
            return LiveOutcome(reachable=False, message=UNREACHABLE_MESSAGE)
        except ForumError as exc:   # the forum answered oddly: still answer from the index
            log.warning("live forum search failed: %s", exc.message)
            return LiveOutcome(reachable=True, message=f"the image.sc forum search failed ({exc.message}); "
                                                      "answering from the index only")

    # -- chunks ----------------------------------------------------------------------------------
    def _topic_chunks(self, summary: TopicSummary, hit: SearchPost | None, *, expand: bool) -> list[Chunk]:
        if expand:
            try:
                topic = self.client.topic(summary.id, max_age=self.cache_max_age)
                sections = topic_to_sections(topic, base_url=self.client.base_url, max_replies=0)
                wanted = [s for s in sections if s.path[-1] == ACCEPTED] + \
                         [s for s in sections if s.path[-1] == QUESTION]
                if wanted:
                    return [self._chunk(s) for s in wanted[:2]]
            except ForumError as exc:
                log.info("could not read forum topic %s (%s); using the search excerpt", summary.id, exc.message)
        if hit is None:
            return []
        return [self._chunk(self._hit_section(summary, hit))]

    def _hit_section(self, summary: TopicSummary, hit: SearchPost) -> Section:
        author = (hit.name or "").strip() or hit.username or "unknown"
        label = QUESTION if hit.post_number == 1 else f"Reply by {author}"
        date = (hit.created_at or "")[:10]
        return Section(
            source_id=SOURCE_ID, kind="forum", doc_title=summary.title, path=[summary.title, label],
            anchor=f"post_{hit.post_number}",
            url=topic_url(self.client.base_url, summary.slug, summary.id, hit.post_number),
            text=cooked_to_text(hit.blurb),
            metadata={"topic_id": summary.id, "post_number": hit.post_number, "authors": [author, hit.username],
                      "username": hit.username, "tags": list(summary.tags),
                      "solved": summary.has_accepted_answer, "accepted": False,
                      "created_at": hit.created_at or "", "last_posted_at": summary.last_posted_at or "",
                      "attribution": f"{author} on image.sc, {date}" if date else f"{author} on image.sc",
                      "live": True, "excerpt": True})

    def _chunk(self, section: Section) -> Chunk:
        """A chunk keyed exactly like the index chunker keys a one-piece section."""
        parts = [self.label, section.doc_title] + [p for p in section.path if p != section.doc_title]
        crumb = BREADCRUMB_SEP.join(p.strip() for p in parts if p.strip())
        body = _truncate(section.text, self.max_chars)
        key = make_key("forum", section.source_id, section.url, crumb, body)
        meta = dict(section.metadata)
        meta.update({"path": list(section.path), "anchor": section.anchor, "live": True,
                     "license": FORUM_SOURCE.license})
        return Chunk(key=key, source_id=section.source_id, kind="forum", title=section.doc_title,
                     section=section.section_title, breadcrumb=crumb, url=section.url,
                     text=f"{crumb}\n{body}", metadata=meta)


def _truncate(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip() + " …"
