"""Building the production :class:`Assistant` from settings, with every heavy part built lazily.

Nothing expensive happens here: the index is opened, the sandbox started and the code assistant,
recommender and forum client built only when a turn first needs them. Only the router's embedder
is created up front (the routing examples are embedded on the first turn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scopebot.agent.assistant import Assistant
from scopebot.agent.ports import (
    BasicImageInspector,
    Lazy,
    LazyAnswerer,
    LazyCoder,
    LazyForum,
    LazyRecommender,
)
from scopebot.agent.router import Router

if TYPE_CHECKING:
    from scopebot.llm.base import ChatModel
    from scopebot.settings import Settings


class _LazySearcher:
    """The knowledge base as a :class:`~scopebot.agent.ports.Searcher`, opened on first use."""

    def __init__(self, kb: Lazy[Any]) -> None:
        self._kb = kb

    def search(self, query: str, k: int = 5, kinds: Any = None) -> list[Any]:
        return self._kb.get().search(query, k=k, kinds=kinds)

    def get(self, key: str) -> Any:
        return self._kb.get().get(key)


def build_assistant(settings: Settings, *, model: ChatModel | None = None, tool_loop: bool | None = None,
                    max_steps: int | None = None) -> Assistant:
    """The real assistant: answer pipeline, recommender, code assistant, live forum, MiniLM router."""
    from scopebot.index.embeddings import make_embedder
    from scopebot.llm import make_chat_model

    chat = model if model is not None else make_chat_model(settings)
    embedder = make_embedder(settings)

    def open_kb() -> Any:
        from scopebot.knowledge import KnowledgeBase

        return KnowledgeBase.open(settings, embedder=embedder)

    kb: Lazy[Any] = Lazy(open_kb, "knowledge base")

    def answer_pipeline() -> Any:
        from scopebot.answer.factory import build_answer_pipeline

        return build_answer_pipeline(settings, kb=kb.get(), model=chat)

    def recommender() -> Any:
        from scopebot.tools.factory import build_recommender

        return build_recommender(settings, kb.get())

    def coder() -> Any:
        from scopebot.code.assistant import CodeAssistant
        from scopebot.sandbox.runner import Sandbox

        return CodeAssistant(chat, Sandbox.from_settings(settings), kb.get(),
                             prompts_dir=settings.prompts_dir, max_rounds=settings.code_repair_rounds)

    def forum() -> Any:
        from scopebot.forum.live import LiveForumSearch

        return LiveForumSearch.from_settings(settings)

    return Assistant(LazyAnswerer(answer_pipeline), LazyRecommender(recommender),
                     LazyCoder(coder) if settings.allow_code_execution else None, LazyForum(forum),
                     Router(embedder), chat, settings, searcher=_LazySearcher(kb), inspector=BasicImageInspector(),
                     tool_loop=tool_loop, max_steps=max_steps)
