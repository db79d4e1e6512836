"""The turn router: a learned classifier over sentence embeddings and cue features, context-aware.

Each user turn is classified as ``question``, ``code``, ``tool``, ``forum``, ``chitchat`` or
``out_of_scope`` without asking the chat model (the embedded SmolLM2 is far too small to route
reliably, and a deterministic router is testable and cheap):

1. **Features** (:mod:`scopebot.agent.route_features`): the MiniLM embedding of the turn plus the
   cue scores of :mod:`scopebot.agent.cues` (code verbs, tool/forum/greeting phrasings, imaging
   vocabulary, "asks for a quantity"), whether an image is attached, and the previous route crossed
   with "looks like a short follow-up". Cues are inputs, not verdicts.
2. **Classifier** (:mod:`scopebot.agent.classifier`): logistic regression or a small MLP trained on
   the templated set of ``data/routing_templates.yaml`` and calibrated with a temperature
   (``python -m scopebot.agent.train_router`` rebuilds ``data/routing_model.npz``). When the
   embedder is not the one the shipped model was trained for (the hash embedder of the unit tests),
   the same training runs in-process on first use.
3. **Decision** (:func:`decide`): the most probable route, except when unsure: question and tool
   close → both (an answer and tool cards); an image attached and a quantity asked for → code;
   probably out of scope but naming a method → answer, with the answer pipeline's abstention check
   instead of a refusal.

A forced route (``/route code``, the UI's mode buttons) overrides everything.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from scopebot.agent.cues import ANAPHORA, asks_quantity, cue_scores, domain_hits, is_follow_up, names_method
from scopebot.agent.models import ROUTES, Route
from scopebot.errors import ConfigurationError
from scopebot.index.embeddings import Embedder

if TYPE_CHECKING:
    from scopebot.agent.classifier import RouteClassifier

#: The labelled examples shipped with the package (part of the training data).
EXAMPLES_PATH = Path(__file__).resolve().parent / "routing_examples.yaml"
#: Unsure rules (see :func:`decide`); probabilities are the calibrated ones.
BOTH_MIN = 0.25            # runner-up probability at which question and tool are both served
IMAGE_QUANTITY_CODE_MIN = 0.10   # p(code) needed to send an image + quantity turn to code
OUT_OF_SCOPE_SURE = 0.80   # below this, an out-of-scope verdict on a turn naming a method is answered
_FITTED: dict[tuple[Any, ...], Any] = {}
_FIT_LOCK = threading.Lock()


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


def leans_on_context(asked: str) -> bool:
    """Whether the asked part of a message needs its context sentences to be understood: it points at them
    ("how do I separate *them*?") or names nothing of imaging at all."""
    return bool(ANAPHORA.search(asked)) or domain_hits(asked) == 0


def decide(probs: dict[str, float], text: str, *, has_image: bool = False) -> tuple[str, list[str], list[str]]:
    """The route, the runner-up routes served as well, and why, from calibrated probabilities."""
    ranked = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)
    (top, p_top), (second, p_second) = ranked[0], ranked[1]
    if has_image and top in ("question", "tool") and probs.get("code", 0.0) >= IMAGE_QUANTITY_CODE_MIN \
            and asks_quantity(text):
        return "code", [top], [f"image attached and a quantity asked for: code (p={probs['code']:.2f}), not {top}"]
    if top == "out_of_scope" and p_top < OUT_OF_SCOPE_SURE and names_method(text):
        return "question", ["out_of_scope"], [f"maybe out of scope (p={p_top:.2f}) but names a method: "
                                               "answer with the abstention check instead of refusing"]
    if {top, second} == {"question", "tool"} and p_second >= BOTH_MIN:
        return top, [second], [f"question and tool are close ({p_top:.2f} / {p_second:.2f}): "
                               "answer and show tool cards"]
    return top, [], []


class Router:
    """Classifies a user turn into a :class:`Route` (see the module docstring).

    ``examples`` are extra labelled turns; passing them (or an embedder the shipped model was not
    trained for) trains the classifier in-process on the templated set plus these examples.
    """

    def __init__(self, embedder: Embedder, examples: Sequence[Example] | None = None, *,
                 classifier: RouteClassifier | None = None, model_path: Path | None = None) -> None:
        self.embedder = embedder
        self.examples = list(examples) if examples is not None else []
        if examples is not None and not self.examples:
            raise ConfigurationError("the router needs labelled examples", hint="pass at least one Example or None")
        self.model_path = model_path
        self._classifier = classifier
        self._lock = threading.Lock()

    @property
    def classifier(self) -> RouteClassifier:
        """The classifier, loaded (or trained for this embedder) on first use."""
        with self._lock:
            if self._classifier is None:
                self._classifier = _classifier_for(self.embedder, tuple(self.examples), self.model_path)
            return self._classifier

    # -- public ------------------------------------------------------------------------------------
    def route(self, text: str, context: RouteContext | None = None, *, force: str | None = None,
              has_image: bool = False) -> Route:
        """The route of ``text`` given the conversation ``context``; ``force`` overrides."""
        ctx = context or RouteContext()
        if force is not None:
            if force not in ROUTES:
                raise ConfigurationError(f"unknown route {force!r}", hint=f"use one of: {', '.join(ROUTES)}")
            return Route(label=force, confidence=1.0, reasons=["forced by the user"], forced=True)  # type: ignore[arg-type]
        from scopebot.agent.route_features import cue_features
        from scopebot.answer.focus import split_focus

        full = text
        text = split_focus(text).asked  # "We image X. Which threshold ...?": the route is what the message asks
        if text != full and leans_on_context(text):
            text = full  # "My nuclei touch. How do I separate them?": the asked part alone has lost its topic
        image_now = has_image or ctx.has_image
        last = ctx.last_route
        cues = cue_features(text, has_image=image_now, last_route=last, has_code_result=ctx.has_code_result)
        x = np.hstack([np.asarray(self.embedder.embed_one(text), np.float32), cues])[None, :]
        model = self.classifier
        p = model.predict_proba(x)[0]
        probs = {label: float(p[model.labels.index(label)]) for label in ROUTES}
        label, also, why = decide(probs, text, has_image=image_now)
        _, fired = cue_scores(text, has_image=image_now, has_code_result=ctx.has_code_result)
        top = ", ".join(f"{k} {v:.2f}" for k, v in sorted(probs.items(), key=lambda kv: -kv[1])[:3])
        reasons = [f"classifier ({model.meta.get('version', 'in-process')}): {top}", *why, *fired[:4]]
        if text != full:
            reasons.append(f"routed on what is asked: {text[:80]!r}")
        inherited = last is not None and last == label and is_follow_up(text)
        if inherited:
            reasons.append(f"short follow-up: keeps {last}")
        if image_now:
            reasons.append("image attached")
        return Route(label=label, confidence=round(probs[label], 3), reasons=reasons,  # type: ignore[arg-type]
                     scores={k: round(v, 4) for k, v in probs.items()}, inherited=inherited,
                     also=also)  # type: ignore[arg-type]


def _compatible(meta: dict[str, Any], embedder: Embedder) -> bool:
    """Whether a model trained with ``meta['embedder']`` can read this embedder's vectors."""
    from scopebot.agent.route_features import FEATURE_VERSION

    if int(meta.get("feature_version", -1)) != FEATURE_VERSION or int(meta.get("dim", -1)) != int(embedder.dim):
        return False
    want, have = str(meta.get("embedder", "")).lower(), str(embedder.name).lower()
    return want == have or ("minilm-l6" in want and "minilm-l6" in have)


def _classifier_for(embedder: Embedder, examples: tuple[Example, ...], model_path: Path | None) -> RouteClassifier:
    """The shipped model when it fits the embedder, else one trained here (cached per process)."""
    from scopebot.agent.classifier import RouteClassifier

    if not examples:
        from scopebot.agent.train_router import MODEL_PATH

        path = model_path or MODEL_PATH
        if path.is_file():
            model = RouteClassifier.load(path)
            if _compatible(model.meta, embedder):
                return model
        elif model_path is not None:
            raise ConfigurationError(f"router model not found: {path}",
                                     hint="rebuild it with `python -m scopebot.agent.train_router`")
    key = (embedder.name, embedder.dim, examples)
    with _FIT_LOCK:
        if key not in _FITTED:
            _FITTED[key] = _fit_here(embedder, examples)
        return _FITTED[key]


def _fit_here(embedder: Embedder, examples: tuple[Example, ...]) -> RouteClassifier:
    from scopebot.agent.classifier import RouteClassifier
    from scopebot.agent.route_data import Turn
    from scopebot.agent.train_router import CANDIDATES, build_turns, features_for

    turns = build_turns()
    turns += [Turn(text=e.text, label=e.label, family="extra", template=f"extra#{i}") for i, e in enumerate(examples)]
    train = [t for t in turns if t.split != "calib"]
    calib = [t for t in turns if t.split == "calib"]
    cand = CANDIDATES[0]
    model = RouteClassifier.fit(features_for(embedder, train), np.array([ROUTES.index(t.label) for t in train]),
                                list(ROUTES), hidden=cand["hidden"], l2=cand["l2"], epochs=cand["epochs"],
                                lr=cand["lr"], meta={"version": f"in-process ({embedder.name})"})
    model.calibrate(features_for(embedder, calib), np.array([ROUTES.index(t.label) for t in calib]))
    return model


def context_from_history(history: Sequence[Any]) -> RouteContext:
    """A :class:`RouteContext` from eval-style history items (``{user|text, route|label}``)."""
    pairs: list[tuple[str, str]] = []
    for h in history:
        get = h.get if isinstance(h, dict) else (lambda key, _h=h: getattr(_h, key, None))
        text = get("user") or get("text") or ""
        label = get("route") or get("label") or "question"
        pairs.append((str(text), str(label)))
    return RouteContext(history=pairs, has_code_result=any(lbl == "code" for _, lbl in pairs))
