"""A polite client for the Discourse JSON API of image.sc (search, topics, latest).

Politeness and robustness are built in rather than left to callers:

* at most one request every ``min_interval`` seconds (shared by all threads);
* retries with exponential backoff on 429, 5xx and timeouts, honouring ``Retry-After`` (seconds or
  an HTTP date) and Discourse's ``extras.wait_seconds``;
* a timeout on every request and a ``User-Agent`` naming scopebot;
* an optional on-disk response cache;
* the optional API key is sent as ``Api-Key``/``Api-Username`` headers on each request and is
  never logged, never part of ``repr`` or of an error message.

The ``httpx.Client``, the clock and the sleep function are injected, so tests run against a local
fake server without real waiting and without monkeypatching.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import SecretStr, ValidationError

from scopebot import __version__ as _version
from scopebot.errors import ConfigurationError
from scopebot.forum.cache import ResponseCache
from scopebot.forum.errors import ForumDataError, ForumError, ForumRateLimited, ForumUnavailable, TopicGone
from scopebot.forum.models import Post, SearchPage, Topic, TopicListPage

if TYPE_CHECKING:
    from scopebot.settings import Settings

log = logging.getLogger("scopebot.forum")

USER_AGENT = f"scopebot/{_version} (image.sc forum connector of an offline microscopy assistant; python-httpx)"
_RETRY_STATUS = {429, 500, 502, 503, 504}
_GONE_STATUS = {403, 404, 410}
_POSTS_PER_REQUEST = 20


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on one request."""

    max_retries: int = 4            # extra attempts after the first, for 429/5xx/timeouts
    backoff_base: float = 1.0       # seconds; doubled on each retry
    backoff_cap: float = 30.0       # never wait longer than this between retries (unless told to)
    max_retry_after: float = 120.0  # a Retry-After longer than this is not waited out
    connect_retries: int = 1        # connection refused / DNS failures: the forum is probably offline

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_cap, self.backoff_base * (2 ** attempt))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class DiscourseClient:
    """Read-only client of one Discourse forum."""

    def __init__(self, base_url: str, *, http: httpx.Client | None = None,
                 api_key: SecretStr | str | None = None, api_username: str | None = None,
                 timeout: float = 15.0, min_interval: float = 0.5, retry: RetryPolicy | None = None,
                 cache: ResponseCache | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, user_agent: str = USER_AGENT,
                 max_posts: int = 60) -> None:
        if api_key is not None and not isinstance(api_key, SecretStr):
            api_key = SecretStr(api_key)
        if api_key is not None and not api_key.get_secret_value():
            api_key = None
        if api_key is not None and not api_username:
            raise ConfigurationError("A forum API key was given without an API username",
                                     hint="set SCOPEBOT_FORUM_API_USERNAME to the user the key belongs to, "
                                          "or unset SCOPEBOT_FORUM_API_KEY to read the public forum")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._api_username = api_username if api_key is not None else None
        self._owns_http = http is None
        self._http = http or httpx.Client(follow_redirects=True)
        self.timeout = timeout
        self.min_interval = min_interval
        self.retry = retry or RetryPolicy()
        self.cache = cache
        self.clock = clock
        self.sleep = sleep
        self.user_agent = user_agent
        self.max_posts = max_posts
        self._lock = threading.Lock()
        self._last_request: float | None = None
        self.requests_made = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, http: httpx.Client | None = None,
                      use_cache: bool = True, **kwargs: Any) -> DiscourseClient:
        """A client for ``settings.forum_url`` with the optional key, caching under ``cache_dir/forum``."""
        cache = ResponseCache(settings.cache_dir / "forum", clock=kwargs.get("clock", time.time)) if use_cache else None
        return cls(settings.forum_url, http=http, api_key=settings.forum_api_key,
                   api_username=settings.forum_api_username, cache=cache, **kwargs)

    def __repr__(self) -> str:
        auth = "api-key" if self._api_key is not None else "anonymous"
        return f"DiscourseClient({self.base_url!r}, auth={auth})"

    @property
    def authenticated(self) -> bool:
        return self._api_key is not None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> DiscourseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- low level -------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if self._api_key is not None and self._api_username:
            headers["Api-Key"] = self._api_key.get_secret_value()
            headers["Api-Username"] = self._api_username
        return headers

    def _throttle(self) -> None:
        with self._lock:
            now = self.clock()
            if self._last_request is not None and self.min_interval > 0:
                wait = self._last_request + self.min_interval - now
                if wait > 0:
                    self.sleep(wait)
                    now = self.clock()
            self._last_request = now

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def get_json(self, path: str, params: Mapping[str, Any] | list[tuple[str, Any]] | None = None, *,
                 max_age: float | None = None, timeout: float | None = None,
                 retries: bool = True) -> Any:
        """GET ``path`` and decode its JSON, retrying politely; serves from the cache when fresh enough.

        Raises :class:`TopicGone` (403/404/410), :class:`ForumDataError` (not JSON),
        :class:`ForumUnavailable` (unreachable after retries) or :class:`ForumError` (other statuses).
        """
        url = self.url(path)
        items = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        key = ResponseCache.key(url, dict(_flatten(items))) if self.cache is not None else ""
        if self.cache is not None and max_age is not None:
            hit = self.cache.get(key, max_age)
            if hit is not None:
                log.debug("forum cache hit: GET %s", path)
                return hit
        timeout = self.timeout if timeout is None else timeout
        attempt = 0
        connect_failures = 0
        while True:
            self._throttle()
            started = time.perf_counter()
            try:
                self.requests_made += 1
                resp = self._http.get(url, params=items or None, headers=self._headers(), timeout=timeout)
            except httpx.TimeoutException:
                err: ForumError = ForumUnavailable(
                    f"The forum did not answer within {timeout:g}s (GET {path})", url=url,
                    hint="the forum may be slow or overloaded; try again later")
                wait = self.retry.backoff(attempt)
            except httpx.TransportError as exc:
                connect_failures += 1
                err = ForumUnavailable(f"Cannot reach the forum at {self.base_url} ({type(exc).__name__})",
                                       url=url, hint="check the internet connection and "
                                                     "SCOPEBOT_FORUM_URL; the rest of scopebot works offline")
                if connect_failures > self.retry.connect_retries:
                    raise err from None
                wait = self.retry.backoff(attempt)
            else:
                elapsed = time.perf_counter() - started
                log.debug("GET %s -> %s (%.2fs)", path, resp.status_code, elapsed)
                if resp.status_code == 200:
                    data = self._decode(resp, path, url)
                    if self.cache is not None:
                        self.cache.put(key, url, data)
                    return data
                err, wait = self._status_error(resp, path, url, attempt)
            if not retries or attempt >= self.retry.max_retries or wait is None:
                raise err
            log.info("forum request %s failed (%s); retrying in %.1fs", path, err.message, wait)
            self.sleep(wait)
            attempt += 1

    def _decode(self, resp: httpx.Response, path: str, url: str) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise ForumDataError(f"The forum sent malformed JSON for {path}", url=url, status=200,
                                 hint="usually temporary (a proxy or maintenance page); "
                                      "run the sync again later") from None

    def _status_error(self, resp: httpx.Response, path: str, url: str,
                      attempt: int) -> tuple[ForumError, float | None]:
        """The error for a non-200 answer and how long to wait before retrying (None: do not retry)."""
        status = resp.status_code
        if status in _GONE_STATUS:
            return TopicGone(f"{path} is gone or not visible (HTTP {status})", url=url, status=status,
                             hint="it was deleted or made private on the forum"), None
        if status == 401:
            return ForumError("The forum rejected the API credentials (HTTP 401)", url=url, status=status,
                              hint="check SCOPEBOT_FORUM_API_KEY / SCOPEBOT_FORUM_API_USERNAME, or unset "
                                   "them to read the public forum anonymously"), None
        if status == 429:
            wait = parse_retry_after(resp.headers.get("Retry-After"), self.clock())
            if wait is None:
                wait = _wait_seconds_from_body(resp)
            if wait is None:
                wait = self.retry.backoff(attempt)
            if wait > self.retry.max_retry_after:
                return ForumRateLimited(f"The forum asked us to wait {wait:.0f}s before more requests",
                                        url=url, status=status,
                                        hint="the forum's rate limit was reached; run again later "
                                             "or sync fewer topics (--max-topics)"), None
            return ForumUnavailable(f"The forum rate-limited us (HTTP 429, {path})", url=url, status=status,
                                    hint="the forum's rate limit was reached; run again later"), wait
        if status in _RETRY_STATUS:
            return ForumUnavailable(f"The forum answered HTTP {status} for {path}", url=url, status=status,
                                    hint="the forum has a temporary problem; try again later"), \
                self.retry.backoff(attempt)
        return ForumError(f"Unexpected HTTP {status} from the forum for {path}", url=url, status=status,
                          hint="the forum API may have changed; please report this"), None

    # -- API -------------------------------------------------------------------------------------
    def search(self, query: str, *, page: int = 1, max_age: float | None = None) -> SearchPage:
        """``/search.json?q=...`` (Discourse advanced filters like ``status:solved``, ``tags:``)."""
        data = self.get_json("/search.json", {"q": query, "page": page}, max_age=max_age)
        return _validate(SearchPage, data, "/search.json")

    def latest(self, *, page: int = 0, max_age: float | None = None) -> TopicListPage:
        """``/latest.json``: topics by last activity, newest first."""
        data = self.get_json("/latest.json", {"page": page} if page else None, max_age=max_age)
        return _validate(TopicListPage, data, "/latest.json")

    def topic(self, topic_id: int, *, max_age: float | None = None) -> Topic:
        """``/t/<id>.json`` completed with the posts Discourse left out of the first chunk.

        Discourse returns the first ~20 posts inline and only the ids of the rest (``stream``);
        up to ``max_posts`` posts in total are fetched so the accepted answer and the best replies
        of long threads are seen.
        """
        path = f"/t/{int(topic_id)}.json"
        topic = _validate(Topic, self.get_json(path, max_age=max_age), path)
        have = {p.id for p in topic.posts}
        missing = [pid for pid in topic.post_stream.stream if pid not in have]
        budget = max(self.max_posts - len(have), 0)
        missing = missing[:budget]
        for start in range(0, len(missing), _POSTS_PER_REQUEST):
            batch = missing[start:start + _POSTS_PER_REQUEST]
            topic.post_stream.posts.extend(self.topic_posts(topic_id, batch, max_age=max_age))
        topic.post_stream.posts.sort(key=lambda p: p.post_number)
        return topic

    def topic_posts(self, topic_id: int, post_ids: Iterable[int], *, max_age: float | None = None) -> list[Post]:
        """``/t/<id>/posts.json?post_ids[]=...``: specific posts of a topic."""
        path = f"/t/{int(topic_id)}/posts.json"
        data = self.get_json(path, [("post_ids[]", int(i)) for i in post_ids], max_age=max_age)
        stream = data.get("post_stream", {}) if isinstance(data, dict) else {}
        posts = stream.get("posts") if isinstance(stream, dict) else None
        if not isinstance(posts, list):
            raise ForumDataError(f"Unexpected shape of {path}", url=self.url(path),
                                 hint="the forum API may have changed; please report this")
        return [_validate(Post, p, path) for p in posts]

    def ping(self, timeout: float = 3.0) -> bool:
        """True when the forum answers at all (one quick request, no retries)."""
        try:
            self.get_json("/site/basic-info.json", timeout=timeout, retries=False)
        except ForumError as exc:
            return not isinstance(exc, ForumUnavailable) and exc.status is not None
        return True


def _flatten(items: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    counts: dict[str, int] = {}
    out = []
    for k, v in items:
        counts[k] = counts.get(k, 0) + 1
        out.append((f"{k}#{counts[k]}" if counts[k] > 1 else k, str(v)))
    return out


def _wait_seconds_from_body(resp: httpx.Response) -> float | None:
    """Discourse puts the wait in the 429 body too: ``{"extras": {"wait_seconds": 12}}``."""
    try:
        extras = resp.json().get("extras") or {}
        return float(extras["wait_seconds"])
    except (ValueError, AttributeError, KeyError, TypeError):
        return None


def _validate(model: Any, data: Any, path: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ForumDataError(f"Unexpected JSON from the forum for {path} ({where}: {first.get('msg', 'invalid')})",
                             hint="the forum API may have changed, or the response was cut off; "
                                  "try again later") from None
