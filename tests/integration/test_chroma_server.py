"""The index against a real Chroma server (HttpClient), started on 127.0.0.1 by the test."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scopebot.index.builder import IndexBuilder
from scopebot.index.embeddings import HashEmbedder
from scopebot.knowledge import KnowledgeBase
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("chroma") is None, reason="the chroma CLI is not installed")]

SPEC = SourceSpec(id="srvbook", title="Server Book", kind="book", license="x", attribution="x",
                  url="https://example.org", subpath="x", parser="markdown-site")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(["chroma", "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.skip("the Chroma server did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_build_and_search_through_a_chroma_server(tmp_path: Path, chroma_url: str) -> None:
    settings = Settings(home=tmp_path / "home", embedding_model="hash", chroma_url=chroma_url)
    sections = [Section(source_id="srvbook", kind="book", doc_title="3 Tracking", path=["3 Tracking", "Linking"],
                        url="https://example.org/3.html#linking",
                        text="Frame-to-frame linking assigns detections to tracks with the Hungarian algorithm."),
                Section(source_id="srvbook", kind="book", doc_title="4 Registration", path=["4 Registration"],
                        url="https://example.org/4.html", text="Rigid registration aligns drifting frames.")]
    m1 = IndexBuilder(settings, HashEmbedder()).ingest_sections(SPEC, sections)
    assert m1.chroma_url == chroma_url
    assert not (settings.index_dir / "chroma").exists()  # vectors live on the server, not on disk
    kb = KnowledgeBase.open(settings, HashEmbedder())
    assert kb.search("linking detections into tracks", k=1)[0].chunk.section == "Linking"
    # a second build gets its own collection; the live one answers until the swap
    m2 = IndexBuilder(settings, HashEmbedder()).ingest_sections(SPEC, sections[:1])
    assert m2.collection != m1.collection
    kb2 = KnowledgeBase.open(settings, HashEmbedder())
    assert len(kb2) == 1 and kb2.vectors.count() == 1
