"""Live forum search in chat: citable forum results when online, a clear status when offline."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from scopebot.citations import CITATION_RE, format_citation
from scopebot.forum.client import DiscourseClient
from scopebot.forum.convert import FORUM_SOURCE, topic_to_sections
from scopebot.forum.errors import UNREACHABLE_MESSAGE, ForumUnavailable
from scopebot.forum.fake import FakeClock, FakeDiscourse
from scopebot.forum.live import LiveForumSearch
from scopebot.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discourse"


def make(fake: FakeDiscourse, clock: FakeClock, **kw: object) -> LiveForumSearch:
    client = DiscourseClient("https://forum.image.sc", http=httpx.Client(transport=fake.transport()),
                             min_interval=0.0, clock=clock, sleep=clock.sleep)
    return LiveForumSearch(client, clock, **kw)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> FakeDiscourse:
    return FakeDiscourse(FIXTURES)


def test_live_hits_are_citable_forum_results(fake: FakeDiscourse) -> None:
    results = make(fake, FakeClock(), expand=1).search("segmentation", k=4)
    assert 1 <= len(results) <= 4
    assert [r.rank for r in results] == list(range(1, len(results) + 1))
    assert all(a.score > b.score for a, b in zip(results, results[1:], strict=False))
    for r in results:
        c = r.chunk
        assert c.kind == "forum" and c.source_id == "imagesc"
        assert CITATION_RE.fullmatch(format_citation(c.key)) and c.key.startswith("fm-")
        assert c.url.startswith("https://forum.image.sc/t/")
        assert c.breadcrumb.startswith("image.sc forum › ") and c.text.startswith(c.breadcrumb + "\n")
        assert c.metadata["attribution"].split(" on image.sc")[0] and c.metadata["live"] is True
    # the first (expanded) topic contributes its accepted answer with the author credited
    top = results[0].chunk
    assert top.section == "Accepted answer" and top.metadata["accepted"] is True
    assert top.metadata["attribution"].startswith("Marta Rosen")


def test_unexpanded_hits_use_the_search_excerpt(fake: FakeDiscourse) -> None:
    results = make(fake, FakeClock(), expand=0).search("declumping", k=3)
    assert len(results) == 1 and results[0].chunk.metadata["excerpt"] is True
    assert results[0].chunk.url.endswith("/105/3") and results[0].chunk.section.startswith("Reply by")
    assert fake.topic_reads() == []


def test_live_key_matches_the_index_chunker_key(fake: FakeDiscourse) -> None:
    pytest.importorskip("langchain_text_splitters")
    from scopebot.index.chunking import Chunker

    live = make(fake, FakeClock(), expand=1).search("Fast4DReg drift", k=2)
    topic = DiscourseClient("https://forum.image.sc", http=httpx.Client(transport=fake.transport()),
                            min_interval=0).topic(106)
    indexed = {c.key for s in topic_to_sections(topic, base_url="https://forum.image.sc")
               for c in Chunker().chunk_section(FORUM_SOURCE, s)}
    assert live and {r.chunk.key for r in live} <= indexed


def test_offline_forum_gives_status_message_not_an_error(fake: FakeDiscourse) -> None:
    fake.fail("/", "drop", times=-1)
    live = make(fake, FakeClock())
    assert live.is_reachable() is False
    outcome = live.try_search("stardist", k=3)
    assert outcome.results == [] and outcome.reachable is False
    assert outcome.message == UNREACHABLE_MESSAGE == "the image.sc forum is not reachable; answering from the index only"
    with pytest.raises(ForumUnavailable):
        live.search("stardist")


def test_reachability_is_remembered_for_a_while(fake: FakeDiscourse) -> None:
    clock = FakeClock()
    live = make(fake, clock, reachability_ttl=60)
    assert live.is_reachable() and live.is_reachable()
    assert len(fake.hits("/site/basic-info.json")) == 1
    clock.now += 61
    fake.fail("/", "drop", times=-1)
    assert live.is_reachable() is False


def test_search_failure_marks_forum_unreachable(fake: FakeDiscourse) -> None:
    live = make(fake, FakeClock())
    fake.fail("/search.json", "503", times=-1)
    outcome = live.try_search("napari gpu")
    assert outcome.reachable is False and outcome.message == UNREACHABLE_MESSAGE
    assert live.is_reachable() is False                  # remembered: no new ping
    assert len(fake.hits("/site/basic-info.json")) == 1


def test_malformed_search_answer_falls_back_to_index(fake: FakeDiscourse) -> None:
    fake.fail("/search.json", "malformed")
    outcome = make(fake, FakeClock()).try_search("napari gpu")
    assert outcome.results == [] and outcome.reachable and "answering from the index only" in outcome.message


def test_empty_query_returns_nothing_without_requests(fake: FakeDiscourse) -> None:
    assert make(fake, FakeClock()).search("   ") == [] and fake.requests == []


def test_from_settings_respects_forum_live(tmp_path: Path) -> None:
    assert LiveForumSearch.from_settings(Settings(home=tmp_path, forum_live=False)) is None
    live = LiveForumSearch.from_settings(Settings(home=tmp_path, forum_url="http://127.0.0.1:9"))
    assert live is not None and live.client.base_url == "http://127.0.0.1:9"
