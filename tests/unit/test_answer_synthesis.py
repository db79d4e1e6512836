"""Labelled extracts organised by question type; antecedents, subject drift and exercises."""

from __future__ import annotations

from pathlib import Path

from test_answer_fixtures import settings, small_model

from scopebot.answer.context import build_context
from scopebot.answer.evidence import is_exercise
from scopebot.answer.extractive import ExtractiveSynthesizer, candidates
from scopebot.answer.pipeline import AnswerPipeline
from scopebot.answer.qtype import classify
from scopebot.answer.synthesis import assign_subject
from scopebot.citations import make_key
from scopebot.index.models import Chunk, SearchResult
from scopebot.index.protocols import InMemoryRetriever


def _chunk(name: str, section: str, body: str, kind: str = "book") -> Chunk:
    return Chunk(key=make_key(kind, name, body), source_id=f"test-{kind}", kind=kind, title="Denoising",
                 section=section, breadcrumb=f"Test › Denoising › {section}", url=f"https://example.org/{name}",
                 text=f"Test › Denoising\n{body}")


N2N = _chunk("n2n", "Learning from pairs of noisy images",
             "Noise2Noise removes the need for clean targets by pairing two noisy acquisitions of the same field. "
             "It trains the model using two noisy images of the same content as input and target.")
N2V = _chunk("n2v", "Learning from single noisy images",
             "Noise2Void trains a denoising network from single noisy images. The network predicts hidden pixels "
             "from their neighbours, so no clean or second noisy image is needed for training.")
QUIZ = _chunk("quiz", "Exercise", "Question: the IoU is the intersection divided by ___ . "
              "Fill in the blanks with the right word from the lesson text above.", kind="training")


def test_antecedent_takes_the_subject_of_the_sentence_before_or_is_skipped() -> None:
    assert assign_subject("It trains the model on pairs.", "Noise2Noise pairs two acquisitions.", "") == \
        ("Noise2Noise", True)
    assert assign_subject("It trains the model on pairs.", "The data are noisy.", "Training") == ("", False)
    cands = candidates(build_context([SearchResult(chunk=N2N, score=1.0, rank=1)]))
    it = [c for c in cands if c.text.startswith("It trains")]
    assert it and it[0].subject == "Noise2Noise"


def test_subject_drift_is_not_quoted_for_a_single_method_question() -> None:
    passages = build_context([SearchResult(chunk=N2V, score=1.0, rank=1), SearchResult(chunk=N2N, score=0.9, rank=2)])
    qt = classify("What does Noise2Void need for training?")
    picked = ExtractiveSynthesizer(None).select("What does Noise2Void need for training?", passages, qt)
    assert picked and all("two noisy images" not in c.text for c in picked)
    text = ExtractiveSynthesizer.render(picked, qt)
    assert text.startswith("- **Noise2Void**:")


def test_exercise_sentences_are_never_statements() -> None:
    assert is_exercise("Question: the IoU is the intersection divided by ___ .")
    assert is_exercise("The F1 score is divided by _.")
    assert not is_exercise("The IoU divides the intersection by the union.")
    assert candidates(build_context([SearchResult(chunk=QUIZ, score=1.0, rank=1)])) == []


def test_comparison_answers_both_sides(tmp_path: Path) -> None:
    p = AnswerPipeline(InMemoryRetriever([N2N, N2V, QUIZ]), small_model(), settings(tmp_path))
    answer = p.answer("Noise2Noise or Noise2Void for denoising without clean images?")
    assert not answer.abstained
    assert "**Noise2Noise**:" in answer.answer and "**Noise2Void**:" in answer.answer
    assert answer.answer.index("**Noise2Noise**:") < answer.answer.index("**Noise2Void**:")
    assert answer.checks.invalid_citations == 0


def test_howto_answers_are_numbered_steps(tmp_path: Path) -> None:
    steps = _chunk("steps", "Avoiding overfitting",
                   "Keep a validation set aside and watch its loss during training. Stop training early when the "
                   "validation loss starts to rise. Augment the training images with flips and rotations to show "
                   "the network more variation.")
    p = AnswerPipeline(InMemoryRetriever([steps, N2V]), small_model(), settings(tmp_path))
    answer = p.answer("How do I avoid overfitting when training on few images?")
    assert not answer.abstained
    lines = [ln for ln in answer.answer.split("\n") if ln.strip()]
    assert lines[0].startswith("1. ") and any(ln.startswith("2. ") for ln in lines)


def test_sentences_that_continue_the_one_before_are_skipped() -> None:
    assert assign_subject("If not, the network is overfitting to the training set.", "The loss falls.", "") == \
        ("", False)


def test_unsupported_generative_text_falls_back_to_the_passages_sentences(tmp_path: Path) -> None:
    from scopebot.llm.scripted import ScriptedModel

    model = ScriptedModel(["The passage gives a detailed overview of many things in general."], name="scripted:strong",
                          is_small=False)
    p = AnswerPipeline(InMemoryRetriever([N2V, N2N]), model, settings(tmp_path))
    answer = p.answer("What does Noise2Void need for training?", mode="generative")
    assert not answer.abstained and "Noise2Void" in answer.answer
    assert "The passage gives a detailed overview of many things in general." in answer.checks.removed_sentences
    assert all(s.source == "extractive" for s in answer.sentences)
