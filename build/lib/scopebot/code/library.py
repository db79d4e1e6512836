"""The recipe library: find the tested recipe that fits a request and hand out its script.

Recipes live as modules in :mod:`scopebot.code.recipes` (read as text, never imported here).
Selection scores a request against each recipe's keywords, title and description; keyword
phrases count most. An optional embedder adds a semantic similarity term.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from pydantic import BaseModel, Field

from scopebot.errors import ConfigurationError
from scopebot.index.embeddings import Embedder

RECIPES_DIR = Path(__file__).with_name("recipes")
_INLINE_RE = re.compile(r"^from scopebot\.code\.recipes\.(\w+) import [\w, ]+\s+# scopebot:inline\s*$", re.M)
_WORD_RE = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an the of in on to for and or with my this that image images please how do i can you "
                  "me some from by is are be it them using use want need".split())


class Recipe(BaseModel):
    """One tested analysis recipe."""

    name: str
    title: str
    keywords: list[str]
    description: str
    source: str = Field(description="The module text as written (with the inline import line).")

    def script(self, helpers: dict[str, str]) -> str:
        """The stand-alone script: inline helper modules replace their import lines."""
        def _inline(match: re.Match[str]) -> str:
            return helpers[match.group(1)].rstrip() + "\n"
        return _INLINE_RE.sub(_inline, self.source)


def _words(text: str) -> list[str]:
    out = []
    for w in _WORD_RE.findall(text.lower()):
        if w in _STOP:
            continue
        out.append(w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w)
    return out


def _parse(path: Path) -> Recipe:
    source = path.read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(source)) or ""
    lines = doc.splitlines()
    title = lines[0].strip() if lines else path.stem
    keywords: list[str] = []
    rest: list[str] = []
    for line in lines[1:]:
        if line.lower().startswith("keywords:"):
            keywords = [k.strip().lower() for k in line.split(":", 1)[1].split(",") if k.strip()]
        elif line.strip():
            rest.append(line.strip())
    return Recipe(name=path.stem, title=title, keywords=keywords, description=" ".join(rest), source=source)


def _helper_body(path: Path) -> str:
    """A helper module's code without its docstring."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(getattr(tree.body[0], "value", None),
                                                                      ast.Constant):
        start = tree.body[0].end_lineno or 0
        source = "\n".join(source.splitlines()[start:]).lstrip("\n")
    return source


class RecipeLibrary:
    """All recipes, with request matching."""

    def __init__(self, folder: Path = RECIPES_DIR, embedder: Embedder | None = None) -> None:
        if not folder.is_dir():
            raise ConfigurationError(f"recipe folder not found: {folder}", hint="reinstall scopebot")
        self.folder = folder
        self.recipes = {p.stem: _parse(p) for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")}
        self.helpers = {p.stem: _helper_body(p) for p in folder.glob("_*.py") if p.stem != "__init__"}
        self.embedder = embedder

    def __len__(self) -> int:
        return len(self.recipes)

    def get(self, name: str) -> Recipe:
        try:
            return self.recipes[name]
        except KeyError:
            raise ConfigurationError(f"unknown recipe {name!r}",
                                     hint=f"choose one of: {', '.join(sorted(self.recipes))}") from None

    def script(self, name: str) -> str:
        """The stand-alone script of recipe ``name``."""
        return self.get(name).script(self.helpers)

    def score(self, request: str, recipe: Recipe) -> float:
        """How well ``recipe`` fits ``request`` (0 = not at all)."""
        text = " " + " ".join(_words(request)) + " "
        words = set(text.split())
        score = 0.0
        for kw in recipe.keywords:
            kw_words = _words(kw)
            if not kw_words:
                continue
            if len(kw_words) > 1 and f" {' '.join(kw_words)} " in text:
                score += 2.0 * len(kw_words)
            elif len(kw_words) == 1 and kw_words[0] in words:
                score += 1.0
        title_words = set(_words(recipe.title))
        score += 0.25 * len(words & title_words)
        if self.embedder is not None:
            import numpy as np

            vecs = self.embedder.embed([request, f"{recipe.title}. {' '.join(recipe.keywords)}"])
            score += float(np.dot(vecs[0], vecs[1]))
        return score

    def search(self, request: str, k: int = 3) -> list[tuple[Recipe, float]]:
        """The ``k`` best recipes for ``request`` with their scores, best first."""
        ranked = sorted(((r, self.score(request, r)) for r in self.recipes.values()),
                        key=lambda pair: (-pair[1], pair[0].name))
        return ranked[:k]

    def best(self, request: str, min_score: float = 1.0) -> Recipe | None:
        """The best recipe, or None when nothing matches well enough."""
        ranked = self.search(request, k=1)
        if ranked and ranked[0][1] >= min_score:
            return ranked[0][0]
        return None
