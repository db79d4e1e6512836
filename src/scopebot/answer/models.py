"""Typed results of the answer pipeline: the answer, its references, its check report, its events.

:meth:`Answer.to_json` is the ``scopebot ask --json`` contract: ``answer``, ``abstained``,
``citations`` (key, title, section, url), ``checks`` (invalid_citations, supported_fraction,
unsupported_sentences, unknown_entities), ``backend`` and ``timings`` (retrieve_ms, generate_ms,
verify_ms); the extra keys (mode, query, sentences, ...) are allowed by the contract.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Mode = Literal["extractive", "generative"]
SentenceSource = Literal["extractive", "model", "computed"]


class Citation(BaseModel):
    """One numbered reference of an answer."""

    n: int = Field(description="Number shown in the answer text, e.g. 1 for '[1]'.")
    key: str = Field(description="Citation key of the chunk, e.g. 'bk-3f9a2c1d'.")
    title: str = ""
    section: str = ""
    breadcrumb: str = ""
    url: str = ""
    source_id: str = ""
    snippet: str = Field(default="", description="The start of the passage, for a tooltip.")
    part: int = Field(default=0, description="When several cited passages come from the same section: which "
                                             "of them this is (1, 2, ...), so the references tell them apart; "
                                             "0 otherwise.")

    @property
    def where(self) -> str:
        """Title, section and, for a second passage of the same section, which passage it is."""
        return where_text(self.title, self.section, self.part)

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "key": self.key, "title": self.title, "section": self.section,
                "breadcrumb": self.breadcrumb, "url": self.url, "source": self.source_id, "part": self.part}


def where_text(title: str, section: str = "", part: int = 0) -> str:
    """"Title — Section", plus "(passage k)" when one answer cites several passages of that section."""
    return (title + (f" — {section}" if section and section != title else "")
            + (f" (passage {part})" if part else ""))


class SentenceCheck(BaseModel):
    """The verdict on one answer sentence."""

    text: str = Field(description="The sentence without citation markers.")
    keys: list[str] = Field(default_factory=list, description="Valid citation keys attached to it.")
    support: float = Field(description="Support score in [0, 1] against the cited passages and the context.")
    supported: bool
    source: SentenceSource = "model"
    best_key: str | None = Field(default=None, description="The context passage that supports it best.")
    removed: bool = Field(default=False, description="Dropped from the answer (strict mode, injection).")
    conflicts: list[str] = Field(default_factory=list,
                                 description="Where the sentence contradicts its best passage: polarity, entity, number.")


class CheckReport(BaseModel):
    """The structured hallucination-check report shown with every answer."""

    invalid_citations: int = Field(default=0, description="Citation markers whose key was not in the context.")
    invalid_keys: list[str] = Field(default_factory=list)
    supported_fraction: float = Field(default=1.0, description="Share of checked sentences that are supported.")
    unsupported_sentences: list[str] = Field(default_factory=list)
    removed_sentences: list[str] = Field(default_factory=list,
                                         description="Sentences removed (strict mode or followed injections).")
    unknown_entities: list[str] = Field(default_factory=list,
                                        description="Tool/plugin/model/function names found nowhere: possibly invented.")
    known_entities: list[str] = Field(default_factory=list)
    injection_flags: list[str] = Field(default_factory=list,
                                       description="Keys of passages that contained instructions (not followed).")
    followed_injection: bool = Field(default=False,
                                     description="The model's text echoed an instruction found in a passage.")
    evidence: float | None = Field(default=None, description="Evidence strength used by the abstention check.")
    strict: bool = False

    @property
    def ok(self) -> bool:
        return (self.invalid_citations == 0 and not self.unsupported_sentences and not self.unknown_entities
                and not self.followed_injection)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump()

    def badge(self) -> str:
        """One line for humans: ``checks: 0 invalid citations · 100% supported · 0 unknown names``."""
        parts = [f"{self.invalid_citations} invalid citation{'s' if self.invalid_citations != 1 else ''} removed",
                 f"{round(self.supported_fraction * 100)}% of sentences supported",
                 f"{len(self.unknown_entities)} unknown name{'s' if len(self.unknown_entities) != 1 else ''}"]
        if self.unknown_entities:
            parts[-1] += f" ({', '.join(self.unknown_entities[:5])})"
        if self.injection_flags:
            parts.append(f"{len(self.injection_flags)} passage(s) contained instructions (ignored)")
        if self.removed_sentences:
            parts.append(f"{len(self.removed_sentences)} sentence(s) removed")
        return "checks: " + " · ".join(parts)


class Timings(BaseModel):
    retrieve_ms: float = 0.0
    generate_ms: float = 0.0
    verify_ms: float = 0.0
    total_ms: float = 0.0
    first_token_ms: float | None = Field(default=None, description="Time to the first streamed text.")


class Answer(BaseModel):
    """A grounded answer: text with numbered citations, references and the check report."""

    question: str
    answer: str = Field(description="Markdown answer; citations rendered as [1], [2] ...")
    answer_keys: str = Field(default="", description="The same answer with raw citation keys [bk-...].")
    abstained: bool = False
    abstain_reason: str = ""
    closest_sources: list[Citation] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    sentences: list[SentenceCheck] = Field(default_factory=list)
    checks: CheckReport = Field(default_factory=CheckReport)
    backend: str = ""
    mode: Mode = "extractive"
    query: str = Field(default="", description="The retrieval query (rewritten for follow-ups).")
    context_keys: list[str] = Field(default_factory=list, description="Keys of the passages given as context.")
    timings: Timings = Field(default_factory=Timings)

    def to_json(self) -> dict[str, Any]:
        """The ``scopebot ask --json`` object (contract keys first, extras after)."""
        return {
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "checks": self.checks.to_json(),
            "backend": self.backend,
            "timings": self.timings.model_dump(),
            "question": self.question,
            "query": self.query,
            "mode": self.mode,
            "abstain_reason": self.abstain_reason,
            "closest_sources": [c.to_json() for c in self.closest_sources],
            "answer_keys": self.answer_keys,
            "sentences": [s.model_dump() for s in self.sentences],
        }


class AnswerEvent(BaseModel):
    """One event of :meth:`AnswerPipeline.stream`: a status change, a piece of text or the final answer."""

    type: Literal["status", "delta", "final"]
    status: Literal["retrieving", "generating", "verifying"] | None = None
    text: str = ""
    answer: Answer | None = None
