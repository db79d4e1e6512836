"""The one place an :class:`~scopebot.answer.pipeline.AnswerPipeline` is built (principle 2).

Every consumer (``scopebot ask``, the agent, the web UI, the eval suites, the bench) calls
:func:`build_answer_pipeline`; what it does not pass is built from the settings: the knowledge base
(``KnowledgeBase.open``), the chat model (``make_chat_model``), the entity checker (tool catalog of
the index plus the shipped name inventories). Passing ``model=None`` explicitly is allowed only with
``extractive_only=True`` (an extractive-only pipeline).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scopebot.answer.entities import EntityChecker
    from scopebot.answer.pipeline import AnswerPipeline
    from scopebot.index.embeddings import Embedder
    from scopebot.index.protocols import Retriever
    from scopebot.llm.base import ChatModel
    from scopebot.settings import Settings


def build_answer_pipeline(settings: Settings, *, kb: Retriever | None = None, model: ChatModel | None = None,
                          extractive_only: bool = False, entity_checker: EntityChecker | None = None,
                          embedder: Embedder | None = None, lead: bool = False, **kwargs: Any) -> AnswerPipeline:
    """The production answer pipeline; every argument left out is built from ``settings``.

    ``kb``: any :class:`~scopebot.index.protocols.Retriever` (default: the live knowledge base);
    ``model``: the chat model (default: the configured backend; ``extractive_only=True`` for none);
    ``embedder``: for support and relevance scores (default: the retriever's own). Numbers asked for
    are computed in the process sandbox (started on the first such question; when it refuses, the
    safe evaluator of :mod:`scopebot.answer.compute` does the arithmetic and the answer says so).
    """
    from scopebot.answer.compute import SandboxCalculator
    from scopebot.answer.pipeline import AnswerPipeline

    def sandbox() -> Any:
        from scopebot.sandbox.runner import Sandbox

        return Sandbox.from_settings(settings, workers=0)

    kwargs.setdefault("calculator", SandboxCalculator(sandbox))

    if kb is None:
        from scopebot.knowledge import KnowledgeBase

        kb = KnowledgeBase.open(settings) if embedder is None else KnowledgeBase.open(settings, embedder=embedder)
    if model is None and not extractive_only:
        from scopebot.llm import make_chat_model

        model = make_chat_model(settings)
    return AnswerPipeline(kb, model, settings, entity_checker=entity_checker, embedder=embedder, lead=lead,
                          **kwargs)
