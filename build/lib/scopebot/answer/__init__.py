"""Grounded answers: retrieve → build the context with citation keys → generate → verify → render.

* :class:`scopebot.answer.pipeline.AnswerPipeline` — the pipeline (``answer()`` and ``stream()``);
* :mod:`scopebot.answer.models` — :class:`Answer`, :class:`CheckReport`, :class:`AnswerEvent`;
* the hallucination checks, each usable alone on (answer text, context passages):
  :mod:`~scopebot.answer.citations_check`, :mod:`~scopebot.answer.support`,
  :mod:`~scopebot.answer.entities`, :mod:`~scopebot.answer.abstain`, :mod:`~scopebot.answer.injection`.

Importing this package is light (no model, no index is loaded).
"""

from scopebot.answer.models import Answer, AnswerEvent, CheckReport, Citation, SentenceCheck, Timings

__all__ = ["Answer", "AnswerEvent", "CheckReport", "Citation", "SentenceCheck", "Timings"]
