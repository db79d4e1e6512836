"""Comparison sides are found in passages as whole names, plurals included, never as substrings."""

from __future__ import annotations

from scopebot.answer.evidence import names_side, select_evidence
from scopebot.answer.qtype import classify
from scopebot.index.models import Chunk, SearchResult


def test_a_side_is_named_by_its_plural_but_not_by_a_longer_word() -> None:
    assert names_side("Generative Adversarial Networks (GANs) consist of two networks.", "GAN")
    assert names_side("Autoencoders map images to a small code.", "autoencoder")
    assert not names_side("CellSeg and Cellposer are other tools.", "Cellpose")
    assert not names_side("Cell segmentation splits images.", "CellSeg")


class _Retriever:
    """Model cards match the topic's words; the explanation of a side is found only in book/training."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self.queries: list[tuple[str, list[str] | None]] = []

    def search(self, query: str, k: int = 5, kinds: list[str] | None = None) -> list[SearchResult]:
        self.queries.append((query, kinds))
        hits = [c for c in self.chunks if kinds is None or c.kind in kinds]
        if kinds is None:
            hits = [c for c in hits if c.kind == "model-zoo"]
        return [SearchResult(chunk=c, score=1.0 - i / 10) for i, c in enumerate(hits[:k])]


def _chunk(key: str, kind: str, title: str, body: str) -> Chunk:
    return Chunk(key=key, source_id="s", kind=kind, title=title, section=title, breadcrumb=title, url="u",
                 text=f"{title}\n{body}")


def test_a_side_with_only_model_cards_gets_an_explanation_first() -> None:
    card = _chunk("c1", "model-zoo", "StarDist Plant Nuclei", "A StarDist model trained on stained plant nuclei.")
    book = _chunk("b1", "book", "Segmentation", "StarDist predicts star-convex polygons for each nucleus.")
    other = _chunk("b2", "book", "Cellpose", "Cellpose follows flows to object centres.")
    retriever = _Retriever([card, book, other])
    question = "Cellpose or StarDist for DAPI-stained nuclei?"
    evidence = select_evidence(retriever, question, classify(question), 5)
    keys = [r.chunk.key for r in evidence]
    assert keys.index("b1") < keys.index("c1"), keys
    assert any(kinds == ["book", "training"] for _, kinds in retriever.queries)
