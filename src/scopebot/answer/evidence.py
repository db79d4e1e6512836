"""Evidence chosen for the question type (issue 16): which passages the answer is built from.

``KnowledgeBase.search`` itself is unchanged: its top ``k`` is always fetched first. This module
re-ranks and completes that list for the answer:

* **conceptual, definition, how-to, compute**: explanations first. Book and training passages are
  fetched as well (``kinds=["book", "training"]``) and placed before registry and Model Zoo entries;
  at most one Model Zoo card is kept, always after the explanations, so model cards never crowd out
  an explanation. A registry entry or model card whose title is exactly the question's subject ("What does
  JACoP compute?") stays first.
* **which tool / model**: the registries and the Model Zoo are fetched as well and come first.
* **comparison "A or B"**: each side is retrieved on its own ("A" + the shared topic) and the
  passages that name each side (whole word) are interleaved, so the answer can speak to both. A side
  whose passages are all registry or Model Zoo entries gets a book and training search of its own, so
  an explanation comes before the cards.
* **a message that sets a scene before it asks** ("We image zebrafish hearts ... How do I denoise
  them?", :mod:`scopebot.answer.focus`): the passages above are for the whole message (the scene often
  names the problem); up to ``asked_passages`` passages retrieved for the asked sentences alone follow.
* **exercises**: passages that are mostly quiz or exercise text (blanks, "Question:", answer keys)
  (or a multiple-choice quiz: numbered options under a question or above an answer key, a lesson's
  "Assessment" part) are left out when two
  prose passages remain and go to the end otherwise; their sentences are never quoted (:func:`is_exercise`).
  A multiple-choice quiz whose answer key names an option keeps its place as what the key states (the
  chosen option and the solution's prose, :mod:`scopebot.answer.quiz_answers`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scopebot.answer.entities import norm
from scopebot.answer.qtype import QuestionType
from scopebot.answer.quiz_answers import quiz_statements
from scopebot.answer.text import content_words
from scopebot.index.models import SearchResult
from scopebot.index.protocols import Retriever
from scopebot.tools.catalog import TOOL_KINDS

EXPLAIN_KINDS = ("book", "training")
MAX_MODEL_CARDS = 1
PER_SIDE = 3
#: Passages retrieved for the asked part of a message alone, added after those for the whole message
#: (the default of ``Settings.answer_asked_passages``).
ASKED_PASSAGES = 2
_EXERCISE_RE = re.compile(
    r"(?:\\?_){3,}|_\s*[.?]\s*$|\b_\b|^\s*(?:question|answer|solution|exercise|quiz|challenge|hint|task)\s*\d*\s*[:.)]|"
    r"fill in the blanks?|true or false|which of the following|multiple choice|\(\s*[a-d]\s*\)\s*\w+.*\(\s*[b-e]\s*\)",
    re.IGNORECASE | re.MULTILINE)


def is_exercise(text: str) -> bool:
    """Quiz or exercise text: blanks to fill, "Question:", "Solution", answer options."""
    return bool(_EXERCISE_RE.search(text))


#: an answer key's heading (markdown, bold or quoted)
_ANSWER_KEY_RE = re.compile(r"^[\s>]*(?:#{1,6}\s*|\*\*)?(?:solutions?|answers?)(?:\*\*)?\s*:?\s*$",
                            re.IGNORECASE | re.MULTILINE)
#: a multiple-choice option ("2. ...", "b) ...")
_OPTION_RE = re.compile(r"^\s*(?:\d|[a-e])[.)]\s+\S", re.MULTILINE)
#: a breadcrumb segment that names a lesson's quiz part
_QUIZ_PART_RE = re.compile(r"(?:^|›)\s*(?:assessment|quiz(?:zes)?|self-check|true or false)\s*(?:›|$)",
                           re.IGNORECASE)


def is_quiz_passage(text: str, section: str = "", breadcrumb: str = "") -> bool:
    """A passage that holds a multiple-choice quiz: its options and answer key are not statements about
    microscopy. Read from the breadcrumb (a lesson's "Assessment" part) or from numbered options under
    a question heading or above an answer key. A worked solution in prose is not a quiz."""
    if _QUIZ_PART_RE.search(breadcrumb):
        return True
    options = len(_OPTION_RE.findall(text))
    return options >= 3 and (section.rstrip().endswith("?") or bool(_ANSWER_KEY_RE.search(text)))


def _is_exercise_passage(result: SearchResult) -> bool:
    """A quiz, or a passage at least half of whose lines are exercise text."""
    chunk = result.chunk  # the book has no quizzes; its question headings over numbered lists are prose
    if chunk.kind != "book" and is_quiz_passage(chunk.body, chunk.section, chunk.breadcrumb):
        return True
    lines = [ln for ln in chunk.body.split("\n") if ln.strip()]
    return sum(1 for ln in lines if is_exercise(ln)) >= 0.5 * max(1, len(lines))


def names_side(text: str, side: str) -> bool:
    """``side`` occurs in ``text`` as whole words (case-insensitive), never as a substring; a plural
    counts ("GANs" names "GAN"), and so does a hyphenated spelling ("random-forest" names "random forest")."""
    pattern = rf"(?<![\w-]){re.escape(side)}(?:s|es)?(?![\w-])"
    return re.search(pattern, text, re.IGNORECASE) is not None or \
        ("-" in text and " " in side and re.search(pattern, text.replace("-", " "), re.IGNORECASE) is not None)


def side_forms(side: str) -> list[str]:
    """The ways a passage may name a comparison side: the side itself, then (for a side of several words)
    its phrases of two or more words, longest first, with hyphens read as spaces, leaving out a phrase
    that starts or ends with a word too general to name anything (``side_generic_words``)."""
    from scopebot.answer.qtype import cue_data

    generic = {w.lower() for w in cue_data().get("side_generic_words", [])}
    forms = [side]
    words = side.replace("-", " ").split()
    for n in range(len(words), 1, -1):
        for i in range(len(words) - n + 1):
            part = words[i:i + n]
            if part[0].lower() in generic or part[-1].lower() in generic:
                continue
            phrase = " ".join(part)
            if phrase.lower() != side.lower() and phrase not in forms:
                forms.append(phrase)
    return forms


def resolve_side(side: str, texts: Sequence[str]) -> str:
    """The first of :func:`side_forms` that one of ``texts`` names (the side itself when none does): a
    side written in several words ("random-forest pixel classifier") is found where the passages say
    "random forest classifiers"."""
    for form in side_forms(side):
        if any(names_side(t, form) for t in texts):
            return form
    return side


_ACRONYM_AFTER_RE = re.compile(r"\(([A-Z][A-Za-z0-9\-]{1,9})\)")


def side_names(side: str, texts: Sequence[str]) -> tuple[str, ...]:
    """How ``texts`` name a comparison side: :func:`resolve_side`'s form, then the acronyms the texts define
    for it ("mean squared error (MSE)" names the side "mean squared error" as "MSE" too)."""
    form = resolve_side(side, texts)
    tail = re.compile(rf"(?<![\w-]){re.escape(form.replace('-', ' '))}\s*$", re.IGNORECASE)
    found: list[str] = []
    for text in texts:
        flat = text.replace("-", " ")
        for m in _ACRONYM_AFTER_RE.finditer(flat):
            if " " in form and tail.search(flat[:m.start()]) and m.group(1).lower() != form.lower():
                found.append(m.group(1))
    return (form, *dict.fromkeys(found))


def names_any(text: str, names: str | Sequence[str]) -> bool:
    """``text`` names one of ``names`` (see :func:`names_side`)."""
    return any(names_side(text, n) for n in ([names] if isinstance(names, str) else names))


def _names(result: SearchResult, side: str | Sequence[str]) -> bool:
    return names_any(f"{result.chunk.title} {result.chunk.section} {result.chunk.body}", side)


def _unique(results: Sequence[SearchResult]) -> list[SearchResult]:
    seen: set[str] = set()
    out = []
    for r in results:
        if r.chunk.key not in seen:
            seen.add(r.chunk.key)
            out.append(r)
    return out


def _search(retriever: Retriever, query: str, k: int, kinds: Sequence[str] | None = None) -> list[SearchResult]:
    try:
        return list(retriever.search(query, k=k, kinds=list(kinds) if kinds else None))
    except Exception:  # noqa: BLE001 - a retriever without that kind (tests, partial index) adds nothing
        return []


def select_evidence(retriever: Retriever, query: str, qtype: QuestionType, k: int,
                    base: Sequence[SearchResult] | None = None, asked: str = "",
                    asked_passages: int = ASKED_PASSAGES) -> list[SearchResult]:
    """The passages for the answer, ordered for ``qtype`` (see the module docstring); ``base`` is the
    plain top ``k`` when the caller already has it. ``asked`` is what the message asks without the scene
    it sets (:mod:`scopebot.answer.focus`): up to ``asked_passages`` passages retrieved for it alone are
    added after the whole message's."""
    base = list(base) if base is not None else _search(retriever, query, k)
    ordered = _select(retriever, query, qtype, k, base)
    if asked and asked.strip() != query.strip() and asked_passages > 0:
        # the scene a message sets often names the problem ("... the tracks keep breaking"), so the whole
        # message keeps its passages; the best ones for what is asked alone follow them
        have = {r.chunk.key for r in ordered}
        hits = [r for r in map(_usable, _search(retriever, asked, k)) if r is not None and r.chunk.key not in have]
        ordered = ordered + hits[:asked_passages]
    return ordered


def _select(retriever: Retriever, query: str, qtype: QuestionType, k: int,
            base: list[SearchResult]) -> list[SearchResult]:
    if qtype.kind == "comparison" and len(qtype.sides) == 2:
        per_side: list[list[SearchResult]] = []
        for side, key in zip(qtype.sides, qtype.side_keys(), strict=True):
            side_query = f"{side} {qtype.topic}".strip()
            found = _unique(_search(retriever, side_query, k) + base)
            names = side_names(key, [f"{r.chunk.section} {r.chunk.body}" for r in found])
            hits = [r for r in found if _names(r, names)]
            if not any(r.chunk.kind in EXPLAIN_KINDS for r in hits):
                # model cards matched the topic's words ("DAPI-stained nuclei"): look for an explanation
                # of this side in the book and the training material before falling back on them
                found = _search(retriever, side_query, k, EXPLAIN_KINDS) + _search(retriever, side, k, EXPLAIN_KINDS)
                hits = _unique([r for r in found if _names(r, names)] + hits)
            per_side.append(_explanations_first(hits)[:PER_SIDE])
        mixed: list[SearchResult] = []
        for i in range(PER_SIDE):
            for hits in per_side:
                if i < len(hits):
                    mixed.append(hits[i])
        ordered = _unique(mixed + _explanations_first(base))
        return _exercises_last(ordered)[: max(k, 2 * PER_SIDE)]
    if qtype.kind == "which_tool":
        extra = _search(retriever, query, k, TOOL_KINDS)
        tools = [r for r in _unique(base + extra) if r.chunk.kind in TOOL_KINDS]
        rest = [r for r in base if r.chunk.kind not in TOOL_KINDS]
        return _exercises_last(_unique(tools[:k - 1] + rest))[:k]
    extra = _search(retriever, query, k, EXPLAIN_KINDS)
    ordered = _exercises_last(_explanations_first(_unique(base + extra), qtype.subject))
    task = task_query(query, qtype)
    if task:  # "How do I avoid overfitting a U-Net ...": the advice is rarely in the passages about U-Nets
        hits = [r for r in _search(retriever, task, k, EXPLAIN_KINDS) if not _is_exercise_passage(r)]
        mixed = [r for pair in zip(ordered, hits, strict=False) for r in pair]
        ordered = _unique(mixed + ordered + hits)
    return ordered[:k]


def task_query(query: str, qtype: QuestionType) -> str:
    """A how-to question without its subject ("How do I avoid overfitting a U-Net on 20 images?" ->
    "How do I avoid overfitting a on 20 images?"), or "" when nothing specific would remain."""
    if qtype.kind != "howto" or not qtype.subject:
        return ""
    rest = re.sub(rf"(?<![\w-]){re.escape(qtype.subject)}(?![\w-])", " ", query)
    rest = re.sub(r"\s+", " ", rest).strip()
    return rest if len(content_words(rest)) >= 2 else ""


def _explanations_first(results: Sequence[SearchResult], subject: str = "") -> list[SearchResult]:
    """Entries titled with the question's subject, then book and training passages (in their order),
    then registries, then at most one model card."""
    if subject:
        about = [r for r in results if r.chunk.kind not in EXPLAIN_KINDS and norm(r.chunk.title) == norm(subject)]
        if about:
            rest = [r for r in results if r not in about]
            return about[:1] + _explanations_first(rest)
    explain = [r for r in results if r.chunk.kind in EXPLAIN_KINDS]
    other = [r for r in results if r.chunk.kind not in EXPLAIN_KINDS and r.chunk.kind != "model-zoo"]
    cards = [r for r in results if r.chunk.kind == "model-zoo"][:MAX_MODEL_CARDS]
    return explain + other + cards


def answered_quiz(result: SearchResult) -> SearchResult | None:
    """A multiple-choice quiz passage as the statements its answer key makes
    (:func:`scopebot.answer.quiz_answers.quiz_statements`), same key and place; None when it makes none."""
    statements = quiz_statements(result.chunk.body) if result.chunk.kind != "book" else []
    if not statements:
        return None
    head = result.chunk.text.partition("\n")[0]
    return result.model_copy(update={"chunk": result.chunk.model_copy(
        update={"text": f"{head}\n{' '.join(statements)}"})})


def _usable(result: SearchResult) -> SearchResult | None:
    """A prose passage as it is, a quiz as the statements its key makes, None for other exercises."""
    return answered_quiz(result) if _is_exercise_passage(result) else result


def _exercises_last(results: Sequence[SearchResult]) -> list[SearchResult]:
    """Prose first; a quiz whose answer key makes statements keeps its place as those statements; other
    exercise and quiz passages are left out when two prose passages remain (their options and blanks read
    as statements), otherwise they go last."""
    usable = [_usable(r) for r in results]
    prose = [r for r in usable if r is not None]
    exercises = [r for r, u in zip(results, usable, strict=True) if u is None]
    if len(prose) >= 2:
        return prose
    return prose + exercises
