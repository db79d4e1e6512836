"""The on-disk topic store: atomic writes, crash recovery and ingest bookkeeping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scopebot.errors import ConfigurationError
from scopebot.forum.convert import topic_to_sections
from scopebot.forum.models import Topic
from scopebot.forum.store import TopicStore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discourse"


def topic(tid: int) -> Topic:
    return Topic.model_validate(json.loads((FIXTURES / "topics" / f"{tid}.json").read_text()))


def save(store: TopicStore, tid: int) -> None:
    t = topic(tid)
    store.save(t, topic_to_sections(t)[0].metadata["fingerprint"])


def test_saved_topics_survive_a_reload(tmp_path: Path) -> None:
    store = TopicStore(tmp_path)
    save(store, 101)
    save(store, 102)
    again = TopicStore(tmp_path)
    assert sorted(again.entries) == [101, 102]
    assert again.get(101).title == "StarDist merges touching nuclei in 3D"
    assert again.topic(102) == topic(102)
    assert [t.id for t in again.iter_topics()] == [101, 102]
    assert not list(tmp_path.rglob("*.tmp"))


def test_crash_between_topic_and_index_write_is_recovered(tmp_path: Path) -> None:
    store = TopicStore(tmp_path)
    save(store, 101)
    save(store, 102)
    index = json.loads(store.index_path.read_text())
    del index["topics"]["102"]                      # as if the process died before the index write
    store.index_path.write_text(json.dumps(index))
    recovered = TopicStore(tmp_path)
    assert sorted(recovered.entries) == [101, 102]
    assert "102" in json.loads(recovered.index_path.read_text())["topics"]


def test_entries_without_files_and_unreadable_files_are_dropped(tmp_path: Path) -> None:
    store = TopicStore(tmp_path)
    save(store, 101)
    save(store, 103)
    (store.topics_dir / "101.json").unlink()
    (store.topics_dir / "999.json").write_text("{ not json")
    (store.topics_dir / ".103.json.abc.tmp").write_text("partial")   # leftover temp file of a crash
    again = TopicStore(tmp_path)
    assert sorted(again.entries) == [103]


def test_unreadable_index_is_rebuilt_from_topic_files(tmp_path: Path) -> None:
    store = TopicStore(tmp_path)
    save(store, 104)
    store.index_path.write_text("garbage")
    assert sorted(TopicStore(tmp_path).entries) == [104]


def test_remove_and_touch(tmp_path: Path) -> None:
    store = TopicStore(tmp_path)
    save(store, 101)
    store.touch(101, "new-signature")
    assert TopicStore(tmp_path).get(101).signature == "new-signature"
    assert store.remove(101) is True and store.remove(101) is False
    assert not (store.topics_dir / "101.json").exists() and len(TopicStore(tmp_path)) == 0


def test_digest_tracks_content_and_ingest(tmp_path: Path) -> None:
    store = TopicStore(tmp_path)
    save(store, 101)
    assert store.needs_ingest
    store.mark_ingested(store.digest())
    assert not TopicStore(tmp_path).needs_ingest
    save(store, 102)
    assert store.needs_ingest


def test_second_concurrent_sync_is_refused(tmp_path: Path) -> None:
    store = TopicStore(tmp_path)
    other = TopicStore(tmp_path)
    with store.locked():
        with pytest.raises(ConfigurationError) as info:
            with other.locked():
                pass
        assert "already running" in info.value.message
    with other.locked():          # released afterwards
        pass
