"""Evidence and sentence choice for a message that sets a scene before it asks (issue 16).

"We image zebrafish embryos on a light-sheet. How do I stop my U-Net from overfitting?": the passages for
the whole message are kept (the scene often names the problem), the best passages for the asked sentence
alone follow them, and sentences are chosen for what is asked, the scene weighing less.
"""

from __future__ import annotations

from scopebot.answer.context import build_context
from scopebot.answer.evidence import ASKED_PASSAGES, select_evidence
from scopebot.answer.extractive import ExtractiveSynthesizer
from scopebot.answer.focus import split_focus
from scopebot.answer.qtype import classify
from scopebot.citations import make_key
from scopebot.index.models import Chunk, SearchResult

SCENE = "We image zebrafish embryos on a light-sheet microscope and the embryos drift during long recordings."
ASKED = "How do I stop my segmentation network from overfitting on so few annotated images?"
MESSAGE = f"{SCENE} {ASKED}"


def _chunk(name: str, body: str, kind: str = "book", section: str = "Section") -> Chunk:
    return Chunk(key=make_key(kind, name), source_id="s", kind=kind, title="Guide", section=section,
                 breadcrumb=f"Guide › {section}", url="u", text=f"Guide › {section}\n{body}")


class _Retriever:
    """The whole message finds the scene's passages; the asked sentence alone finds the advice."""

    def __init__(self, scene: list[Chunk], asked: list[Chunk]) -> None:
        self.scene, self.asked = scene, asked
        self.queries: list[str] = []

    def search(self, query: str, k: int = 5, kinds: list[str] | None = None) -> list[SearchResult]:
        self.queries.append(query)
        hits = self.asked if query.strip() == ASKED else self.scene
        hits = [c for c in hits if kinds is None or c.kind in kinds]
        return [SearchResult(chunk=c, score=1.0 - i / 10, rank=i + 1) for i, c in enumerate(hits[:k])]


def test_the_message_splits_into_scene_and_asked_sentence() -> None:
    focus = split_focus(MESSAGE)
    assert focus.asked == ASKED and focus.context == SCENE


def test_passages_for_the_asked_sentence_follow_those_for_the_whole_message() -> None:
    scene = [_chunk(f"drift{i}", f"Embryos drift in light-sheet recordings, part {i}.") for i in range(5)]
    advice = [_chunk(f"advice{i}", f"Augmentation and early stopping limit overfitting, part {i}.") for i in range(4)]
    retriever = _Retriever(scene, advice)
    qtype = classify(ASKED)
    plain = select_evidence(retriever, MESSAGE, qtype, 5)
    assert [r.chunk.key for r in plain] == [c.key for c in scene]  # no asked part: unchanged
    focused = select_evidence(retriever, MESSAGE, qtype, 5, asked=ASKED)
    keys = [r.chunk.key for r in focused]
    assert keys[:5] == [c.key for c in scene], keys  # the whole message keeps its passages, first
    assert keys[5:] == [c.key for c in advice[:ASKED_PASSAGES]], keys
    assert ASKED in retriever.queries


def test_an_asked_hit_that_is_a_quiz_is_not_added() -> None:
    scene = [_chunk("drift", "Embryos drift in light-sheet recordings.")]
    quiz = _chunk("quiz", "1. Train longer.\n2. Add augmentation.\n3. Use fewer images.\n\n**Solution**\n2",
                  kind="training", section="Overfitting?")
    retriever = _Retriever(scene, [quiz])
    keys = [r.chunk.key for r in select_evidence(retriever, MESSAGE, classify(ASKED), 5, asked=ASKED)]
    assert quiz.key not in keys


def _passages() -> list:
    body_scene = ("Zebrafish embryos drift on a light-sheet microscope during long recordings of embryos. "
                  "Light-sheet recordings of zebrafish embryos are long and the embryos drift.")
    body_advice = ("Augmentation and early stopping keep a segmentation network from overfitting on few "
                   "annotated images. A network trained on few annotated images overfits them quickly.")
    return build_context([SearchResult(chunk=_chunk("scene", body_scene), score=1.0, rank=1),
                          SearchResult(chunk=_chunk("advice", body_advice), score=0.9, rank=2)])


def test_sentences_are_chosen_for_what_is_asked_not_for_the_scene() -> None:
    passages = _passages()
    synth = ExtractiveSynthesizer(None, max_sentences=2, min_sentences=1)
    focused = [c.text for c in synth.select(MESSAGE, passages, classify(ASKED), asked=ASKED)]
    assert any("early stopping" in t for t in focused), focused
    assert not any("drift" in t for t in focused), focused
    # without the asked part, the scene's words pull its sentences in
    whole = [c.text for c in synth.select(MESSAGE, passages, classify(ASKED))]
    assert any("drift" in t for t in whole), whole


def test_the_scene_still_counts_with_its_weight() -> None:
    passages = _passages()
    only_scene = ExtractiveSynthesizer(None, max_sentences=2, min_sentences=1, context_weight=1.0)
    picked = [c.text for c in only_scene.select(MESSAGE, passages, classify(ASKED), asked=ASKED)]
    assert any("drift" in t for t in picked), picked
