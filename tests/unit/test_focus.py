"""The asked part of a message, apart from the scene it sets (scopebot.answer.focus)."""

from __future__ import annotations

import pytest

from scopebot.answer.focus import asked_part, split_focus
from scopebot.answer.qtype import classify


def test_context_sentence_is_set_apart_from_the_question() -> None:
    f = split_focus("Our zebrafish hearts are imaged on a spinning disk and the signal is faint. "
                    "How do I denoise the stacks without blurring the valves?")
    assert f.asked == "How do I denoise the stacks without blurring the valves?"
    assert f.context.startswith("Our zebrafish hearts")
    assert f.has_context


@pytest.mark.parametrize("message", [
    "What is Noise2Void?",
    "Explain how StarDist separates touching nuclei.",
    "We only have 20 annotated images and a U-Net that overfits.",  # asks nothing explicitly: all of it
])
def test_a_message_without_separate_context_is_asked_whole(message: str) -> None:
    f = split_focus(message)
    assert f.asked == message
    assert not f.has_context


def test_a_question_leaning_on_its_context_keeps_the_context() -> None:
    message = "My pixels are 0.1 micron wide. Is that enough?"
    assert asked_part(message) == message


def test_an_opening_phrase_asks_without_a_question_mark() -> None:
    f = split_focus("I segment nuclei with a U-Net in our facility. Please explain how to pick the loss function.")
    assert f.asked == "Please explain how to pick the loss function."


def test_question_type_is_read_from_the_asking_sentence() -> None:
    message = "Our lab images organoids every day with low laser power. How do I remove the shot noise from such stacks?"
    assert classify(message).kind != "howto"  # the opening cue is hidden behind the context
    assert classify(asked_part(message)).kind == "howto"
