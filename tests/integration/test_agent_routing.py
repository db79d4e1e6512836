"""The router with the real MiniLM embedder on the shipped routing dataset (target accuracy >= 0.9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopebot.agent.router import Router
from scopebot.evals.datasets import load_dataset
from scopebot.evals.suites.routing import run_routing

pytestmark = pytest.mark.integration
DATASET = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "routing_v1.yaml"


@pytest.mark.skipif(not DATASET.is_file(), reason="routing_v1.yaml is not there")
def test_minilm_router_meets_the_accuracy_target(tmp_path: Path) -> None:
    from scopebot.index.embeddings import SentenceTransformerEmbedder

    items = load_dataset(DATASET, "routing").items
    assert len(items) >= 100
    _, metrics, matrix, _ = run_routing(items, Router(SentenceTransformerEmbedder()), tmp_path)
    assert metrics["accuracy"] >= 0.9, matrix
    assert metrics["follow_up_accuracy"] >= 0.8
