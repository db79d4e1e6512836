"""The real embedded model (SmolLM2-135M via llama.cpp): loading, streaming, stop, limits, overflow.

Assertions are about structure (text arrives in pieces, stop and max_tokens are honoured), never about
what the tiny model says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scopebot.llm import ContextOverflowError, Message, make_chat_model
from scopebot.llm.embedded import LlamaCppModel, default_gguf_path
from scopebot.prompts import PromptLibrary
from scopebot.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration

QUESTION = [Message(role="user", content="Explain in two sentences what a confocal microscope does.")]


@pytest.fixture(scope="module")
def model() -> LlamaCppModel:
    built = make_chat_model(Settings(llm_backend="embedded", llm_context=2048, llm_threads=1))
    assert isinstance(built, LlamaCppModel)
    return built


def test_streams_a_reply_in_pieces(model: LlamaCppModel) -> None:
    deltas = list(model.stream(QUESTION, max_tokens=32))
    pieces = [d.text for d in deltas if d.text]
    assert len(pieces) >= 2 and "".join(pieces).strip()
    assert deltas[-1].finish_reason in ("stop", "length") and deltas[-1].tool_calls == []
    assert all(d.finish_reason is None for d in deltas[:-1])
    assert model.loaded


def test_max_tokens_is_honoured(model: LlamaCppModel) -> None:
    deltas = list(model.stream(QUESTION, max_tokens=4))
    assert deltas[-1].finish_reason == "length"
    assert 1 <= len([d for d in deltas if d.text]) <= 4


def test_stop_sequence_cuts_the_reply(model: LlamaCppModel) -> None:
    full = model.complete(QUESTION, max_tokens=24, temperature=0.0).text
    words = full.split()
    assert len(words) >= 4, "the model should say a few words"
    stop = " " + words[3]
    cut = model.complete(QUESTION, max_tokens=24, temperature=0.0, stop=[stop]).text
    assert cut == full[: full.index(stop)]


def test_one_instance_is_shared(model: LlamaCppModel) -> None:
    model.load()
    again = make_chat_model(Settings(llm_backend="embedded", llm_context=2048, llm_threads=1))
    assert isinstance(again, LlamaCppModel) and again is not model and again.loaded


def test_context_overflow_is_clear() -> None:
    small = LlamaCppModel(None, n_ctx=256)
    with pytest.raises(ContextOverflowError) as info:
        small.complete([Message(role="user", content="describe the sample " * 200)], max_tokens=8)
    assert "256" in info.value.message and "SCOPEBOT_LLM_CONTEXT" in info.value.hint


def test_gguf_backend_accepts_a_local_file(tmp_path: Path) -> None:
    chosen = make_chat_model(Settings(home=tmp_path, llm_backend="gguf", llm_gguf_path=default_gguf_path()))
    assert isinstance(chosen, LlamaCppModel) and chosen.name == "gguf:SmolLM2-135M-Instruct"
    assert chosen.complete(QUESTION, max_tokens=8).text.strip()


def test_grounded_prompt_runs_end_to_end(model: LlamaCppModel) -> None:
    messages = PromptLibrary(PROJECT_ROOT / "prompts").messages(
        "answer_system", passages="[bk-0123abcd] A pinhole rejects out-of-focus light.",
        question="What does the pinhole do?")
    reply = model.complete(messages, max_tokens=40)
    assert reply.text.strip() and reply.finish_reason in ("stop", "length")
