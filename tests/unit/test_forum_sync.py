"""Incremental, crash-safe sync of forum topics into the store and (through a collector) the index."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest

from scopebot.forum.client import DiscourseClient
from scopebot.forum.convert import FORUM_SOURCE
from scopebot.forum.errors import ForumUnavailable
from scopebot.forum.fake import FakeClock, FakeDiscourse
from scopebot.forum.store import TopicStore
from scopebot.forum.sync import ForumSync, SyncOptions
from scopebot.sources.models import Section, SourceSpec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discourse"
ALL = [101, 102, 103, 104, 105, 106]


class Collector:
    """Stands in for ``IndexBuilder.ingest_sections``: remembers every call."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[SourceSpec, list[Section]]] = []
        self.fail = fail

    def __call__(self, spec: SourceSpec, sections: list[Section]) -> dict[str, int]:
        if self.fail:
            raise RuntimeError("index is broken")
        self.calls.append((spec, sections))
        return {"sections": len(sections)}

    def topic_ids(self, call: int = -1) -> list[int]:
        return sorted({s.metadata["topic_id"] for s in self.calls[call][1]})


class Env:
    def __init__(self, tmp_path: Path, **fake_kw: object) -> None:
        self.fake = FakeDiscourse(FIXTURES, **fake_kw)  # type: ignore[arg-type]
        self.clock = FakeClock()
        self.client = DiscourseClient("https://forum.image.sc", http=httpx.Client(transport=self.fake.transport()),
                                      min_interval=0.0, clock=self.clock, sleep=self.clock.sleep)
        self.root = tmp_path / "forum"
        self.collector = Collector()

    def sync(self, progress: object = None, ingest: object = None) -> ForumSync:
        return ForumSync(self.client, TopicStore(self.root), ingest or self.collector,  # type: ignore[arg-type]
                         progress=progress)  # type: ignore[arg-type]


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def test_first_sync_stores_and_ingests_every_topic(env: Env) -> None:
    report = env.sync().run(SyncOptions())
    assert (report.discovered, report.fetched, report.new, report.unchanged) == (6, 6, 6, 0)
    assert report.ok and report.ingested and report.stored_total == 6
    spec, sections = env.collector.calls[0]
    assert spec.id == FORUM_SOURCE.id and spec.kind == "forum"
    assert env.collector.topic_ids() == ALL
    urls = [s.url for s in sections]
    assert len(urls) == len(set(urls)), "no duplicate sections"
    assert report.sections == len(sections)
    assert sorted(int(p.stem) for p in (env.root / "topics").glob("*.json")) == ALL


def test_rerun_skips_unchanged_topics_without_requests_or_reingest(env: Env) -> None:
    env.sync().run(SyncOptions())
    reads = len(env.fake.topic_reads())
    report = env.sync().run(SyncOptions())
    assert (report.fetched, report.new, report.updated, report.unchanged) == (0, 0, 0, 6)
    assert len(env.fake.topic_reads()) == reads
    assert not report.ingested and len(env.collector.calls) == 1


def test_new_reply_updates_only_that_topic_and_reingests_all(env: Env) -> None:
    env.sync().run(SyncOptions())
    env.fake.add_post(103, "<p>A flat-field correction made the measurements comparable across the "
                           "whole field of view in our hands as well.</p>")
    before = len(env.fake.topic_reads())
    report = env.sync().run(SyncOptions())
    assert (report.fetched, report.updated, report.unchanged) == (1, 1, 5)
    assert env.fake.topic_reads()[before:] == [103]
    assert env.collector.topic_ids() == ALL
    assert any("flat-field correction made" in s.text for s in env.collector.calls[-1][1])


def test_search_options_become_discourse_filters(env: Env) -> None:
    options = SyncOptions(query="segmentation", tags=["CellProfiler", "stardist"], since=date(2023, 1, 1),
                          solved=True, category="usage-issues", max_topics=10)
    assert options.search_query() == ("segmentation tags:cellprofiler,stardist #usage-issues "
                                      "after:2023-01-01 status:solved")
    report = env.sync().run(options)
    assert sorted(env.fake.topic_reads()) == [101, 105] and report.new == 2
    assert SyncOptions(tags=["fiji"]).search_query() == "tags:fiji order:latest"


def test_since_and_max_topics_limit_latest(tmp_path: Path) -> None:
    env = Env(tmp_path, per_page=2)
    report = env.sync().run(SyncOptions(since=date(2024, 5, 1)))
    assert sorted(env.fake.topic_reads()) == [102, 103, 104, 106] and report.discovered == 4
    env2 = Env(tmp_path / "b", per_page=2)
    report2 = env2.sync().run(SyncOptions(max_topics=3))
    assert report2.discovered == 3 and len(env2.fake.hits("/latest.json")) == 2


def test_topic_deleted_between_listing_and_read_is_skipped(env: Env) -> None:
    env.fake.deleted.add(104)
    report = env.sync().run(SyncOptions())
    assert report.gone == [104] and report.removed == [] and report.new == 5 and not report.failed
    assert env.collector.topic_ids() == [101, 102, 103, 105, 106]


def test_topic_deleted_after_it_was_synced_is_removed(env: Env) -> None:
    env.sync().run(SyncOptions())
    env.fake.deleted.add(102)
    env.fake.add_post(102, "<p>late reply that bumps the topic so it is read again by the sync</p>")
    report = env.sync().run(SyncOptions())
    assert report.gone == [102] and report.removed == [102]
    assert env.collector.topic_ids() == [101, 103, 104, 105, 106]


def test_malformed_topic_fails_alone_and_is_fetched_on_the_next_run(env: Env) -> None:
    env.fake.fail("/t/103.json", "malformed")
    report = env.sync().run(SyncOptions())
    assert list(report.failed) == [103] and "malformed JSON" in report.failed[103]
    assert report.ok and report.new == 5
    assert env.collector.topic_ids() == [101, 102, 104, 105, 106]
    before = len(env.fake.topic_reads())
    again = env.sync().run(SyncOptions())
    assert env.fake.topic_reads()[before:] == [103] and again.new == 1 and again.unchanged == 5
    assert env.collector.topic_ids() == ALL


def test_rate_limited_topic_is_waited_for(env: Env) -> None:
    env.fake.fail("/t/105.json", "429", retry_after="20")
    report = env.sync().run(SyncOptions())
    assert report.new == 6 and not report.failed and 20.0 in env.clock.sleeps


def test_crash_midway_keeps_stored_topics_and_rerun_fetches_only_missing(env: Env) -> None:
    seen: list[int] = []

    def crash_after_three(event: str, topic_id: int, title: str) -> None:
        seen.append(topic_id)
        if len(seen) == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C / the process was killed

    with pytest.raises(KeyboardInterrupt):
        env.sync(progress=crash_after_three).run(SyncOptions())
    assert sorted(TopicStore(env.root).entries) == sorted(seen)
    assert env.collector.calls == []                # the index was never touched by the failed run
    before = len(env.fake.topic_reads())
    report = env.sync().run(SyncOptions())
    fetched_again = env.fake.topic_reads()[before:]
    assert sorted(fetched_again) == sorted(set(ALL) - set(seen))
    assert report.new == 3 and report.unchanged == 3
    sections = env.collector.calls[-1][1]
    assert env.collector.topic_ids() == ALL and len({s.url for s in sections}) == len(sections)


def test_forum_going_down_midway_stops_early_and_keeps_what_was_synced(env: Env) -> None:
    order = [106, 104, 103, 102, 101, 105]          # latest first
    for tid in order[2:]:
        env.fake.fail(f"/t/{tid}.json", "503", times=-1)
    env.client.retry = env.client.retry.__class__(max_retries=1)
    report = env.sync().run(SyncOptions())
    assert report.aborted and "3 failed requests in a row" in report.aborted
    assert sorted(report.failed) == [101, 102, 103]
    assert report.new == 2 and env.collector.topic_ids() == [104, 106]   # index matches the store
    env.fake.faults.clear()
    before = len(env.fake.topic_reads())
    again = env.sync().run(SyncOptions())
    assert sorted(env.fake.topic_reads()[before:]) == [101, 102, 103, 105]
    assert again.ok and again.new == 4 and env.collector.topic_ids() == ALL


def test_unreachable_forum_raises_before_touching_anything(env: Env) -> None:
    env.fake.fail("/", "drop", times=-1)
    with pytest.raises(ForumUnavailable):
        env.sync().run(SyncOptions())
    assert env.collector.calls == [] and len(TopicStore(env.root)) == 0


def test_failed_ingest_keeps_the_store_and_is_retried_next_run(env: Env) -> None:
    with pytest.raises(RuntimeError):
        env.sync(ingest=Collector(fail=True)).run(SyncOptions())
    assert len(TopicStore(env.root)) == 6
    report = env.sync().run(SyncOptions())
    assert report.fetched == 0 and report.ingested and env.collector.topic_ids() == ALL


def test_max_topics_must_be_positive() -> None:
    with pytest.raises(Exception, match="max-topics"):
        SyncOptions(max_topics=0)


def test_search_results_are_paged_until_max_topics(tmp_path: Path) -> None:
    env = Env(tmp_path, search_page_size=2)
    report = env.sync().run(SyncOptions(query="the", max_topics=5))
    pages = [dict(r.query)["page"] for r in env.fake.hits("/search.json")]
    assert pages == ["1", "2", "3"] and report.discovered == 5 and report.new == 5


def test_listing_failure_after_the_first_page_keeps_what_was_found(tmp_path: Path) -> None:
    env = Env(tmp_path, per_page=2)
    env.client.retry = env.client.retry.__class__(max_retries=0)
    env.fake.fail("/latest.json", "slow", delay=0)          # page 0 fine (consumes the no-op fault)
    env.fake.fail("/latest.json", "500", times=-1)          # later pages fail
    report = env.sync().run(SyncOptions())
    assert report.discovered == 2 and report.new == 2 and "stopped listing topics early" in report.discovery_warning


def test_long_rate_limit_stops_the_sync_at_once_and_keeps_progress(env: Env) -> None:
    env.fake.fail("/t/103.json", "429", times=-1, retry_after="900")
    report = env.sync().run(SyncOptions())
    assert report.aborted.startswith("the forum asked us to slow down") and list(report.failed) == [103]
    assert env.fake.topic_reads() == [106, 104, 103]            # nothing after the 429
    assert env.clock.sleeps == [] and env.collector.topic_ids() == [104, 106]


def test_when_every_stored_topic_is_gone_the_forum_source_is_emptied(env: Env) -> None:
    env.sync().run(SyncOptions(query="Fast4DReg"))
    assert env.collector.topic_ids() == [106]
    env.fake.deleted.add(106)
    env.fake.add_post(106, "<p>bump so that the sync reads the topic again and notices it is gone</p>")
    report = env.sync().run(SyncOptions(query="Fast4DReg"))
    assert report.removed == [106] and report.ingested and env.collector.calls[-1][1] == []
