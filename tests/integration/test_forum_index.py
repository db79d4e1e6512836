"""Forum sync into the real index builder (on-disk Chroma + BM25, hash embedder) via the CLI helper."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from scopebot.forum.cli import run_sync
from scopebot.forum.client import RetryPolicy
from scopebot.forum.fake import FakeDiscourse, serve
from scopebot.forum.sync import SyncOptions
from scopebot.settings import Settings

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discourse"


def test_forum_topics_land_in_the_index_with_attribution(tmp_path: Path) -> None:
    pytest.importorskip("chromadb")
    from scopebot.index.builder import live_dir, read_chunks

    fake = FakeDiscourse(FIXTURES)
    console = Console(width=200)
    with serve(fake) as url:
        settings = Settings(home=tmp_path, forum_url=url, embedding_model="hash", chunk_size=400,
                            chunk_overlap=60)
        code, report = run_sync(settings, SyncOptions(), console=console, delay=0)
        assert code == 0 and report is not None and report.ingested
        first = read_chunks(live_dir(settings))
        assert {c.kind for c in first} == {"forum"} and {c.source_id for c in first} == {"imagesc"}
        assert {c.metadata["topic_id"] for c in first} == {101, 102, 103, 104, 105, 106}
        accepted = [c for c in first if c.metadata.get("accepted")]
        assert {c.metadata["topic_id"] for c in accepted} == {101, 102, 105, 106}
        assert all(c.key.startswith("fm-") and " on image.sc, " in c.metadata["attribution"] for c in first)

        # a failed second run (forum down for every topic read) leaves the index exactly as it was
        fake.add_post(104, "<p>Same here: the CPU-only wheel was pulled in by another package; pinning the "
                           "CUDA build fixed it for me.</p>")
        fake.fail("/t/", "503", times=-1)
        code, report = run_sync(settings, SyncOptions(), console=console, delay=0,
                                retry=RetryPolicy(max_retries=1, backoff_base=0.01))
        assert code == 0 and report is not None and list(report.failed) == [104]
        assert [c.key for c in read_chunks(live_dir(settings))] == [c.key for c in first]

        fake.faults.clear()
        code, report = run_sync(settings, SyncOptions(), console=console, delay=0)
        assert code == 0 and report is not None and report.updated == 1
        after = read_chunks(live_dir(settings))
        assert any("pinning the CUDA build" in c.text for c in after)
        assert len({c.key for c in after}) == len(after)
