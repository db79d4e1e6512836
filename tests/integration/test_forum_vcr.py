"""Recorded HTTP cassettes of the forum client (vcrpy), replayed without any server.

The cassettes in ``tests/cassettes/forum/`` were recorded once from the local fake Discourse
server (``scopebot.forum.fake``), with the client configured with an API key that vcrpy filtered
out. To re-record them::

    RECORD_FORUM_CASSETTES=1 python -m pytest tests/integration/test_forum_vcr.py -q

Replay uses ``record_mode="none"``: a request that is not in the cassette fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from scopebot.forum.client import DiscourseClient
from scopebot.forum.errors import TopicGone
from scopebot.forum.fake import FakeClock, FakeDiscourse, serve

vcr = pytest.importorskip("vcr")

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = ROOT / "cassettes" / "forum"
FIXTURES = ROOT / "fixtures" / "discourse"
RECORD = os.environ.get("RECORD_FORUM_CASSETTES") == "1"
#: The key used while recording: it must never end up in a cassette.
RECORDING_KEY = "recording-key-5f2b9c0e7d1a4b3c"

VCR = vcr.VCR(cassette_library_dir=str(CASSETTES), record_mode="all" if RECORD else "none",
              match_on=("method", "path", "query"), filter_headers=["Api-Key", "Api-Username"],
              decode_compressed_response=True)


@contextmanager
def forum(fake: FakeDiscourse) -> Iterator[str]:
    """The fake server's URL when recording; a dead address when replaying (nothing may hit it)."""
    if RECORD:
        with serve(fake) as url:
            yield url
    else:
        yield "http://127.0.0.1:9"


def client(url: str, clock: FakeClock) -> DiscourseClient:
    return DiscourseClient(url, http=httpx.Client(), api_key=RECORDING_KEY, api_username="scopebot-reader",
                           min_interval=0, clock=clock, sleep=clock.sleep)


def test_search_then_read_topic_from_cassette() -> None:
    fake = FakeDiscourse(FIXTURES)
    fake.require_api_key = RECORDING_KEY
    clock = FakeClock()
    with forum(fake) as url, VCR.use_cassette("search_and_topic.yaml"):
        c = client(url, clock)
        page = c.search("stardist")
        topic = c.topic(page.topics[0].id)
    assert [t.id for t in page.topics] == [101]
    assert topic.title == "StarDist merges touching nuclei in 3D" and topic.accepted_post_number == 3


def test_rate_limit_retry_after_from_cassette() -> None:
    fake = FakeDiscourse(FIXTURES)
    fake.fail("/latest.json", "429", retry_after="2")
    clock = FakeClock()
    with forum(fake) as url, VCR.use_cassette("rate_limited_latest.yaml"):
        listing = client(url, clock).latest()
    assert clock.sleeps == [2.0]
    assert [t.id for t in listing.topic_list.topics][:2] == [106, 104]


def test_deleted_topic_from_cassette() -> None:
    fake = FakeDiscourse(FIXTURES)
    fake.deleted.add(104)
    with forum(fake) as url, VCR.use_cassette("deleted_topic.yaml"), pytest.raises(TopicGone):
        client(url, FakeClock()).topic(104)


def test_cassettes_exist_and_contain_no_credentials() -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert {f.name for f in files} >= {"search_and_topic.yaml", "rate_limited_latest.yaml", "deleted_topic.yaml"}
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert RECORDING_KEY not in text and "scopebot-reader" not in text, f.name
        assert "Api-Key" not in text and "api-key" not in text.lower(), f.name
        assert "scopebot/" in text, "the User-Agent is recorded"
