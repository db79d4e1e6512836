"""The forum connector against a real local HTTP server (fake Discourse on 127.0.0.1, random port).

Unlike the unit tests (in-process transport), these go through real sockets: real read timeouts,
real connection handling, and the full ``scopebot sync imagesc`` command.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from scopebot.forum.cli import register, run_sync
from scopebot.forum.client import DiscourseClient
from scopebot.forum.fake import FakeClock, FakeDiscourse, serve
from scopebot.forum.live import LiveForumSearch
from scopebot.forum.store import TopicStore
from scopebot.forum.sync import ForumSync, SyncOptions
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discourse"
ALL = [101, 102, 103, 104, 105, 106]


@pytest.fixture
def fake() -> FakeDiscourse:
    return FakeDiscourse(FIXTURES, chunk_size=3, per_page=4)


@pytest.fixture
def url(fake: FakeDiscourse) -> Iterator[str]:
    with serve(fake) as base:
        yield base


class Collector:
    def __init__(self) -> None:
        self.calls: list[list[Section]] = []

    def __call__(self, spec: SourceSpec, sections: list[Section]) -> int:
        assert spec.id == "imagesc" and spec.kind == "forum"
        self.calls.append(sections)
        return len(sections)

    def topic_ids(self) -> list[int]:
        return sorted({s.metadata["topic_id"] for s in self.calls[-1]})


def client(url: str, clock: FakeClock, timeout: float = 5.0) -> DiscourseClient:
    return DiscourseClient(url, http=httpx.Client(), min_interval=0, timeout=timeout, clock=clock,
                           sleep=clock.sleep)


def test_real_timeout_is_retried_then_succeeds(fake: FakeDiscourse, url: str) -> None:
    fake.fail("/t/101.json", "slow", delay=1.0)
    clock = FakeClock()
    topic = client(url, clock, timeout=0.3).topic(101)
    assert topic.id == 101 and len(fake.hits("/t/101.json")) == 2 and clock.sleeps == [1.0]


def test_429_retry_after_over_sockets(fake: FakeDiscourse, url: str) -> None:
    fake.fail("/search.json", "429", retry_after="4")
    clock = FakeClock()
    page = client(url, clock).search("drift")
    assert [t.id for t in page.topics] == [106] and clock.sleeps == [4.0]


def test_dropped_connection_then_success(fake: FakeDiscourse, url: str) -> None:
    fake.fail("/latest.json", "drop")
    clock = FakeClock()
    assert len(client(url, clock).latest().topic_list.topics) == 4 and clock.sleeps == [1.0]


def test_sync_with_every_fault_loses_and_duplicates_nothing(fake: FakeDiscourse, url: str, tmp_path: Path) -> None:
    fake.fail("/latest.json", "429", retry_after="1")     # listing rate-limited once
    fake.fail("/t/106.json", "500")                      # 5xx, then fine
    fake.fail("/t/104.json", "slow", delay=1.0)          # one timeout, then fine
    fake.fail("/t/103.json", "malformed")                # broken JSON: fails this run
    fake.deleted.add(102)                                # listed, then deleted before the read
    clock = FakeClock()
    collector = Collector()
    store = TopicStore(tmp_path / "forum")
    report = ForumSync(client(url, clock, timeout=0.4), store, collector).run(SyncOptions())
    assert report.discovered == 6 and report.ok
    assert report.new == 4 and report.gone == [102] and list(report.failed) == [103]
    assert collector.topic_ids() == [101, 104, 105, 106]
    # next run: only the failed topic is fetched again; the deleted one stays out
    before = len(fake.topic_reads())
    again = ForumSync(client(url, clock), TopicStore(tmp_path / "forum"), collector).run(SyncOptions())
    assert sorted(fake.topic_reads()[before:]) == [102, 103]
    assert again.new == 1 and again.unchanged == 4 and again.gone == [102]
    sections = collector.calls[-1]
    assert collector.topic_ids() == [101, 103, 104, 105, 106]
    assert len({s.url for s in sections}) == len(sections)


def test_live_search_over_sockets_and_when_server_is_gone(fake: FakeDiscourse, tmp_path: Path) -> None:
    clock = FakeClock()
    with serve(fake) as base:
        live = LiveForumSearch(client(base, clock), clock, expand=1)
        results = live.search("CZI TIFF", k=3)
        assert results and results[0].chunk.url.startswith(f"{base}/t/batch-convert-czi")
    clock.now += 3600                                   # reachability cache expired; server stopped
    outcome = live.try_search("CZI TIFF", k=3)
    assert not outcome.reachable and "not reachable" in outcome.message


def test_cli_sync_end_to_end(fake: FakeDiscourse, url: str, tmp_path: Path) -> None:
    app = typer.Typer()

    @app.command()
    def other() -> None:
        pass

    register(app)
    env = {"SCOPEBOT_HOME": str(tmp_path), "SCOPEBOT_FORUM_URL": url, "COLUMNS": "200"}
    args = ["sync", "imagesc", "--tag", "segmentation", "--since", "2023-01-01", "--max-topics", "5",
            "--delay", "0", "--no-ingest"]
    first = CliRunner().invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    assert "new" in first.output and "skipped unchanged" in first.output
    assert sorted(int(p.stem) for p in (tmp_path / "forum" / "topics").glob("*.json")) == [101, 105]
    second = CliRunner().invoke(app, args, env=env)
    assert second.exit_code == 0 and sorted(fake.topic_reads()) == [101, 105]


def test_run_sync_ingests_through_the_factory(url: str, tmp_path: Path) -> None:
    collector = Collector()
    settings = Settings(home=tmp_path, forum_url=url)
    code, report = run_sync(settings, SyncOptions(max_topics=6), console=Console(width=200), delay=0,
                            ingest_factory=lambda _settings: collector)
    assert code == 0 and report is not None and report.ingested
    assert collector.topic_ids() == ALL
