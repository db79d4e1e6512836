"""A multiple-choice quiz states what its answer key says: the chosen option and the solution's prose."""

from __future__ import annotations

from scopebot.answer.context import build_context
from scopebot.answer.evidence import answered_quiz, select_evidence
from scopebot.answer.extractive import candidates
from scopebot.answer.qtype import classify
from scopebot.answer.quiz_answers import quiz_statements
from scopebot.index.models import Chunk, SearchResult

_OPTIONS = ("1. Yes, shading does not depend on the optics in the light path.\n"
            " 2. No, shading patterns belong to one objective and filter combination each.\n"
            " 3. Only when the camera binning is left unchanged between sessions.\n\n")
_KEYED = _OPTIONS + "**Solution**\nAnswer number 2"
_KEYED_PROSE = _OPTIONS + "**Solution**\n 2 A new objective brings a new\nillumination profile, so record a new reference."
_TRUE_FALSE = ("1. Mean filters keep edges sharper than median filters.\n 2. Median filters ignore outliers.\n\n"
               "**Solution**\n 1. False; a mean filter blurs edges more than a median filter does.\n 2. True")
_BLANKS = "1. IoU divides the intersection by the ___.\n2. Dice doubles the ___.\n\n**Solution**\n1. union\n2. overlap"


def test_the_key_gives_the_chosen_option_without_its_verdict() -> None:
    assert quiz_statements(_KEYED) == ["Shading patterns belong to one objective and filter combination each."]


def test_the_solution_prose_after_a_bare_key_is_joined_across_lines() -> None:
    assert quiz_statements(_KEYED_PROSE) == [
        "Shading patterns belong to one objective and filter combination each.",
        "A new objective brings a new illumination profile, so record a new reference."]


def test_true_false_items_blanks_and_unkeyed_quizzes_state_nothing() -> None:
    assert quiz_statements(_TRUE_FALSE) == []  # "1. False; ..." is a list of verdicts, not a key
    assert quiz_statements(_BLANKS) == []
    assert quiz_statements(_OPTIONS) == []
    assert quiz_statements(_OPTIONS + "**Solution**\nAnswer number 7") == []  # no such option


def _result(key: str, body: str, kind: str = "training", part: str = "Assessment") -> SearchResult:
    section = "You switch from the 10x to the 40x objective. Can you keep the flat-field image?"
    chunk = Chunk(key=key, source_id="s", kind=kind, title="Flat-field correction", section=section,
                  breadcrumb=f"Lessons › Flat-field correction › {part} › {section}", url="u",
                  text=f"Lessons › Flat-field correction › {part}\n{body}")
    return SearchResult(chunk=chunk, score=1.0)


def test_a_keyed_quiz_keeps_its_place_in_the_evidence_as_its_statements() -> None:
    quiz, unkeyed = _result("tr-quiz0001", _KEYED), _result("tr-quiz0002", _OPTIONS)
    prose = [_result(f"tr-prose000{i}", f"Flat-field images are taken on an empty field, part {i}.", part="Theory")
             for i in (1, 2)]

    class _Retriever:
        def search(self, query: str, k: int = 5, kinds: list[str] | None = None) -> list[SearchResult]:
            return [quiz, unkeyed, *prose][:k]

    question = "Can I keep my flat-field image after changing the objective?"
    evidence = select_evidence(_Retriever(), question, classify(question), 5)
    keys = [r.chunk.key for r in evidence]
    assert keys[0] == "tr-quiz0001" and "tr-quiz0002" not in keys, keys
    texts = [c.text for c in candidates(build_context(evidence))]
    assert "Shading patterns belong to one objective and filter combination each." in texts
    assert not any("Yes, shading" in t or "binning" in t for t in texts), texts  # wrong options never


def test_book_passages_are_never_rewritten() -> None:
    assert answered_quiz(_result("bk-quiz0003", _KEYED, kind="book")) is None
