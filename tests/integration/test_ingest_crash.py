"""Killing an ingest midway leaves the previous index live and answering."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from scopebot.index.builder import IndexBuilder, live_dir
from scopebot.index.embeddings import HashEmbedder
from scopebot.knowledge import KnowledgeBase
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec

pytestmark = pytest.mark.integration

SPEC = SourceSpec(id="crashbook", title="Crash Book", kind="book", license="x", attribution="x",
                  url="https://example.org", subpath="x", parser="markdown")

CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from scopebot.index.builder import IndexBuilder
    from scopebot.index.embeddings import HashEmbedder
    from scopebot.settings import Settings
    from scopebot.sources.models import Section, SourceSpec

    spec = SourceSpec(id="crashbook", title="Crash Book", kind="book", license="x", attribution="x",
                      url="https://example.org", subpath="x", parser="markdown")
    def progress(stage, done, total):
        if stage == "embed":
            print("EMBEDDING", done, total, flush=True)
            time.sleep(0.5)   # slow embedding so the parent can kill us mid-way
    sections = [Section(source_id="crashbook", kind="book", doc_title="New", path=["New", f"S{i}"],
                        url=f"https://example.org/{i}", text=f"replacement text number {i} about zebrafish")
                for i in range(400)]
    s = Settings(home=Path(sys.argv[1]), embedding_model="hash", embedding_batch_size=8)
    IndexBuilder(s, HashEmbedder(), progress=progress).ingest_sections(spec, sections)
    print("DONE", flush=True)
""")


def test_killed_ingest_keeps_old_index(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home, embedding_model="hash")
    old = [Section(source_id="crashbook", kind="book", doc_title="Old", path=["Old", "Deconvolution"],
                   url="https://example.org/old", text="Richardson-Lucy deconvolution sharpens blurred stacks.")]
    IndexBuilder(settings, HashEmbedder()).ingest_sections(SPEC, old)
    before = live_dir(settings)

    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(home)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    deadline = time.time() + 60
    line = ""
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("EMBEDDING") or not line:
            break
    assert line.startswith("EMBEDDING"), "the child never reached the embedding stage"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    assert live_dir(settings) == before  # the live index was not swapped
    assert list((home / "builds").glob("*.partial"))  # the half-built index exists beside it, not live
    kb = KnowledgeBase.open(settings, HashEmbedder())
    res = kb.search("deconvolution of blurred stacks", k=1)
    assert res and res[0].chunk.title == "Old"

    # the next ingest still works and swaps in the new content
    IndexBuilder(settings, HashEmbedder()).ingest_sections(SPEC, [Section(
        source_id="crashbook", kind="book", doc_title="New", path=["New"], url="https://example.org/n",
        text="zebrafish heart imaging with light-sheet microscopy")])
    kb2 = KnowledgeBase.open(settings, HashEmbedder())
    assert kb2.search("zebrafish heart", k=1)[0].chunk.title == "New"
