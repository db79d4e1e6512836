"""The real query embedder in its child process: the same vectors as in process, and a crash survived."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from scopebot.index.embed_worker import ProcessEmbedder, server_embedder
from scopebot.index.embeddings import make_embedder
from scopebot.settings import Settings

pytestmark = pytest.mark.integration
TEXTS = ["How do I denoise images taken at low laser power?", "segment nuclei in 3D without coding"]


def test_the_worker_gives_the_in_process_vectors_and_survives_a_segfault(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    emb = server_embedder(settings)
    assert isinstance(emb, ProcessEmbedder)
    try:
        inside = make_embedder(settings).embed(TEXTS)
        got = emb.embed(TEXTS)
        assert got.shape == inside.shape and emb.variant and emb.name == make_embedder(settings).name
        assert float(np.min(np.sum(got * inside, axis=1))) > 0.9999
        pid = emb.pid()
        assert pid is not None and pid != os.getpid()
        os.kill(pid, signal.SIGSEGV)
        again = emb.embed(TEXTS)  # restarted, same answer, no error for the user
        assert emb.restarts == 1 and float(np.min(np.sum(again * inside, axis=1))) > 0.9999
    finally:
        emb.close()
