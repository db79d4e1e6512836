"""A fake Discourse forum for tests and offline demos: JSON in Discourse's documented shapes.

:class:`FakeDiscourse` serves topic fixtures (``<fixtures>/topics/<id>.json``, the ``/t/<id>.json``
format) and derives ``/search.json`` (with ``tags:``, ``status:solved``, ``after:``, ``#category``,
``order:latest``), ``/latest.json``, ``/t/<id>/posts.json`` and ``/site/basic-info.json`` from them.
Like the real forum it inlines only the first ``chunk_size`` posts of a topic.

Faults can be injected per path prefix (429 with Retry-After, 5xx, slow answers, malformed JSON,
404) and topics can be "deleted" after they were listed. The same handler runs in-process as an
``httpx.MockTransport`` (:meth:`FakeDiscourse.transport`) or on a real socket on 127.0.0.1
(:func:`serve`), so client behaviour can be tested both ways.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from scopebot.forum.html import cooked_to_text


@dataclass
class Fault:
    """One injected failure for requests whose path starts with ``prefix`` (``times`` < 0: forever)."""

    prefix: str
    kind: str                 # "429" | "500" | "503" | "slow" | "malformed" | "404" | "drop"
    times: int = 1
    retry_after: str | None = None
    delay: float = 0.0


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]


@dataclass
class FakeDiscourse:
    """The fake forum's state: fixtures, faults, deleted topics and a log of every request."""

    fixtures: Path
    chunk_size: int = 20
    per_page: int = 30
    search_page_size: int = 50
    faults: list[Fault] = field(default_factory=list)
    deleted: set[int] = field(default_factory=set)
    requests: list[Request] = field(default_factory=list)
    require_api_key: str | None = None

    def __post_init__(self) -> None:
        self.fixtures = Path(self.fixtures)
        self.topics: dict[int, dict[str, Any]] = {}
        for path in sorted((self.fixtures / "topics").glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            self.topics[int(data["id"])] = data
        site = self.fixtures / "site.json"
        self.site = json.loads(site.read_text(encoding="utf-8")) if site.is_file() else {"categories": []}
        self._lock = threading.Lock()

    # -- test controls ---------------------------------------------------------------------------
    def fail(self, prefix: str, kind: str, times: int = 1, *, retry_after: str | None = None,
             delay: float = 0.0) -> None:
        self.faults.append(Fault(prefix, kind, times, retry_after, delay))

    def hits(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def topic_reads(self) -> list[int]:
        """Topic ids read via ``/t/<id>.json``, in request order (retries included)."""
        return [int(m.group(1)) for r in self.requests if (m := re.fullmatch(r"/t/(\d+)\.json", r.path))]

    def add_post(self, topic_id: int, cooked: str, username: str = "newcomer", created_at: str | None = None) -> None:
        """Append a reply to a topic (bumps ``last_posted_at`` and ``posts_count`` like Discourse)."""
        t = self.topics[topic_id]
        posts = t["post_stream"]["posts"]
        created = created_at or "2025-06-01T12:00:00.000Z"
        new = copy.deepcopy(posts[-1])
        new.update({"id": max(p["id"] for p in posts) + 1000, "post_number": posts[-1]["post_number"] + 1,
                    "username": username, "name": "", "cooked": cooked, "created_at": created,
                    "accepted_answer": False, "actions_summary": [], "post_type": 1})
        posts.append(new)
        t["post_stream"]["stream"].append(new["id"])
        t["posts_count"] = len(posts)
        t["last_posted_at"] = created

    # -- request handling ------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: list[tuple[str, str]],
               headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, float]:
        """(status, headers, body, delay seconds) for one request."""
        with self._lock:
            self.requests.append(Request(method, path, query, {k.lower(): v for k, v in headers.items()}))
            fault = next((f for f in self.faults if path.startswith(f.prefix) and f.times != 0), None)
            if fault is not None and fault.times > 0:
                fault.times -= 1
        if fault is not None:
            if fault.kind == "slow":
                status, hdrs, body, _ = self._route(path, query, headers)
                return status, hdrs, body, fault.delay
            if fault.kind == "malformed":
                return 200, {"Content-Type": "application/json"}, b'{"post_stream": {"posts": [ {"id": 1, "coo', 0
            if fault.kind == "429":
                hdrs = {"Content-Type": "application/json"}
                if fault.retry_after is not None:
                    hdrs["Retry-After"] = fault.retry_after
                body = {"errors": ["You've performed this action too many times."], "error_type": "rate_limit",
                        "extras": {"wait_seconds": 3}}
                return 429, hdrs, json.dumps(body).encode(), 0
            if fault.kind in ("500", "502", "503", "404"):
                return int(fault.kind), {"Content-Type": "text/html"}, b"<html>error</html>", 0
            if fault.kind == "drop":
                return -1, {}, b"", 0
        return (*self._route(path, query, headers)[:3], 0)

    def _route(self, path: str, query: list[tuple[str, str]],
               headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, float]:
        if self.require_api_key is not None:
            lower = {k.lower(): v for k, v in headers.items()}
            if lower.get("api-key") != self.require_api_key:
                return self._json(403, {"errors": ["You are not permitted to view the requested resource."],
                                        "error_type": "invalid_access"})
        q = dict(query)
        if path == "/site/basic-info.json":
            return self._json(200, {"title": self.site.get("title", "Fake forum"), "description": "test"})
        if path == "/search.json":
            return self._json(200, self.search(q.get("q", ""), int(q.get("page", "1") or 1)))
        if path == "/latest.json":
            return self._json(200, self.latest(int(q.get("page", "0") or 0)))
        m = re.fullmatch(r"/t/(\d+)(?:/posts)?\.json", path)
        if m:
            tid = int(m.group(1))
            if tid in self.deleted or tid not in self.topics:
                return self._json(404, {"errors": ["The requested URL or resource could not be found."],
                                        "error_type": "not_found"})
            if path.endswith("/posts.json"):
                ids = {int(v) for k, v in query if k == "post_ids[]"}
                posts = [p for p in self.topics[tid]["post_stream"]["posts"] if p["id"] in ids]
                return self._json(200, {"post_stream": {"posts": posts}, "id": tid})
            topic = copy.deepcopy(self.topics[tid])
            topic["post_stream"]["posts"] = topic["post_stream"]["posts"][: self.chunk_size]
            topic["chunk_size"] = self.chunk_size
            return self._json(200, topic)
        return self._json(404, {"errors": ["not found"], "error_type": "not_found"})

    @staticmethod
    def _json(status: int, data: Any) -> tuple[int, dict[str, str], bytes, float]:
        return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(data).encode(), 0

    # -- listings --------------------------------------------------------------------------------
    def _summary(self, t: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "title", "fancy_title", "slug", "posts_count", "reply_count", "highest_post_number",
                "created_at", "last_posted_at", "visible", "closed", "archived", "archetype", "like_count",
                "views", "category_id", "has_accepted_answer", "tags")
        out = {k: t.get(k) for k in keys}
        out.update({"bumped": True, "bumped_at": t.get("last_posted_at"), "unseen": False, "pinned": False,
                    "unpinned": None, "bookmarked": None, "liked": None, "tags_descriptions": {},
                    "can_vote": False})
        return out

    def _by_activity(self) -> list[dict[str, Any]]:
        return sorted(self.topics.values(), key=lambda t: t["last_posted_at"], reverse=True)

    def latest(self, page: int) -> dict[str, Any]:
        topics = self._by_activity()
        start = page * self.per_page
        chunk = topics[start:start + self.per_page]
        more = start + self.per_page < len(topics)
        return {"users": [], "primary_groups": [], "flair_groups": [],
                "topic_list": {"can_create_topic": False, "per_page": self.per_page, "top_tags": [],
                               "more_topics_url": f"/latest?page={page + 1}" if more else None,
                               "topics": [self._summary(t) for t in chunk]}}

    def search(self, q: str, page: int) -> dict[str, Any]:
        terms: list[str] = []
        tags: list[str] = []
        after = ""
        solved = False
        category = ""
        latest = False
        for tok in q.split():
            low = tok.lower()
            if low.startswith("tags:"):
                tags = [x for x in re.split(r"[,+]", low[5:]) if x]
            elif low.startswith("after:"):
                after = low[6:]
            elif low == "status:solved":
                solved = True
            elif low == "order:latest":
                latest = True
            elif low.startswith("#"):
                category = low[1:]
            else:
                terms.append(low)
        cat_ids = {c["id"] for c in self.site.get("categories", []) if c.get("slug") == category}
        hits: list[tuple[dict[str, Any], dict[str, Any]]] = []
        topics = self._by_activity() if latest else sorted(self.topics.values(), key=lambda t: t["id"])
        for t in topics:
            if tags and not set(tags) & set(t.get("tags", [])):
                continue
            if solved and not t.get("has_accepted_answer"):
                continue
            if category and t.get("category_id") not in cat_ids:
                continue
            if after and t["last_posted_at"][:10] < after:
                continue
            for p in t["post_stream"]["posts"]:
                text = " ".join([t["title"], *t.get("tags", []), cooked_to_text(p["cooked"])]).lower()
                if all(term in text for term in terms) and p.get("post_type", 1) == 1:
                    hits.append((t, p))
                    break
        start = (page - 1) * self.search_page_size
        chunk = hits[start:start + self.search_page_size]
        posts = [{"id": p["id"], "name": p["name"], "username": p["username"],
                  "avatar_template": p["avatar_template"], "created_at": p["created_at"],
                  "like_count": sum(a["count"] for a in p["actions_summary"] if a["id"] == 2),
                  "blurb": cooked_to_text(p["cooked"])[:200], "post_number": p["post_number"],
                  "topic_title_headline": t["title"], "topic_id": t["id"]} for t, p in chunk]
        seen: dict[int, dict[str, Any]] = {}
        for t, _ in chunk:
            seen.setdefault(t["id"], self._summary(t))
        return {"posts": posts, "topics": list(seen.values()), "users": [], "categories": [], "tags": [],
                "groups": [],
                "grouped_search_result": {
                    "more_posts": None, "more_users": None, "more_categories": None, "term": q,
                    "search_log_id": 1, "more_full_page_results": start + self.search_page_size < len(hits) or None,
                    "can_create_topic": False, "error": None, "extra": {},
                    "post_ids": [p["id"] for p in posts], "user_ids": [], "category_ids": [], "tag_ids": [],
                    "group_ids": []}}

    # -- transports ------------------------------------------------------------------------------
    def transport(self, sleep: Any = None) -> httpx.MockTransport:
        """An in-process transport; a "slow" fault raises ``httpx.ReadTimeout`` when it exceeds the
        request's read timeout (no real waiting), a "drop" fault raises ``httpx.ConnectError``."""

        def handler(request: httpx.Request) -> httpx.Response:
            query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
            status, hdrs, body, delay = self.handle(request.method, request.url.path, query, dict(request.headers))
            if status < 0:
                raise httpx.ConnectError("connection refused (fake)", request=request)
            read_timeout = (request.extensions.get("timeout") or {}).get("read")
            if delay and read_timeout is not None and delay > read_timeout:
                raise httpx.ReadTimeout("timed out (fake)", request=request)
            return httpx.Response(status, headers=hdrs, content=body)

        return httpx.MockTransport(handler)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeDiscourse

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        status, hdrs, body, delay = self.fake.handle("GET", parts.path, query, dict(self.headers.items()))
        if delay:
            time.sleep(delay)
        if status < 0:
            self.close_connection = True
            return
        self.send_response(status)
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the default logging
        return


@contextlib.contextmanager
def serve(fake: FakeDiscourse) -> Iterator[str]:
    """Serve ``fake`` on 127.0.0.1 at a free port in a background thread; yields the base URL."""
    handler = type("FakeDiscourseHandler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-discourse", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class FakeClock:
    """A clock whose ``sleep`` advances time instantly and records each wait (for polite-client tests)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
