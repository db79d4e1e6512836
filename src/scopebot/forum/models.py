"""Typed views of the Discourse JSON we use (search, topic, latest), lenient to extra fields.

Only the fields scopebot needs are declared; everything else Discourse sends is ignored. Parsing
failures become :class:`~scopebot.forum.errors.ForumDataError` in the client, so one malformed
response never crashes a sync.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _TopicFields(_Lenient):
    """Fields and normalisation shared by topic summaries and full topics (tag objects to names, a slug always set)."""

    id: int
    slug: str = "topic"
    posts_count: int = 0
    created_at: str | None = None
    last_posted_at: str | None = None
    bumped_at: str | None = None
    tags: list[str] = Field(default_factory=list)
    category_id: int | None = None
    has_accepted_answer: bool = False

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_names(cls, value: Any) -> list[str]:
        return _tag_names(value)

    @field_validator("slug", mode="before")
    @classmethod
    def _slug(cls, value: Any) -> str:
        return str(value or "topic")


class TopicSummary(_TopicFields):
    """A topic as listed by ``/search.json``, ``/latest.json`` or ``/tag/<t>.json``."""

    title: str = ""
    closed: bool = False
    archived: bool = False

    @property
    def signature(self) -> str:
        """What changes when the topic gets a new post or an accepted answer (no fetch needed)."""
        return f"{self.last_posted_at or self.created_at}|{self.posts_count}|{int(self.has_accepted_answer)}"


class SearchPost(_Lenient):
    """One post hit of ``/search.json`` (``blurb`` is a short excerpt around the match)."""

    id: int
    topic_id: int
    post_number: int = 1
    username: str = ""
    name: str | None = None
    created_at: str | None = None
    like_count: int = 0
    blurb: str = ""


class GroupedSearchResult(_Lenient):
    more_full_page_results: bool | None = None
    more_posts: bool | None = None
    term: str = ""
    post_ids: list[int] = Field(default_factory=list)
    error: str | None = None


class SearchPage(_Lenient):
    """``/search.json`` response: post hits plus the topics they belong to."""

    posts: list[SearchPost] = Field(default_factory=list)
    topics: list[TopicSummary] = Field(default_factory=list)
    grouped_search_result: GroupedSearchResult = Field(default_factory=GroupedSearchResult)

    @property
    def has_more(self) -> bool:
        return bool(self.grouped_search_result.more_full_page_results)


class TopicList(_Lenient):
    topics: list[TopicSummary] = Field(default_factory=list)
    more_topics_url: str | None = None
    per_page: int | None = None


class TopicListPage(_Lenient):
    """``/latest.json`` and ``/tag/<tag>.json`` response."""

    topic_list: TopicList = Field(default_factory=TopicList)


class ActionSummary(_Lenient):
    id: int
    count: int = 0


class Post(_Lenient):
    """One post of a topic (``post_stream.posts[]``)."""

    id: int
    post_number: int
    username: str = ""
    name: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    cooked: str = ""
    post_type: int = 1
    reply_to_post_number: int | None = None
    like_count: int | None = None
    score: float = 0.0
    accepted_answer: bool = False
    hidden: bool = False
    deleted_at: str | None = None
    user_deleted: bool = False
    actions_summary: list[ActionSummary] = Field(default_factory=list)

    @property
    def likes(self) -> int:
        """Like count: the ``like_count`` field, or the like action (id 2) of ``actions_summary``."""
        if self.like_count is not None:
            return self.like_count
        return next((a.count for a in self.actions_summary if a.id == 2), 0)

    @property
    def author(self) -> str:
        """Display name when the author set one, else the username."""
        return (self.name or "").strip() or self.username or "unknown"

    @property
    def visible(self) -> bool:
        """Regular (not whisper/moderator-action), not hidden and not deleted."""
        return self.post_type == 1 and not self.hidden and not self.deleted_at and not self.user_deleted


class AcceptedAnswer(_Lenient):
    post_number: int
    username: str = ""
    name: str | None = None
    excerpt: str = ""


class PostStream(_Lenient):
    posts: list[Post] = Field(default_factory=list)
    stream: list[int] = Field(default_factory=list)


class Topic(_TopicFields):
    """``/t/<id>.json`` response: the topic with (the first chunk of) its posts."""

    title: str
    accepted_answer: AcceptedAnswer | None = None
    post_stream: PostStream = Field(default_factory=PostStream)

    @property
    def posts(self) -> list[Post]:
        return self.post_stream.posts

    @property
    def solved(self) -> bool:
        return bool(self.has_accepted_answer or self.accepted_answer or any(p.accepted_answer for p in self.posts))

    @property
    def accepted_post_number(self) -> int | None:
        if self.accepted_answer is not None:
            return self.accepted_answer.post_number
        return next((p.post_number for p in self.posts if p.accepted_answer), None)

    @property
    def signature(self) -> str:
        """Same formula as :attr:`TopicSummary.signature`, so a listing can be compared to the store."""
        return f"{self.last_posted_at or self.created_at}|{self.posts_count}|{int(self.solved)}"


def _tag_names(value: Any) -> list[str]:
    """Tags come as plain names (older Discourse) or as ``{"name": ...}`` objects (newer)."""
    if not value:
        return []
    out: list[str] = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and item.get("name"):
            out.append(str(item["name"]))
    return out
