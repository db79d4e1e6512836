"""Building a :class:`Recommender` for the real knowledge base (CLI, chat agent, UI and evals)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from scopebot.tools.catalog import ToolCatalog
from scopebot.tools.modelzoo import ModelZooCatalog
from scopebot.tools.recommend import Recommender

if TYPE_CHECKING:
    from scopebot.index.protocols import Retriever
    from scopebot.settings import Settings


def build_recommender(settings: Settings, retriever: Retriever | None = None, *,
                      validate_model_zoo: bool = True,
                      name_check: Callable[[str], list[str]] | None = None) -> Recommender:
    """A recommender over ``retriever`` (default: the live index of ``settings.home``).

    ``name_check``: the answer route's check for names no source, registry or installed package knows
    (:meth:`scopebot.answer.pipeline.AnswerPipeline.unknown_names`); a request naming one gets no cards.
    Front ends that call the recommender directly (``scopebot recommend``, MCP, Jupyter) pass it; the chat
    agent checks names itself before it calls the recommender.

    The Model Zoo catalog file under ``settings.sources_dir`` is used, when present, for offline
    ``bioimageio.spec`` validation, model inputs and run options; with a knowledge base the validation
    results are kept beside its build (:meth:`KnowledgeBase.derived`).
    """
    if retriever is None:
        from scopebot.knowledge import KnowledgeBase

        retriever = KnowledgeBase.open(settings)
    zoo = ModelZooCatalog.from_sources_dir(settings.sources_dir, validate=validate_model_zoo)
    derived = getattr(retriever, "derived", None)
    if zoo is not None and validate_model_zoo and callable(derived):
        # validated once per index build and catalog file, not at every start (about a second)
        zoo.use_checked(derived("modelzoo-checks", zoo.checked_table, version=zoo.checks_version()))
    catalog = ToolCatalog.from_retriever(retriever, model_zoo=zoo)
    return Recommender(retriever, catalog, candidates=max(60, settings.candidates), name_check=name_check)
