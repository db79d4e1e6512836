"""The grounded answer pipeline: retrieve → build context → generate → verify → render.

* **retrieve**: the query is the question, rewritten with the conversation for follow-ups
  (:mod:`scopebot.answer.rewrite`); extra results (e.g. live forum hits) are merged in.
* **context**: passages cleaned and sanitised, keyed by citation key (:mod:`scopebot.answer.context`).
* **abstain?**: too little evidence, or a named thing that exists nowhere → the answer is the fixed
  "not in my sources" phrase with the closest sources (:mod:`scopebot.answer.abstain`).
* **generate**: ``extractive`` quotes the best sentences with their keys (default for small models),
  ``generative`` lets the model write with the ``answer_system`` prompt (strong endpoints).
* **verify**: citation validity, sentence support, invented entities, followed injections; strict
  mode removes unsupported sentences. The same checks run in both modes.
* **render**: keys become numbered references with title, section and deep link.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from scopebot.answer.abstain import Evidence, EvidenceDecision, assess_evidence, corpus_vocabulary
from scopebot.answer.abstain_model import AbstainModel
from scopebot.answer.assemble import assemble_answer, is_code
from scopebot.answer.citations_check import check_citations
from scopebot.answer.compute import Calculator, Computation, SafeCalculator, formula_results, verify
from scopebot.answer.context import ContextPassage, build_context, format_passages, merge_results
from scopebot.answer.entities import EntityChecker
from scopebot.answer.evidence import select_evidence
from scopebot.answer.extractive import ExtractiveSynthesizer
from scopebot.answer.focus import split_focus
from scopebot.answer.injection import followed_instructions
from scopebot.answer.models import Answer, AnswerEvent, CheckReport, Mode, SentenceCheck, Timings
from scopebot.answer.qtype import QuestionType, classify, shape_hint
from scopebot.answer.render import abstained_text, number_citations
from scopebot.answer.rewrite import rewrite_query
from scopebot.answer.scorer import SentenceScorer
from scopebot.answer.support import SupportScorer, check_sentence, supported_fraction
from scopebot.answer.text import split_sentences, strip_citations
from scopebot.citations import NOT_IN_SOURCES
from scopebot.errors import ConfigurationError, ModelError
from scopebot.index.embeddings import Embedder
from scopebot.index.models import SearchResult
from scopebot.index.protocols import Retriever
from scopebot.llm.base import ChatModel, Message
from scopebot.llm.errors import ModelUnavailableError
from scopebot.settings import Settings

_log = logging.getLogger(__name__)


@dataclass
class Retrieved:
    """What :meth:`AnswerPipeline.retrieve` found for a question."""

    query: str
    qtype: QuestionType
    passages: list[ContextPassage]
    computation: Computation | None
    decision: EvidenceDecision

MODES = ("auto", "extractive", "generative")
LEAD_PASSAGES = 3


class AnswerPipeline:
    """Answers questions from the retriever's passages, with the hallucination checks applied.

    ``model`` may be None (extractive answers only). ``embedder`` defaults to the retriever's
    (``KnowledgeBase.embedder``) and sharpens support and relevance scores; ``lead`` lets the model
    write a one-sentence lead in extractive mode, kept only when it passes the checks.
    """

    def __init__(self, retriever: Retriever, model: ChatModel | None, settings: Settings, *,
                 entity_checker: EntityChecker | None = None, embedder: Embedder | None = None,
                 prompts: Any = None, lead: bool = False, calculator: Calculator | None = None,
                 abstain_model: AbstainModel | None = None, clock: Callable[[], float] = time.perf_counter) -> None:
        self.retriever = retriever
        self.model = model
        self.settings = settings
        self.embedder = embedder if embedder is not None else getattr(retriever, "embedder", None)
        self._entity_checker = entity_checker
        self._vocabulary: dict[str, int] | None = None
        self.lead = lead
        self.clock = clock
        self.calculator = calculator or SafeCalculator()
        self.abstain_model = abstain_model if abstain_model is not None else self._learned_abstention()
        if prompts is None:
            from scopebot.prompts import PromptLibrary

            prompts = PromptLibrary(settings.prompts_dir)
        self.prompts = prompts
        self.scorer = SupportScorer(self.embedder, settings.support_threshold)
        self.synthesizer = ExtractiveSynthesizer(self.embedder, max_sentences=settings.answer_max_sentences,
                                                 max_passages=settings.answer_max_passages,
                                                 per_side=settings.answer_sentences_per_side,
                                                 context_weight=settings.answer_context_weight,
                                                 asked_passages=settings.answer_asked_passages,
                                                 scorer=self._sentence_scorer())

    def _sentence_scorer(self) -> SentenceScorer | None:
        """The learned sentence scorer, when asked for and fitted with this embedder's similarities."""
        if self.settings.answer_sentence_scorer != "learned":
            return None
        scorer = SentenceScorer.load()
        if scorer.fits(self.embedder):
            return scorer
        _log.info("the learned sentence scorer was fitted with %s, not %s: fixed sentence scores are used",
                  scorer.embedder, getattr(self.embedder, "name", None))
        return None

    def _learned_abstention(self) -> AbstainModel | None:
        """The learned abstention decision, when asked for and fitted with this embedder's similarities."""
        if self.settings.answer_abstention != "learned":
            return None
        try:
            model = AbstainModel.load(version=self.settings.answer_abstention_model)
        except FileNotFoundError:
            _log.info("no fitted abstention model: the evidence threshold decides")
            return None
        if model.fits(self.embedder):
            return model
        _log.info("the abstention model was fitted with %s, not %s: the evidence threshold decides",
                  model.embedder, getattr(self.embedder, "name", None))
        return None

    @property
    def vocabulary(self) -> dict[str, int] | None:
        """Document frequencies of the corpus stems (built once), so abstention can tell rare words from common ones."""
        if self._vocabulary is None:
            iter_chunks = getattr(self.retriever, "iter_chunks", None)
            if iter_chunks is None:
                return None
            derived = getattr(self.retriever, "derived", None)
            if derived is None:
                self._vocabulary = corpus_vocabulary(c.text for c in iter_chunks())
            else:  # computed once per index build and kept beside it (a CLI start then costs ~0)
                from scopebot.answer import abstain, text
                from scopebot.index.derived import code_version
                self._vocabulary = derived("corpus-vocabulary",
                                           lambda: corpus_vocabulary(c.text for c in iter_chunks()),
                                           code_version(abstain, text))
        return self._vocabulary

    @property
    def entity_checker(self) -> EntityChecker:
        """The checker (built from the retriever's tool catalog on first use)."""
        if self._entity_checker is None:
            try:
                self._entity_checker = EntityChecker.from_retriever(self.retriever)
            except Exception:  # noqa: BLE001 - a retriever without registry chunks still gets checks
                self._entity_checker = EntityChecker()
        return self._entity_checker

    @property
    def backend(self) -> str:
        return self.model.name if self.model is not None else "extractive-only"

    def resolve_mode(self, mode: str | None) -> Mode:
        mode = mode or self.settings.answer_mode
        if mode not in MODES:
            raise ConfigurationError(f"Unknown answer mode {mode!r}", hint="use extractive, generative or auto")
        if mode == "auto":
            return "extractive" if self.model is None or self.model.is_small else "generative"
        if mode == "generative" and self.model is None:
            raise ConfigurationError("Generative mode needs a chat model", hint="use --mode extractive")
        return mode  # type: ignore[return-value]

    # ------------------------------------------------------------------ public API
    def answer(self, question: str, history: Sequence[Message] | None = None, mode: str | None = None,
               strict: bool | None = None, extra_results: Sequence[SearchResult] | None = None,
               k: int | None = None) -> Answer:
        """Answer ``question`` (blocking); see :meth:`stream` for the arguments."""
        final: Answer | None = None
        for event in self.stream(question, history, mode, strict, extra_results, k):
            if event.type == "final":
                final = event.answer
        assert final is not None
        return final

    def stream(self, question: str, history: Sequence[Message] | None = None, mode: str | None = None,
               strict: bool | None = None, extra_results: Sequence[SearchResult] | None = None,
               k: int | None = None) -> Iterator[AnswerEvent]:
        """Yield ``status`` events, ``delta`` text and finally the verified :class:`Answer`."""
        question = (question or "").strip()
        if not question:
            raise ConfigurationError("The question is empty",
                                     hint='ask something, e.g. scopebot ask "How does Otsu thresholding work?"')
        resolved = self.resolve_mode(mode)
        strict = self.settings.strict if strict is None else strict
        t0 = self.clock()
        yield AnswerEvent(type="status", status="retrieving")
        found = self.retrieve(question, history, extra_results, k)
        query, qtype, passages, computation, decision = (found.query, found.qtype, found.passages,
                                                         found.computation, found.decision)
        by_key = {p.key: p for p in passages}
        timings = Timings(retrieve_ms=_ms(self.clock() - t0))
        base = Answer(question=question, answer="", backend=self.backend, mode=resolved, query=query,
                      context_keys=list(by_key), timings=timings)
        base.checks = CheckReport(strict=strict, evidence=decision.score,
                                  injection_flags=[p.key for p in passages if p.instructions])
        if decision.abstain:
            yield from self._finish_abstained(base, passages, decision.reason, t0)
            return
        yield AnswerEvent(type="status", status="generating")
        t1 = self.clock()
        if resolved == "extractive":
            raw, lead = self._extract(query, passages, qtype), None
            if self.lead and self.model is not None and raw:
                lead = self._generate_lead(question, passages)
            sources: dict[str, str] = {"extractive": raw, "model": lead or ""}
            sources["computed"] = computation.text if computation is not None else ""
        else:
            parts: list[str] = []
            try:
                for delta in self.model.stream(  # type: ignore[union-attr]
                        self.prompts.messages("answer_system", passages=format_passages(passages),
                                              question=f"{question}\n{shape_hint(qtype)}".strip()),
                        max_tokens=self.settings.llm_max_tokens, temperature=self.settings.llm_temperature):
                    if delta.text:
                        if base.timings.first_token_ms is None:
                            base.timings.first_token_ms = _ms(self.clock() - t0)
                        parts.append(delta.text)
                        yield AnswerEvent(type="delta", text=delta.text)
                sources = {"extractive": "", "model": "".join(parts)}
            except ModelUnavailableError as exc:  # the local model cannot run here: answer extractively
                if parts:
                    raise
                _log.warning("%s; answering extractively.\n  How to fix: %s", exc.message, exc.hint)
                resolved = base.mode = "extractive"
                sources = {"extractive": self._extract(query, passages, qtype), "model": ""}
        sources["computed"] = computation.text if computation is not None else ""
        base.timings.generate_ms = _ms(self.clock() - t1)
        yield AnswerEvent(type="status", status="verifying")
        t2 = self.clock()
        model_text = sources["model"].strip()
        if resolved == "generative" and (not model_text or model_text.startswith(NOT_IN_SOURCES)):
            reason = "the model found no answer in the retrieved passages" if model_text else "the model returned nothing"
            yield from self._finish_abstained(base, passages, reason, t0)
            return
        answer = self._verify(base, passages, sources, strict, computation)
        if answer is None and resolved == "generative":
            # the evidence was judged sufficient but none of the model's sentences is backed by it: answer
            # with the passages' own sentences instead of nothing; the model's text is reported as removed
            rejected = [v.text for v in base.sentences if v.source == "model"]
            named = list(base.checks.unknown_entities)  # names the model invented stay reported
            answer = self._verify(base, passages, {"extractive": self._extract(query, passages, qtype), "model": "",
                                                   "computed": sources.get("computed", "")}, strict, computation)
            if answer is not None:
                answer.checks.removed_sentences = rejected + answer.checks.removed_sentences
                answer.checks.unknown_entities = list(dict.fromkeys(named + answer.checks.unknown_entities))
        base.timings.verify_ms = _ms(self.clock() - t2)
        if answer is None:
            yield from self._finish_abstained(base, passages, "none of the answer's sentences is supported by the sources", t0)
            return
        answer.timings.total_ms = _ms(self.clock() - t0)
        if answer.timings.first_token_ms is None:
            answer.timings.first_token_ms = answer.timings.total_ms
            yield AnswerEvent(type="delta", text=answer.answer)
        yield AnswerEvent(type="final", answer=answer)

    def retrieve(self, question: str, history: Sequence[Message] | None = None,
                 extra_results: Sequence[SearchResult] | None = None, k: int | None = None) -> Retrieved:
        """The query, question type, context passages, computed number and the decision whether to answer."""
        query = rewrite_query(question, history, self.model, self.prompts)
        focus = split_focus(question)  # "We image X. How do I ...?": the type is the asking sentence's
        qtype = classify(focus.asked)
        top = self.retriever.search(query, k=k or self.settings.top_k)
        asked = focus.asked if focus.has_context and query == question else ""  # its passages follow the message's
        results = merge_results(select_evidence(self.retriever, query, qtype, k or self.settings.top_k, top,
                                                asked=asked, asked_passages=self.settings.answer_asked_passages),
                                extra_results)
        results, computation = formula_results(self.retriever, question, results, self.calculator)
        passages = build_context(results)
        # whether to answer is judged on the plain retrieval (as tuned); the answer uses the selected passages
        judged = build_context(merge_results(top, extra_results))
        decision = assess_evidence(
            query, [Evidence(p.key, f"{p.result.chunk.title}\n{p.result.chunk.section}\n{p.text}", p.result.dense_score)
                    for p in judged],
            threshold=self.settings.abstain_threshold, entity_checker=self.entity_checker, embedder=self.embedder,
            focus=question, vocabulary=self.vocabulary, model=self.abstain_model,
            asked=focus.asked if focus.has_context else None)  # a follow-up is judged on its rewritten query
        if decision.abstain and computation is not None and not decision.missing_entities:
            decision.abstain = False  # the number comes from formulas stated in the cited passages
        return Retrieved(query, qtype, passages, computation, decision)

    def unknown_names(self, text: str) -> list[str]:
        """The names in ``text`` (tools, plugins, models, functions) that no source, registry or installed
        package knows: those for which :meth:`answer` abstains ("the question names 'X', which none of the
        sources ... mention"). The other routes (tools, code) check requests with it."""
        return list(self.retrieve(text).decision.missing_entities or [])

    # ------------------------------------------------------------------ generation
    def _extract(self, query: str, passages: Sequence[ContextPassage], qtype: QuestionType | None = None) -> str:
        asked = split_focus(query).asked  # sentences chosen for what is asked, the scene weighs less
        return self.synthesizer.render(self.synthesizer.select(query, passages, qtype, asked=asked), qtype)

    def _generate_lead(self, question: str, passages: Sequence[ContextPassage]) -> str:
        messages = self.prompts.messages("answer_system", passages=format_passages(passages[:LEAD_PASSAGES], 600),
                                         question=question)
        try:
            reply = self.model.complete(messages, max_tokens=60, stop=["\n"]).text.strip()  # type: ignore[union-attr]
        except ModelError as exc:  # the lead is optional: a failed model leaves the extractive answer
            _log.warning("no lead sentence: %s", exc.message)
            return ""
        first = split_sentences(reply)[:1]
        return first[0] if first else ""

    # ------------------------------------------------------------------ verification
    def _verify(self, base: Answer, passages: Sequence[ContextPassage], sources: dict[str, str],
                strict: bool, computation: Computation | None = None) -> Answer | None:
        by_key = {p.key: p for p in passages}
        context = {p.key: f"{p.result.chunk.section}\n{p.text}" for p in passages}
        context_texts = [f"{p.result.chunk.title} {p.result.chunk.section} {p.text}" for p in passages]
        instructions = [i for p in passages for i in p.instructions]
        checks = base.checks
        pieces: list[tuple[str, SentenceCheck]] = []  # (raw sentence with keys, verdict)
        if computation is not None and sources.get("computed", "").strip():
            cited = check_citations(sources["computed"], by_key)  # formula passages only, re-checked
            checks.invalid_keys += cited.invalid_keys
            right = verify(computation) and not cited.invalid_keys
            for raw in split_sentences(cited.text):
                keys = [k for k in computation.keys if k in raw]
                pieces.append((raw, SentenceCheck(text=strip_citations(raw), keys=keys, support=float(right),
                                                  supported=right, source="computed",
                                                  best_key=keys[0] if keys else None)))
        for source in ("model", "extractive"):
            text = sources[source]
            if not text.strip():
                continue
            cited = check_citations(text, by_key)
            checks.invalid_keys += cited.invalid_keys
            seen: set[str] = set()
            for raw in split_sentences(cited.text):
                verdict = check_sentence(raw, context, self.scorer, source=source)  # type: ignore[arg-type]
                if verdict is not None and verdict.text.lower() not in seen:  # tiny models repeat themselves
                    seen.add(verdict.text.lower())
                    pieces.append((raw, verdict))
        followed = set(followed_instructions([v.text for _, v in pieces if v.source == "model"], instructions))
        entity_report = self.entity_checker.check("\n".join(v.text for _, v in pieces), context_texts)
        unknown = set(entity_report.unknown)
        kept: list[tuple[str, SentenceCheck]] = []
        cited_as: dict[str, str] = {}  # a kept sentence without a key, as shown: with its supporting passage's key
        for raw, verdict in pieces:
            has_unknown = any(name in verdict.text for name in unknown)
            if verdict.text in followed:
                checks.followed_injection = True
                verdict.removed = True
            elif verdict.source == "model" and self.lead and sources["extractive"] and (
                    not verdict.supported or has_unknown):
                verdict.removed = True  # an extractive lead is kept only when it passes every check
            elif strict and (not verdict.supported or has_unknown):
                verdict.removed = True
            if verdict.removed:
                checks.removed_sentences.append(verdict.text)
            else:
                if not verdict.keys and verdict.supported and verdict.best_key and not is_code(raw):
                    cited_as[raw] = f"{raw.rstrip()} [{verdict.best_key}]"  # cite the passage that supports it
                    verdict.keys = [verdict.best_key]
                kept.append((raw, verdict))
        verdicts = [v for _, v in pieces]
        checks.invalid_citations = len(checks.invalid_keys)
        checks.unsupported_sentences = [v.text for v in verdicts if not v.supported and not v.removed]
        checks.known_entities = entity_report.known
        checks.unknown_entities = [n for n in entity_report.unknown
                                   if any(n in v.text for _, v in kept) or not strict]
        checks.supported_fraction = supported_fraction([v for _, v in kept], self.scorer)
        if not any(v.supported and not self.scorer.is_trivial(v.text) for _, v in kept):
            base.sentences = verdicts
            return None
        text_keys = assemble_answer(sources, kept, cited_as)
        numbered, citations = number_citations(text_keys, by_key)
        return base.model_copy(update={"answer": numbered, "answer_keys": text_keys, "citations": citations,
                                       "sentences": verdicts, "checks": checks})

    def _finish_abstained(self, base: Answer, passages: Sequence[ContextPassage], reason: str,
                          t0: float) -> Iterator[AnswerEvent]:
        closest = [p.citation(i) for i, p in enumerate(passages[:3], start=1)]
        text = abstained_text(reason, closest)
        answer = base.model_copy(update={"answer": text, "answer_keys": text, "abstained": True,
                                         "abstain_reason": reason, "closest_sources": closest, "citations": []})
        answer.timings.total_ms = _ms(self.clock() - t0)
        if answer.timings.first_token_ms is None:
            answer.timings.first_token_ms = answer.timings.total_ms
        yield AnswerEvent(type="delta", text=text)
        yield AnswerEvent(type="final", answer=answer)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


__all__ = ["AnswerPipeline", "EvidenceDecision"]
