"""Quiz items parsed at run time from third-party lessons (never written into the repository).

Two formats:

* **NEUBIAS module assessments** — ``_modules/*.md`` pages carry an ``assessment:`` block in their
  YAML front matter: ``### Title`` headings, the question text, and answers in a block quote
  (``> ## Solution`` …) closed by a ``{: .solution}`` line.
* **Carpentries challenges** — lesson episodes use fenced divs: ``:::: challenge`` … ``:::``
  with one or more nested ``:::: solution`` divs (other nested divs such as ``hint`` belong to
  whatever contains them).

Each block becomes a :class:`QuizItem` with the question, the solution text, the source id and the
file (relative to the source folder, the same value the index stores as ``metadata.file``) and
keywords: distinctive content words of the solution used to score answers by overlap.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

#: Default quiz sources: source id → (folder below the sources dir, parser, file globs).
QUIZ_SOURCES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "neubias": ("neubias-training-resources", "neubias", ("_modules/*.md",)),
    "carpentries-microscopy": ("carpentries-microscopy-novice", "carpentries", ("episodes/*.md",)),
    "datacarpentry-image-processing": ("datacarpentry-image-processing", "carpentries", ("episodes/*.md",)),
}
MAX_KEYWORDS = 8
_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_QUOTE = re.compile(r"^\s*>\s?(.*)$")
_SOLUTION_TAG = re.compile(r"^\s*\{:\s*\.solution\s*\}\s*$")
_DIV = re.compile(r"^\s*:{3,}\s*([A-Za-z][\w-]*)?\s*:*\s*$")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)(\{[^}]*\})?")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_ATTR = re.compile(r"\{[:.#][^}]*\}|\{alt=[^}]*\}")
_DURATION = re.compile(r"\(\s*\d+\s*min(?:utes)?\s*\)", re.IGNORECASE)
_FENCE = re.compile(r"```.*?```", re.DOTALL)
_URL = re.compile(r"https?://\S+")
_WORD = re.compile(r"[a-z][a-z0-9'_-]*[a-z0-9]")
_TRIVIAL = re.compile(r"^(?:true|false|yes|no|[a-e]\)?|correct|incorrect|answer|solution)$")

STOPWORDS = frozenset("""
a about above after again against all also an and any are as at be because been before being below between
both but by can could did do does doing done down during each either else etc even every few for from further
get gets getting given go going had has have having here how however i if in into is it its itself just
less like likely made make makes many may might more most much must need needs no nor not now of off often on
once one only or other our out over own per rather same see seen should show shown shows since so some
something such than that the their them then there these they thing things this those though through thus
to too two under until up upon us use used uses using very via was way we well were what when where whether
which while who whom whose why will with within without would yes you your
answer answers solution solutions correct incorrect true false question questions example exercise following
note first second third also i.e e.g possible method means still here there many another different
depend depends depending case cases part look looks know want lot good better best simple actually really
therefore hence
""".split())


class QuizItem(BaseModel):
    """One quiz question with its solution, where it came from and the keywords that score answers."""

    id: str = Field(description="'<source>:<file stem>#<n>', stable while the lesson does not change.")
    source_id: str
    file: str = Field(description="File relative to the source folder (as in the index's metadata.file).")
    title: str = ""
    question: str
    solution: str
    keywords: list[str] = Field(default_factory=list)
    kind: str = Field(description="'neubias-assessment' or 'carpentries-challenge'.")

    @property
    def prompt(self) -> str:
        """The question as it is asked: title and text, tidied for a chat assistant."""
        text = f"{self.title}\n{self.question}" if self.title and self.title not in self.question else self.question
        return tidy(text)


def tidy(text: str, limit: int = 1500) -> str:
    """Markdown tidied for asking: images, attribute lists, link targets and durations removed."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _ATTR.sub("", text)
    text = _DURATION.sub("", text)
    text = re.sub(r"(?m)^\s{0,3}#{1,6}\s*", "", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text[:limit].rstrip()


def stem_word(word: str) -> str:
    """A crude stem (plural/-ed/-ing endings dropped) so keyword matching tolerates inflection."""
    for suffix in ("ing", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def extract_keywords(solution: str, question: str = "", limit: int = MAX_KEYWORDS) -> list[str]:
    """Distinctive content words of ``solution``: not stop words, not trivial (true/false/a-e), and
    preferring words the question does not already contain (echoing the question is not knowledge).

    Words are ranked by how often they occur in the solution, then by length; ties keep text order.
    """
    plain = _URL.sub(" ", _FENCE.sub(" ", _IMAGE.sub(" ", solution))).lower()
    words = [w.strip("'") for w in _WORD.findall(plain)]
    words = [w for w in words if len(w) >= 3 and w not in STOPWORDS and not _TRIVIAL.match(w)]
    if not words:
        return []
    asked = {stem_word(w) for w in _WORD.findall(question.lower())}
    counts = Counter(words)
    order = {w: i for i, w in reversed(list(enumerate(words)))}
    ranked = sorted(counts, key=lambda w: (stem_word(w) in asked, -counts[w], -len(w), order[w]))
    out: list[str] = []
    seen: set[str] = set()
    for w in ranked:
        if stem_word(w) not in seen:
            seen.add(stem_word(w))
            out.append(w)
    return out[:limit]


def _item(source_id: str, rel: str, n: int, title: str, question: str, solution: str, kind: str) -> QuizItem | None:
    question, solution = question.strip(), solution.strip()
    if not question or not solution or "TODO" in question or "TODO" in solution:
        return None
    stem = Path(rel).stem
    return QuizItem(id=f"{source_id}:{stem}#{n}", source_id=source_id, file=rel, title=tidy(title, 200),
                    question=question, solution=solution, keywords=extract_keywords(solution, f"{title} {question}"),
                    kind=kind)


# ----------------------------------------------------------------------------------- NEUBIAS
def split_assessment(text: str) -> list[tuple[str, str, str]]:
    """``(title, question, solution)`` for each headed block of an assessment with a solution.

    A block quote closed by ``{: .solution}`` is an answer (its ``## Solution``/``## Answers``
    heading dropped); any other text, including block quotes without the tag, is question text.
    """
    blocks: list[tuple[str, list[str], list[str]]] = [("", [], [])]
    quote: list[str] = []

    def flush_quote_as_question() -> None:
        blocks[-1][1].extend(quote)
        quote.clear()

    for line in text.splitlines():
        q = _QUOTE.match(line)
        if q:
            quote.append(q.group(1))
            continue
        if _SOLUTION_TAG.match(line):
            body = list(quote)
            if body and _HEADING.match(body[0]):
                body = body[1:]
            blocks[-1][2].append("\n".join(body).strip())
            quote.clear()
            continue
        flush_quote_as_question()
        h = _HEADING.match(line)
        if h:
            blocks.append((h.group(2).strip(), [], []))
        else:
            blocks[-1][1].append(line)
    flush_quote_as_question()
    out = []
    for title, question, solutions in blocks:
        if solutions:
            out.append((title, _dedent("\n".join(question)), "\n".join(s for s in solutions if s)))
    return out


def _dedent(text: str) -> str:
    lines = text.splitlines()
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return "\n".join(line[indent:] for line in lines).strip()


def parse_neubias_module(path: Path, rel: str, source_id: str = "neubias") -> list[QuizItem]:
    """The quiz items of one NEUBIAS module page (none when it has no assessment)."""
    match = _FRONT.match(path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n"))
    if not match:
        return []
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        return []
    assessment = meta.get("assessment") if isinstance(meta, dict) else None
    if not isinstance(assessment, str):
        return []
    module = str(meta.get("title") or path.stem.replace("_", " "))
    items = []
    for n, (title, question, solution) in enumerate(split_assessment(assessment), start=1):
        item = _item(source_id, rel, n, f"{module}: {title}" if title else module, question, solution,
                     "neubias-assessment")
        if item is not None:
            items.append(item)
    return items


# ------------------------------------------------------------------------------- Carpentries
def split_challenges(text: str) -> list[tuple[str, str]]:
    """``(question, solution)`` for each ``challenge`` div that has at least one ``solution`` div.

    Several solution divs in one challenge are joined (their question parts too), so a multi-part
    exercise becomes one item.
    """
    stack: list[str] = []
    out: list[tuple[str, str]] = []
    question: list[str] = []
    solution: list[str] = []
    for line in text.splitlines():
        div = _DIV.match(line)
        if div and div.group(1):
            stack.append(div.group(1).lower())
            if stack == ["challenge"]:
                question, solution = [], []
            continue
        if div:  # a closing fence
            if stack:
                closed = stack.pop()
                if closed == "challenge" and not stack and solution:
                    out.append(("\n".join(question).strip(), "\n".join(solution).strip()))
            continue
        if "challenge" not in stack:
            continue
        (solution if "solution" in stack else question).append(line)
    return out


def parse_carpentries_episode(path: Path, rel: str, source_id: str) -> list[QuizItem]:
    """The quiz items of one Carpentries episode (challenges with solutions)."""
    text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
    text = _FRONT.sub("", text, count=1)
    items = []
    for n, (question, solution) in enumerate(split_challenges(text), start=1):
        lines = question.strip().splitlines()
        title = ""
        if lines and _HEADING.match(lines[0]):
            title = _HEADING.match(lines[0]).group(2)  # type: ignore[union-attr]
            question = "\n".join(lines[1:]).strip()
        solution = re.sub(r"(?m)^\s{0,3}#{1,6}\s*Solution\s*$", "", solution).strip()
        item = _item(source_id, rel, n, title, question, solution, "carpentries-challenge")
        if item is not None:
            items.append(item)
    return items


# ---------------------------------------------------------------------------------- loading
def parse_source(root: Path, source_id: str, parser: str, globs: Sequence[str]) -> list[QuizItem]:
    """All quiz items of one source folder; files are read in sorted order so ids are stable."""
    files = sorted({p for g in globs for p in root.glob(g) if p.is_file()})
    items: list[QuizItem] = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        if parser == "neubias":
            items.extend(parse_neubias_module(path, rel, source_id))
        else:
            items.extend(parse_carpentries_episode(path, rel, source_id))
    return items


def interleave(groups: Iterable[list[QuizItem]]) -> list[QuizItem]:
    """Round-robin over the groups so ``--limit N`` samples every source, not only the first."""
    pending = [list(g) for g in groups if g]
    out: list[QuizItem] = []
    while pending:
        for group in pending:
            out.append(group.pop(0))
        pending = [g for g in pending if g]
    return out


def load_quiz(sources_dir: Path, sources: dict[str, tuple[str, str, tuple[str, ...]]] | None = None,
              only: Sequence[str] | None = None) -> tuple[list[QuizItem], list[str]]:
    """Quiz items of every available quiz source (interleaved), and the ids of the missing sources."""
    chosen = sources or QUIZ_SOURCES
    groups, missing = [], []
    for source_id, (folder, parser, globs) in chosen.items():
        if only and source_id not in only:
            continue
        root = sources_dir / folder
        if not root.is_dir():
            missing.append(source_id)
            continue
        groups.append(parse_source(root, source_id, parser, globs))
    return interleave(groups), missing
