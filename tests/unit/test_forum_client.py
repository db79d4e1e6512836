"""The polite Discourse client against the in-process fake forum (no sockets, no real waiting)."""

from __future__ import annotations

import email.utils
import logging
from pathlib import Path

import httpx
import pytest

from scopebot.errors import ConfigurationError
from scopebot.forum.cache import ResponseCache
from scopebot.forum.client import DiscourseClient, RetryPolicy, parse_retry_after
from scopebot.forum.errors import ForumDataError, ForumRateLimited, ForumUnavailable, TopicGone
from scopebot.forum.fake import FakeClock, FakeDiscourse
from scopebot.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discourse"
SECRET = "s3cr3t-api-key-0123456789abcdef"


def make(fake: FakeDiscourse, clock: FakeClock, **kw: object) -> DiscourseClient:
    kw.setdefault("min_interval", 0.0)
    return DiscourseClient("https://forum.test", http=httpx.Client(transport=fake.transport()),
                           clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> FakeDiscourse:
    return FakeDiscourse(FIXTURES)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_requests_name_scopebot_and_send_no_key_when_anonymous(fake: FakeDiscourse, clock: FakeClock) -> None:
    make(fake, clock).latest()
    headers = fake.requests[0].headers
    assert headers["user-agent"].startswith("scopebot/")
    assert "api-key" not in headers and "api-username" not in headers


def test_api_key_is_sent_in_headers_only(fake: FakeDiscourse, clock: FakeClock) -> None:
    fake.require_api_key = SECRET
    client = make(fake, clock, api_key=SECRET, api_username="scopebot-reader")
    assert client.topic(101).id == 101
    req = fake.requests[0]
    assert req.headers["api-key"] == SECRET and req.headers["api-username"] == "scopebot-reader"
    assert SECRET not in str(req.query)


def test_api_key_never_appears_in_repr_logs_or_errors(fake: FakeDiscourse, clock: FakeClock,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail("/t/102.json", "500", times=-1)
    fake.fail("/t/103.json", "malformed")
    client = make(fake, clock, api_key=SECRET, api_username="scopebot-reader")
    messages = [repr(client), str(client.__dict__.get("_api_key"))]
    client.search("nuclei")
    for tid, exc_type in ((102, ForumUnavailable), (103, ForumDataError), (999, TopicGone)):
        with pytest.raises(exc_type) as info:
            client.topic(tid)
        messages += [str(info.value), repr(info.value), info.value.hint]
    messages += [r.getMessage() for r in caplog.records]
    assert caplog.records, "the client should log its requests at debug level"
    assert not any(SECRET in m for m in messages)
    assert "anonymous" not in repr(client) and "api-key" in repr(client)


def test_key_without_username_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        DiscourseClient("https://forum.test", api_key=SECRET)
    assert "USERNAME" in info.value.hint and SECRET not in str(info.value)


def test_from_settings_reads_key_username_and_cache_dir(tmp_path: Path, fake: FakeDiscourse) -> None:
    settings = Settings(home=tmp_path, forum_url="https://forum.test/", forum_api_key=SECRET,
                        forum_api_username="reader")
    client = DiscourseClient.from_settings(settings, http=httpx.Client(transport=fake.transport()),
                                           min_interval=0)
    assert client.base_url == "https://forum.test" and client.authenticated
    assert client.cache is not None and client.cache.directory == tmp_path / "cache" / "forum"
    client.latest(max_age=60)
    assert fake.requests[0].headers["api-key"] == SECRET
    cached = "".join(p.read_text() for p in (tmp_path / "cache" / "forum").rglob("*.json"))
    assert "topic_list" in cached and SECRET not in cached


def test_429_waits_for_retry_after_then_succeeds(fake: FakeDiscourse, clock: FakeClock) -> None:
    fake.fail("/t/101.json", "429", retry_after="7")
    topic = make(fake, clock).topic(101)
    assert topic.id == 101
    assert clock.sleeps == [7.0]
    assert len(fake.hits("/t/101.json")) == 2


def test_429_with_http_date_and_with_body_wait_seconds(fake: FakeDiscourse, clock: FakeClock) -> None:
    when = email.utils.formatdate(clock.now + 12, usegmt=True)
    fake.fail("/latest.json", "429", retry_after=when)
    fake.fail("/search.json", "429")                # no header: Discourse's extras.wait_seconds (3)
    client = make(fake, clock)
    client.latest()
    client.search("nuclei")
    assert clock.sleeps[0] == pytest.approx(12, abs=1) and clock.sleeps[1] == 3.0


def test_too_long_retry_after_is_not_waited_out(fake: FakeDiscourse, clock: FakeClock) -> None:
    fake.fail("/latest.json", "429", retry_after="3600")
    with pytest.raises(ForumRateLimited) as info:
        make(fake, clock).latest()
    assert clock.sleeps == [] and "3600" in info.value.message and info.value.hint


def test_5xx_is_retried_with_exponential_backoff(fake: FakeDiscourse, clock: FakeClock) -> None:
    fake.fail("/t/102.json", "500")
    fake.fail("/t/102.json", "503", times=2)
    assert make(fake, clock).topic(102).id == 102
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_persistent_5xx_gives_up_after_max_retries(fake: FakeDiscourse, clock: FakeClock) -> None:
    fake.fail("/latest.json", "502", times=-1)
    client = make(fake, clock, retry=RetryPolicy(max_retries=2, backoff_base=0.5))
    with pytest.raises(ForumUnavailable) as info:
        client.latest()
    assert len(fake.hits("/latest.json")) == 3 and clock.sleeps == [0.5, 1.0]
    assert "502" in info.value.message and info.value.hint


def test_timeout_is_retried(fake: FakeDiscourse, clock: FakeClock) -> None:
    fake.fail("/t/104.json", "slow", delay=5.0)
    client = make(fake, clock, timeout=0.5)
    assert client.topic(104).id == 104
    assert len(fake.hits("/t/104.json")) == 2 and clock.sleeps == [1.0]


def test_connection_refused_fails_fast_with_hint(fake: FakeDiscourse, clock: FakeClock) -> None:
    fake.fail("/", "drop", times=-1)
    with pytest.raises(ForumUnavailable) as info:
        make(fake, clock).latest()
    assert len(fake.requests) == 2          # one retry only: the forum is probably offline
    assert "Cannot reach" in info.value.message and "offline" in info.value.hint


def test_malformed_json_is_a_clear_data_error_and_not_retried(fake: FakeDiscourse, clock: FakeClock) -> None:
    fake.fail("/t/101.json", "malformed")
    with pytest.raises(ForumDataError) as info:
        make(fake, clock).topic(101)
    assert "malformed JSON" in info.value.message and len(fake.hits("/t/101.json")) == 1


def test_wrong_shape_is_a_data_error(fake: FakeDiscourse, clock: FakeClock) -> None:
    fake.topics[101]["title"] = None
    with pytest.raises(ForumDataError) as info:
        make(fake, clock).topic(101)
    assert "title" in info.value.message


def test_deleted_topic_is_gone(fake: FakeDiscourse, clock: FakeClock) -> None:
    fake.deleted.add(103)
    with pytest.raises(TopicGone) as info:
        make(fake, clock).topic(103)
    assert info.value.status == 404 and clock.sleeps == []


def test_requests_are_spaced_by_min_interval(fake: FakeDiscourse, clock: FakeClock) -> None:
    client = make(fake, clock, min_interval=0.5)
    client.latest()
    client.latest()
    clock.now += 2.0                 # a pause longer than the interval needs no wait
    client.latest()
    assert clock.sleeps == [0.5]


def test_long_topics_fetch_the_posts_left_out_of_the_first_chunk(clock: FakeClock) -> None:
    fake = FakeDiscourse(FIXTURES, chunk_size=2)
    topic = make(fake, clock).topic(105)
    assert [p.post_number for p in topic.posts] == [1, 2, 3, 4, 5]
    assert topic.accepted_post_number == 4
    posts_req = fake.hits("/t/105/posts.json")
    assert len(posts_req) == 1 and sorted(int(v) for _, v in posts_req[0].query) == [5403, 5404, 5405]


def test_max_posts_caps_extra_requests(clock: FakeClock) -> None:
    fake = FakeDiscourse(FIXTURES, chunk_size=2)
    topic = make(fake, clock, max_posts=3).topic(105)
    assert len(topic.posts) == 3


def test_cache_serves_fresh_responses_and_refetches_stale_ones(tmp_path: Path, fake: FakeDiscourse,
                                                               clock: FakeClock) -> None:
    client = make(fake, clock, cache=ResponseCache(tmp_path, clock=clock))
    first = client.search("segmentation", max_age=60)
    second = client.search("segmentation", max_age=60)
    assert first == second and len(fake.hits("/search.json")) == 1
    clock.now += 61
    client.search("segmentation", max_age=60)
    client.search("segmentation")               # max_age None: always fresh
    assert len(fake.hits("/search.json")) == 3


def test_search_parses_documented_shape(fake: FakeDiscourse, clock: FakeClock) -> None:
    page = make(fake, clock).search("tags:segmentation status:solved order:latest")
    assert {t.id for t in page.topics} == {101, 105}
    assert all(t.has_accepted_answer for t in page.topics)
    assert page.posts[0].topic_id == page.topics[0].id and page.posts[0].blurb
    assert page.has_more is False


def test_ping(fake: FakeDiscourse, clock: FakeClock) -> None:
    assert make(fake, clock).ping()
    fake.fail("/site", "drop", times=-1)
    assert not make(fake, clock).ping()


@pytest.mark.parametrize("value, expected", [("5", 5.0), ("0", 0.0), (None, None), ("soon", None)])
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, 0.0) == expected
