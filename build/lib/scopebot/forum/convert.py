"""Forum topic → :class:`~scopebot.sources.models.Section` records (one document per topic).

A topic becomes up to ``2 + max_replies`` sections: the question, the accepted answer (marked),
and the best other replies (most liked, then highest Discourse score). Every section keeps who wrote
it, when, and a deep link to the post, so citations can credit the author on image.sc.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from scopebot.forum.html import cooked_to_text
from scopebot.forum.models import Post, Topic
from scopebot.sources.models import Section, SourceSpec

SOURCE_ID = "imagesc"
DEFAULT_BASE_URL = "https://forum.image.sc"

#: The forum as a source of the index (passed to the index builder's ``ingest_sections``).
FORUM_SOURCE = SourceSpec(
    id=SOURCE_ID, kind="forum", title="image.sc forum",
    license="content by individual authors (Discourse, image.sc terms of service)",
    attribution="image.sc community; author names kept per post",
    url=DEFAULT_BASE_URL, subpath="", parser="discourse")

QUESTION = "Question"
ACCEPTED = "Accepted answer"


def topic_url(base_url: str, slug: str, topic_id: int, post_number: int | None = None) -> str:
    """Canonical Discourse link: ``<base>/t/<slug>/<id>`` (+ ``/<post_number>`` for a reply)."""
    url = f"{base_url.rstrip('/')}/t/{slug or 'topic'}/{int(topic_id)}"
    return f"{url}/{int(post_number)}" if post_number and post_number > 1 else url


def _date(ts: str | None) -> str:
    return (ts or "")[:10]


def _author_label(post: Post) -> str:
    name = (post.name or "").strip()
    if name and post.username and name.lower() != post.username.lower():
        return f"{name} (@{post.username})"
    return name or (f"@{post.username}" if post.username else "unknown")


def _reply_rank(post: Post) -> tuple[float, float, int]:
    return (-post.likes, -post.score, post.post_number)


def select_replies(topic: Topic, max_replies: int = 3, min_chars: int = 60) -> list[Post]:
    """The best replies besides the question and the accepted answer, in thread order.

    Short thank-you notes are skipped; ranking is likes, then Discourse's score, then earliest.
    """
    accepted = topic.accepted_post_number
    candidates = [p for p in topic.posts if p.visible and p.post_number != 1 and p.post_number != accepted
                  and len(cooked_to_text(p.cooked)) >= min_chars]
    best = sorted(candidates, key=_reply_rank)[:max_replies]
    return sorted(best, key=lambda p: p.post_number)


def topic_to_sections(topic: Topic, *, base_url: str = DEFAULT_BASE_URL, max_replies: int = 3,
                      min_reply_chars: int = 60) -> list[Section]:
    """The sections of one topic; the ``fingerprint`` of the result is set on every section."""
    by_number = {p.post_number: p for p in topic.posts}
    question = by_number.get(1)
    accepted_no = topic.accepted_post_number
    accepted = by_number.get(accepted_no) if accepted_no and accepted_no != 1 else None
    solved = topic.solved
    common: dict[str, Any] = {
        "topic_id": topic.id, "tags": list(topic.tags), "solved": solved,
        "last_posted_at": topic.last_posted_at or topic.created_at or "",
        "category_id": topic.category_id,
    }
    sections: list[Section] = []

    def add(post: Post | None, label: str, text: str, *, is_accepted: bool, author: str, username: str,
            created: str | None, post_number: int) -> None:
        text = text.strip()
        if not text:
            return
        date = _date(created)
        meta = dict(common)
        meta.update({"post_number": post_number, "authors": [a for a in (author, username) if a],
                     "username": username, "accepted": is_accepted, "created_at": created or "",
                     "likes": post.likes if post else 0,
                     "attribution": f"{author} on image.sc, {date}" if date else f"{author} on image.sc"})
        sections.append(Section(source_id=SOURCE_ID, kind="forum", doc_title=topic.title,
                                path=[topic.title, label], anchor=f"post_{post_number}",
                                url=topic_url(base_url, topic.slug, topic.id, post_number),
                                text=text, metadata=meta))

    if question is not None and question.visible:
        tags = f" Tags: {', '.join(topic.tags)}." if topic.tags else ""
        status = " Solved." if solved else ""
        head = f"Asked by {_author_label(question)} on {_date(question.created_at)}.{tags}{status}"
        add(question, QUESTION, f"{head}\n\n{cooked_to_text(question.cooked)}", is_accepted=False,
            author=_author_label(question), username=question.username, created=question.created_at,
            post_number=1)
    if accepted is not None and accepted.visible:
        add(accepted, ACCEPTED,
            f"Accepted answer by {_author_label(accepted)}:\n\n{cooked_to_text(accepted.cooked)}",
            is_accepted=True, author=_author_label(accepted), username=accepted.username,
            created=accepted.created_at, post_number=accepted.post_number)
    elif accepted_no and accepted_no != 1 and topic.accepted_answer is not None:
        # the accepted post was not among the fetched posts: keep Discourse's excerpt of it
        aa = topic.accepted_answer
        name = (aa.name or "").strip()
        author = f"{name} (@{aa.username})" if name and aa.username else name or f"@{aa.username}"
        add(None, ACCEPTED, f"Accepted answer by {author} (excerpt):\n\n{cooked_to_text(aa.excerpt)}",
            is_accepted=True, author=author, username=aa.username, created=None, post_number=accepted_no)
    for post in select_replies(topic, max_replies, min_reply_chars):
        label = f"Reply by {_author_label(post)}"
        add(post, label, cooked_to_text(post.cooked), is_accepted=False, author=_author_label(post),
            username=post.username, created=post.created_at, post_number=post.post_number)

    digest = fingerprint_sections(sections)
    for s in sections:
        s.metadata["fingerprint"] = digest
    return sections


def fingerprint_sections(sections: list[Section]) -> str:
    """Hash of what the topic contributes to the index (text, links, labels, tags, solved flag).

    Like counts are left out on purpose: a new like alone should not re-ingest a topic.
    """
    payload = [{"path": s.path, "url": s.url, "text": s.text, "tags": s.metadata.get("tags"),
                "solved": s.metadata.get("solved"), "accepted": s.metadata.get("accepted")}
               for s in sections]
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]
