"""The server's embedder in a child process: restarted when it dies, a clear error when it keeps dying."""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
import pytest

from scopebot.errors import ModelError
from scopebot.index.embed_worker import ProcessEmbedder, server_embedder
from scopebot.index.embeddings import HashEmbedder
from scopebot.settings import Settings

#: A stand-in worker: the real protocol with the hash embedder; the text "crash" kills it by SIGSEGV,
#: and with the argument's "always" it dies on every request.
FAKE_WORKER = r'''
import base64, json, os, signal, sys
import numpy as np
from scopebot.index.embeddings import HashEmbedder
always = json.loads(sys.argv[1]).get("always", False)
emb = HashEmbedder(dim=16)
print(json.dumps({"ready": True, "name": emb.name, "dim": 16, "variant": "fake"}), flush=True)
for raw in sys.stdin:
    texts = json.loads(raw)["texts"]
    if always or "crash" in texts:
        os.kill(os.getpid(), signal.SIGSEGV)
    rows = emb.embed(texts).astype(np.float32)
    print(json.dumps({"n": len(texts), "dim": 16, "data": base64.b64encode(rows.tobytes()).decode()}), flush=True)
'''


def fake(**fields: object) -> ProcessEmbedder:
    return ProcessEmbedder(dict(fields), command=[sys.executable, "-c", FAKE_WORKER], timeout=30)


def test_vectors_come_from_the_child_process() -> None:
    emb = fake()
    try:
        got = emb.embed(["nuclei segmentation", "denoising"])
        assert emb.pid() not in (None, os.getpid()) and emb.name == "hash-16" and emb.dim == 16
        np.testing.assert_allclose(got, HashEmbedder(dim=16).embed(["nuclei segmentation", "denoising"]))
    finally:
        emb.close()


def test_a_crash_restarts_the_worker_and_the_request_is_answered() -> None:
    emb = fake()
    try:
        first = emb.pid()
        with pytest.raises(ModelError) as info:
            emb.embed(["crash"])  # dies twice: the same text crashes the restarted worker too
        assert "SIGSEGV" in str(info.value) and info.value.hint
        assert emb.embed(["after the crash"]).shape == (1, 16)  # the worker was restarted
        assert emb.pid() != first and emb.restarts == 2  # after the failed retry, and for this request
    finally:
        emb.close()


def test_a_worker_killed_between_requests_is_replaced_without_an_error() -> None:
    emb = fake()
    try:
        pid = emb.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        assert emb.embed(["still answered"]).shape == (1, 16)
        assert emb.restarts == 1 and emb.pid() != pid
    finally:
        emb.close()


def test_a_worker_that_always_dies_gives_a_clear_error() -> None:
    emb = fake(always=True)
    try:
        with pytest.raises(ModelError) as info:
            emb.embed(["anything"])
        assert "embedding model stopped (SIGSEGV)" in str(info.value)
    finally:
        emb.close()


def test_servers_use_the_worker_except_for_the_test_double(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(server_embedder(Settings(home=tmp_path, embedding_model="hash")), HashEmbedder)
    assert isinstance(server_embedder(Settings(home=tmp_path, embedding_model="hash", embedding_worker=True)),
                      HashEmbedder)
