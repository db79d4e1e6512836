"""The learned router's labelled data: template expansion, the split by template, near-duplicate checks.

``data/routing_templates.yaml`` holds families of templates with slot vocabularies (written for
scopebot). :func:`expand` turns each template into several turns (random slot fillings plus small
surface changes: case, punctuation, a typo, a filler prefix) with a fixed seed, so the training set
is reproducible. :func:`assign_splits` puts every turn of one template in the same split (train,
calibration or test), so the test split never holds a re-filling of a training template;
:func:`nearest_similarity` then measures how close each held-out turn is to its nearest training turn.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from scopebot.agent.models import ROUTES
from scopebot.errors import ConfigurationError

DATA_DIR = Path(__file__).resolve().parent / "data"
TEMPLATES_PATH = DATA_DIR / "routing_templates.yaml"
SPLITS = ("train", "calib", "test")
#: Share of each route's templates in the calibration and test splits (the rest is training).
CALIB_SHARE = 0.12
TEST_SHARE = 0.18
_SLOT = re.compile(r"\{(\w+)\}")
_PREFIXES = ["so ", "quick question: ", "hi, ", "hey, ", "ok ", "please ", "um, ", "I was wondering, ", "sorry, "]
_SUFFIXES = [" thanks", " please", " :)", " asap", " ??", " thx"]


@dataclass
class Turn:
    """One labelled turn of the training data."""

    text: str
    label: str
    family: str
    template: str
    image: bool = False
    after: str | None = None
    split: str = "train"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return data


def load_templates(path: Path | None = None) -> dict[str, Any]:
    """Read and validate the template file."""
    path = path or TEMPLATES_PATH
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read routing templates {path}: {exc}",
                                 hint="restore src/scopebot/agent/data/routing_templates.yaml") from exc
    slots, families = data.get("slots") or {}, data.get("families") or []
    problems = []
    for fam in families:
        if fam.get("label") not in ROUTES:
            problems.append(f"{fam.get('id')}: unknown label {fam.get('label')!r}")
        for t in fam.get("templates") or []:
            problems += [f"{fam.get('id')}: unknown slot {s!r}" for s in _SLOT.findall(t) if s not in slots]
        problems += [f"{fam.get('id')}: unknown route in after" for a in fam.get("after") or [] if a not in ROUTES]
    if problems or not families:
        raise ConfigurationError("routing templates are invalid: " + "; ".join(problems or ["no families"]),
                                 hint="fix data/routing_templates.yaml")
    return data


def _typo(text: str, rng: random.Random) -> str:
    words = text.split()
    long_ones = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not long_ones:
        return text
    i = rng.choice(long_ones)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rng.random() < 0.5 else w[:j] + w[j + 1:]
    return " ".join(words)


def _surface(text: str, label: str, rng: random.Random) -> str:
    """Small surface changes that real users make (seeded, so the data set is reproducible)."""
    if label not in ("chitchat",) and rng.random() < 0.12:
        text = rng.choice(_PREFIXES) + text[0].lower() + text[1:]
    if rng.random() < 0.25:
        text = text.rstrip("?.!")
    if rng.random() < 0.2:
        text = text.lower()
    if rng.random() < 0.15:
        text = _typo(text, rng)
    if label not in ("chitchat",) and rng.random() < 0.07:
        text = text + rng.choice(_SUFFIXES)
    return text.strip()


def _fill(template: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    used: dict[str, set[str]] = {}

    def pick(m: re.Match[str]) -> str:
        name = m.group(1)
        options = [o for o in slots[name] if o not in used.get(name, set())] or slots[name]
        value = str(rng.choice(options))
        used.setdefault(name, set()).add(value)
        return value

    out = _SLOT.sub(pick, template)
    return out[0].upper() + out[1:] if template[:1].isupper() else out


def expand(data: dict[str, Any], seed: int = 17) -> list[Turn]:
    """Every family's templates filled ``n`` times (unique texts per template)."""
    slots = {k: list(v) for k, v in (data.get("slots") or {}).items()}
    turns: list[Turn] = []
    for fam in data["families"]:
        rng = random.Random(f"{seed}:{fam['id']}")
        n = int(fam.get("n", 8))
        image_mode = fam.get("image", "never")
        afters = list(fam.get("after") or [None])
        for ti, template in enumerate(fam["templates"]):
            seen: set[str] = set()
            tries = 0
            target = n if _SLOT.search(template) else max(1, min(n, 3))
            while len(seen) < target and tries < target * 6:
                tries += 1
                text = _surface(_fill(template, slots, rng), fam["label"], rng)
                if text.lower() in seen:
                    continue
                seen.add(text.lower())
                image = image_mode == "always" or (image_mode == "either" and rng.random() < 0.5)
                turns.append(Turn(text=text, label=fam["label"], family=fam["id"], template=f"{fam['id']}#{ti}",
                                  image=image, after=rng.choice(afters)))
    return turns


def _bucket(key: str) -> float:
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def assign_splits(turns: Sequence[Turn]) -> None:
    """Train / calib / test by template: per route, templates are ordered by a hash of their id and cut."""
    by_label: dict[str, list[str]] = {}
    for t in turns:
        by_label.setdefault(t.label, [])
        if t.template not in by_label[t.label]:
            by_label[t.label].append(t.template)
    where: dict[str, str] = {}
    for templates in by_label.values():
        ordered = sorted(templates, key=_bucket)
        n_test = max(1, round(len(ordered) * TEST_SHARE))
        n_cal = max(1, round(len(ordered) * CALIB_SHARE))
        for i, tpl in enumerate(ordered):
            where[tpl] = "test" if i < n_test else "calib" if i < n_test + n_cal else "train"
    for t in turns:
        if t.family != "examples":
            t.split = where[t.template]


def nearest_similarity(queries: np.ndarray, reference: np.ndarray, block: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarity of each query row to its nearest reference row, and that row's index."""
    if len(reference) == 0 or len(queries) == 0:
        return np.zeros(len(queries), np.float32), np.zeros(len(queries), np.int64)
    best = np.empty(len(queries), np.float32)
    idx = np.empty(len(queries), np.int64)
    for start in range(0, len(queries), block):
        sims = queries[start:start + block] @ reference.T
        idx[start:start + block] = sims.argmax(1)
        best[start:start + block] = sims.max(1)
    return best, idx
