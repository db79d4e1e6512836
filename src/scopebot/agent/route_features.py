"""Input features of the learned router: the sentence embedding plus cue and context features.

The cue scores of :mod:`scopebot.agent.cues` are inputs here, never verdicts: the classifier learns
how much each one is worth. Context features say whether an image is attached, whether earlier code
ran, which route the previous turn took and whether the turn looks like a short follow-up (the
previous route crossed with that, so "and in 3D?" can inherit the route it follows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from scopebot.agent.cues import (
    IMAGE_REF,
    asks_quantity,
    cue_scores,
    domain_hits,
    has_action_verb,
    is_follow_up,
    names_method,
)
from scopebot.agent.models import ROUTES

#: Bump when the feature layout changes (a model trained on another layout is rejected).
FEATURE_VERSION = 1
CUE_NAMES: tuple[str, ...] = (
    *(f"cue:{r}" for r in ROUTES), "domain", "action_verb", "follow_up", "image", "image_x_quantity",
    "quantity", "image_ref", "method", "question_mark", "length", "code_result",
    *(f"prev:{r}" for r in ROUTES), "prev:none", *(f"prev_x_follow:{r}" for r in ROUTES),
)


def cue_features(text: str, *, has_image: bool = False, last_route: str | None = None,
                 has_code_result: bool = False) -> np.ndarray:
    """The non-embedding part of the feature vector (layout: :data:`CUE_NAMES`)."""
    rules, _ = cue_scores(text, has_image=has_image, has_code_result=has_code_result)
    follow = is_follow_up(text) and last_route is not None
    quantity = asks_quantity(text)
    vec = [rules.get(r, 0.0) for r in ROUTES]
    vec += [min(domain_hits(text), 4) / 4.0, float(has_action_verb(text)), float(follow), float(has_image),
            float(has_image and quantity), float(quantity), float(any(p.search(text) for p in IMAGE_REF)),
            float(names_method(text)), float(text.rstrip().endswith("?")),
            min(1.0, math.log1p(len(text.split())) / math.log(60)), float(has_code_result)]
    vec += [float(last_route == r) for r in ROUTES] + [float(last_route is None)]
    vec += [float(follow and last_route == r) for r in ROUTES]
    return np.asarray(vec, dtype=np.float32)


def feature_matrix(embeddings: np.ndarray, texts: Sequence[str], images: Sequence[bool],
                   last_routes: Sequence[str | None]) -> np.ndarray:
    """Rows of ``[embedding | cue features]`` for a batch of turns."""
    cues = np.stack([cue_features(t, has_image=i, last_route=r, has_code_result=r == "code")
                     for t, i, r in zip(texts, images, last_routes, strict=True)]) if texts else \
        np.zeros((0, len(CUE_NAMES)), np.float32)
    return np.hstack([np.asarray(embeddings, np.float32), cues]).astype(np.float32)
