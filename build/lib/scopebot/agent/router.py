"""The turn router: rules plus nearest-neighbour similarity to labelled examples, context-aware.

Each user turn is classified as ``question``, ``code``, ``tool``, ``forum``, ``chitchat`` or
``out_of_scope`` without asking the chat model (the embedded SmolLM2 is far too small to route
reliably, and a deterministic router is testable and cheap):

1. **Rules** (:mod:`scopebot.agent.cues`) give each route a cue score: code verbs ("write a
   script", "in python", "count the cells in this image"), tool cues ("which plugin", "is there a
   tool"), forum cues ("image.sc", "has anyone"), greetings/thanks/"what can you do", and
   non-microscopy patterns. Whether the text mentions imaging vocabulary at all gates the
   in-scope routes.
2. **Similarity**: the turn is embedded and compared with the labelled examples in
   ``routing_examples.yaml``; the ``k`` nearest vote, weighted by cosine similarity.
3. The two are blended; the best route wins, with a confidence from its margin over the runner-up.

**Context**: a short follow-up ("and in 3D?", "now measure their area", "what about for EM?")
inherits the previous route unless it carries a strong cue of its own; when the last turn produced
code (or an image was uploaded), an imperative analysis verb makes it a code request. A forced route
(``/route code``) overrides everything.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from scopebot.agent.cues import (
    STRONG,
    cue_scores,
    domain_hits,
    has_action_verb,
    is_follow_up,
)
from scopebot.agent.models import ROUTES, Route
from scopebot.errors import ConfigurationError
from scopebot.index.embeddings import Embedder

#: The labelled examples shipped with the package.
EXAMPLES_PATH = Path(__file__).resolve().parent / "routing_examples.yaml"


@dataclass(frozen=True)
class Example:
    """One labelled turn used by the nearest-neighbour vote."""

    text: str
    label: str


@dataclass
class RouteContext:
    """What the router knows about the conversation so far."""

    #: (text, route) of earlier turns, oldest first.
    history: list[tuple[str, str]] = field(default_factory=list)
    has_image: bool = False
    has_code_result: bool = False

    @property
    def last_route(self) -> str | None:
        return self.history[-1][1] if self.history else None


def load_examples(path: Path | None = None) -> list[Example]:
    """Read ``{examples: {label: [text, ...]}}`` from YAML (default: the shipped examples)."""
    path = path or EXAMPLES_PATH
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read routing examples {path}: {exc}",
                                 hint="pass a YAML file with examples: {label: [texts]}") from exc
    groups = data.get("examples") if isinstance(data, dict) else None
    if not isinstance(groups, dict) or not groups:
        raise ConfigurationError(f"routing examples {path} have no 'examples' mapping",
                                 hint="write examples: {question: [...], code: [...], ...}")
    out: list[Example] = []
    for label, texts in groups.items():
        if label not in ROUTES:
            raise ConfigurationError(f"routing examples {path}: unknown route {label!r}",
                                     hint=f"use one of: {', '.join(ROUTES)}")
        out.extend(Example(str(t).strip(), label) for t in texts or [] if str(t).strip())
    return out


class Router:
    """Classifies a user turn into a :class:`Route` (see the module docstring)."""

    def __init__(self, embedder: Embedder, examples: Sequence[Example] | None = None, *, k: int = 7,
                 rule_weight: float = 0.55, inherit_confidence: float = 0.8) -> None:
        self.embedder = embedder
        self.examples = list(examples) if examples is not None else load_examples()
        if not self.examples:
            raise ConfigurationError("the router needs labelled examples", hint="pass at least one Example")
        self.k = max(1, k)
        self.rule_weight = rule_weight
        self.inherit_confidence = inherit_confidence
        self._matrix: np.ndarray | None = None
        self._lock = threading.Lock()

    # -- public ------------------------------------------------------------------------------------
    def route(self, text: str, context: RouteContext | None = None, *, force: str | None = None,
              has_image: bool = False) -> Route:
        """The route of ``text`` given the conversation ``context``; ``force`` overrides."""
        ctx = context or RouteContext()
        if force is not None:
            if force not in ROUTES:
                raise ConfigurationError(f"unknown route {force!r}", hint=f"use one of: {', '.join(ROUTES)}")
            return Route(label=force, confidence=1.0, reasons=["forced by the user"], forced=True)  # type: ignore[arg-type]
        image_now = has_image or ctx.has_image
        rules, reasons = cue_scores(text, has_image=image_now, has_code_result=ctx.has_code_result)
        domain = domain_hits(text)
        if ctx.last_route and ctx.last_route != "chitchat" and is_follow_up(text):
            own = max(rules.items(), key=lambda kv: kv[1])
            code_follow = (ctx.has_code_result or image_now) and has_action_verb(text) \
                and ctx.last_route in ("code", "question")
            if code_follow:
                return Route(label="code", confidence=self.inherit_confidence, inherited=ctx.last_route == "code",
                             reasons=["follow-up with an analysis verb after code/image", *reasons])
            if own[1] < STRONG * 0.9 or own[0] == ctx.last_route:
                return Route(label=ctx.last_route, confidence=self.inherit_confidence,  # type: ignore[arg-type]
                             inherited=True, reasons=[f"short follow-up: inherits {ctx.last_route}", *reasons])
            reasons.append(f"follow-up, but its own cue ({own[0]}) wins")
            if ctx.last_route != "out_of_scope":
                domain = max(domain, 1)  # the conversation is already about imaging
        knn, neighbours = self._knn(text)
        scores = self._combine(rules, knn, domain)
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        (best, top), (_, second) = ranked[0], ranked[1]
        confidence = (top / (top + second)) if top + second > 0 else 0.0
        confidence *= min(1.0, 0.5 + top)
        reasons = [*reasons, f"imaging terms: {domain}", "nearest: " + "; ".join(neighbours[:3])]
        return Route(label=best, confidence=round(min(1.0, max(0.0, confidence)), 3),  # type: ignore[arg-type]
                     reasons=reasons, scores={k: round(v, 4) for k, v in scores.items()})

    # -- internals ---------------------------------------------------------------------------------
    def _example_matrix(self) -> np.ndarray:
        with self._lock:
            if self._matrix is None:
                self._matrix = self.embedder.embed([e.text for e in self.examples])
            return self._matrix

    def _knn(self, text: str) -> tuple[dict[str, float], list[str]]:
        """Similarity-weighted vote of the ``k`` nearest examples, normalised to sum to 1."""
        matrix = self._example_matrix()
        sims = matrix @ self.embedder.embed_one(text)
        order = np.argsort(-sims)[: self.k]
        votes = dict.fromkeys(ROUTES, 0.0)
        shown: list[str] = []
        for idx in order:
            ex = self.examples[int(idx)]
            votes[ex.label] += max(0.0, float(sims[idx]))
            shown.append(f"{ex.label} {float(sims[idx]):.2f}")
        total = sum(votes.values())
        if total > 0:
            votes = {k: v / total for k, v in votes.items()}
        return votes, shown

    def _combine(self, rules: dict[str, float], knn: dict[str, float], domain: int) -> dict[str, float]:
        w = self.rule_weight
        scores = {label: w * rules.get(label, 0.0) + (1 - w) * knn.get(label, 0.0) for label in ROUTES}
        if domain == 0:
            # Nothing about imaging: in-scope routes need their own strong cues to win.
            for label in ("question", "code", "tool"):
                scores[label] *= 0.6
        else:
            scores["out_of_scope"] *= 0.5 if domain == 1 else 0.25
        return scores


def context_from_history(history: Sequence[Any]) -> RouteContext:
    """A :class:`RouteContext` from eval-style history items (``{user|text, route|label}``)."""
    pairs: list[tuple[str, str]] = []
    for h in history:
        get = h.get if isinstance(h, dict) else (lambda key, _h=h: getattr(_h, key, None))
        text = get("user") or get("text") or ""
        label = get("route") or get("label") or "question"
        pairs.append((str(text), str(label)))
    return RouteContext(history=pairs, has_code_result=any(lbl == "code" for _, lbl in pairs))
