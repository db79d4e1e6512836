"""Multiple-choice quizzes in lesson material are not evidence: their wrong options read as statements."""

from __future__ import annotations

from scopebot.answer.evidence import is_quiz_passage, select_evidence
from scopebot.answer.qtype import classify
from scopebot.index.models import Chunk, SearchResult

_QUIZ = ("1. The tiles fuse into a flawless mosaic.\n2. The objective changes its magnification.\n"
         "3. A grid of brighter and darker squares shows across the mosaic.\n"
         "4. The camera switches to colour.\n\n**Solution**\n 3 Shading differs between tiles.")


def _chunk(key: str, kind: str, section: str, body: str, breadcrumb: str = "") -> Chunk:
    return Chunk(key=key, source_id="s", kind=kind, title="Lesson", section=section,
                 breadcrumb=breadcrumb or f"Lesson › {section}", url="u", text=f"{section}\n{body}")


class _Retriever:
    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks

    def search(self, query: str, k: int = 5, kinds: list[str] | None = None) -> list[SearchResult]:
        hits = [c for c in self.chunks if kinds is None or c.kind in kinds]
        return [SearchResult(chunk=c, score=1.0 - i / 10) for i, c in enumerate(hits[:k])]


def test_numbered_options_under_a_question_or_above_an_answer_key_are_a_quiz() -> None:
    assert is_quiz_passage(_QUIZ)
    assert is_quiz_passage(_QUIZ.split("\n\n")[0] + "\n", section="What happens without correction?")
    assert is_quiz_passage("Tiles overlap.", breadcrumb="Lesson › Stitching › Assessment › Overlap")


def test_steps_and_worked_solutions_are_not_a_quiz() -> None:
    steps = "1. Open the image.\n2. Subtract the background.\n3. Apply a threshold.\n4. Count the objects."
    assert not is_quiz_passage(steps, section="Counting nuclei")
    worked = "**Solution**\n\nDifferent automatic thresholds suit different images; try several on yours."
    assert not is_quiz_passage(worked, section="Automated thresholding")


def test_a_quiz_is_left_out_of_the_evidence_when_prose_remains() -> None:
    unkeyed = _QUIZ.split("**Solution**")[0]  # a keyed quiz is kept as its statements (test_answer_quiz_answers)
    quiz = _chunk("q", "training", "What happens when tiles are not corrected?", unkeyed,
                  "Lesson › Stitching › Assessment › Vignetting")
    prose = [_chunk("p1", "training", "Flat-field correction", "Divide each tile by a flat-field image."),
             _chunk("p2", "training", "Shading", "Uneven illumination darkens the edges of each tile.")]
    question = "How do I correct uneven illumination in tile scans?"
    keys = [r.chunk.key for r in select_evidence(_Retriever([quiz, *prose]), question, classify(question), 5)]
    assert "q" not in keys and {"p1", "p2"} <= set(keys)
    alone = [r.chunk.key for r in select_evidence(_Retriever([quiz, prose[0]]), question, classify(question), 5)]
    assert alone[-1] == "q"  # with one prose passage left, the quiz stays, last
