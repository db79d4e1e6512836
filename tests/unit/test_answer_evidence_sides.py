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


def test_a_side_of_several_words_is_found_by_its_shorter_phrases_but_never_by_a_generic_one() -> None:
    from scopebot.answer.evidence import resolve_side, side_forms

    forms = side_forms("random-forest pixel classifier")
    assert forms[0] == "random-forest pixel classifier" and "random forest" in forms
    assert "pixel classifier" not in forms  # ends with a word that names any classifier
    texts = ["Traditional ML methods, like random forest classifiers, depend on hand-made features."]
    assert resolve_side("random-forest pixel classifier", texts) == "random forest"
    assert resolve_side("deep learning model", ["Deep learning learns its own features."]) == "deep learning"
    # the side itself comes first when a passage names it whole; one word is never enough
    assert resolve_side("deep learning model", ["A deep learning model was trained."]) == "deep learning model"
    assert resolve_side("Li thresholding", ["Otsu thresholding picks a global value."]) == "Li thresholding"


def test_a_hyphenated_spelling_names_a_side_written_with_spaces() -> None:
    assert names_side("A random-forest classifier labels pixels.", "random forest")
    assert not names_side("A random-forest classifier labels pixels.", "forest classifier labels pixels now")


def test_a_comparison_answers_a_side_named_only_by_its_shorter_phrase() -> None:
    from scopebot.answer.extractive import ExtractiveSynthesizer

    rf = _chunk("b1", "book", "Pixel classification",
                "Random forest classifiers depend on features that a person defines for each pixel. "
                "They train in minutes on a few scribbles.")
    dl = _chunk("b2", "book", "Deep networks",
                "Deep learning discovers its own features from the images and usually reaches higher accuracy. "
                "It needs many more annotated examples.")
    question = "What is the difference between a random-forest pixel classifier and a deep learning model?"
    qtype = classify(question)
    assert qtype.kind == "comparison"
    from scopebot.answer.context import build_context

    passages = build_context([SearchResult(chunk=rf, score=0.9), SearchResult(chunk=dl, score=0.8)])
    synth = ExtractiveSynthesizer()
    answer = synth.render(synth.select(question, passages, qtype), qtype)
    assert "could not find" not in answer, answer
    assert "Random forest classifiers depend" in answer and "Deep learning discovers" in answer, answer


def test_a_side_is_also_named_by_the_acronym_the_passages_define_for_it() -> None:
    from scopebot.answer.evidence import names_any, side_names

    texts = ["We train with mean squared error (MSE) or with binary cross entropy (BCE) here.",
             "MSE does not require the output to be a probability."]
    names = side_names("mean squared error", texts)
    assert names == ("mean squared error", "MSE")
    assert names_any(texts[1], names)
    assert side_names("binary cross-entropy", texts) == ("binary cross entropy", "BCE")
    # a one-word side keeps its own name only: "(MSE)" after "error" is no acronym of "error"
    assert side_names("error", texts) == ("error",)
