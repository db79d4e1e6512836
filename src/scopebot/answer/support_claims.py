"""Claims made from a real source sentence for the support check's training pairs (:mod:`scopebot.answer.support_data`).

*Faithful* rewrites keep the sentence's meaning (reordered clauses, a synonym, a dropped parenthesis, its first
clause, a hedge or a framing, free restatements: :func:`paraphrase`); *unsupported* ones change it (a negation
added or removed, an opposite, a changed number or unit, another tool's name, another sentence's subject, two
nouns' roles exchanged). Every function returns None when the sentence offers nothing to change.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

from scopebot.answer.support_features import Lexicon
from scopebot.answer.text import content_words, words

#: What a writer adds to a faithful claim without changing it: a hedge before it, a remark after it.
HEDGES = ("typically", "usually", "in most cases", "roughly speaking", "in general", "as a rule of thumb")
REMARKS = ("which is worth checking", "which helps in practice", "which is a good choice", "which matters for the analysis",
           "which is useful to know", "which is the usual case", "as described in the guide")
#: Harmless framings a writer puts around a faithful claim (written by us).
FRAMES = ("In short, {s}", "No, {s}", "Yes: {s}", "No: {s}", "Note that {s}", "In practice, {s}", "According to the passage, {s}", "Yes: {s}",
          "{S} This is the key point.", "As a rule, {s}", "Put simply, {s}")
_KEEP_RE = re.compile(r"\d|\b(?:no|not|never|without|cannot|none|nor)\b|n't", re.IGNORECASE)
#: The auxiliary a person puts an adverb after ("is generally", "can actually").
_FILL_AT_RE = re.compile(r"\b(is|are|can|should|will|must|does|do|has|have)\b")
_AUX_RE = re.compile(r"\b(is|are|was|were|can|could|should|will|would|must|may|might|does|do|did|has|have)\b")
_NOT_RE = re.compile(r"\b(is|are|was|were|can|could|should|will|would|must|does|do|did|has|have)\s+not\b|"
                     r"\b(cannot|can't|doesn't|don't|isn't|aren't|won't)\b", re.IGNORECASE)
_UNDO = {"cannot": "can", "can't": "can", "doesn't": "does", "don't": "do", "isn't": "is", "aren't": "are",
         "won't": "will"}
_VERB_RE = re.compile(r"\b(is|are|was|were|can|could|should|will|would|must|may|might|does|do|has|have|"
                      r"uses?|needs?|requires?|predicts?|provides?|allows?|works?|makes?|helps?|relies|"
                      r"learns?|produces?|computes?|finds?|detects?|represents?|trains?)\b")
_NUM_RE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.]\d)")
_UNIT_SWAP = {"nm": "µm", "µm": "nm", "mm": "µm", "ms": "s", "s": "ms", "px": "µm", "%": "px", "kb": "MB",
              "mb": "GB", "gb": "MB", "hz": "kHz", "min": "h", "h": "min"}
_REORDER_RE = re.compile(r"^(?P<a>[^,;]{20,}?)\s+(?P<conj>because|when|if|since|while|although|unless|so that)\s+"
                         r"(?P<b>[^,;]{10,})\.$")
PAREN_RE = re.compile(r"\s*\([^()]{2,80}\)")
_CLAUSE_CUT_RE = re.compile(r"^(?P<a>[^;]{30,}?)(?:;|, which|, and|, but)\s")


def swap_word(s: str, pairs: Iterable[tuple[str, str]], rng: random.Random) -> str | None:
    options = []
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):
            for m in re.finditer(rf"\b{re.escape(x)}\b", s, re.IGNORECASE):
                options.append((m.start(), m.end(), y))
    if not options:
        return None
    start, end, y = rng.choice(options)
    if s[start].isupper():
        y = y[:1].upper() + y[1:]
    return s[:start] + y + s[end:]


def negate(s: str, rng: random.Random) -> str | None:
    """Remove a negation, or add one after the first auxiliary verb."""
    m = _NOT_RE.search(s)
    if m:
        if m.group(1):
            return s[:m.start()] + m.group(1) + s[m.end():]
        word = m.group(2)
        repl = _UNDO[word.lower()]
        return s[:m.start()] + (repl.capitalize() if word[0].isupper() else repl) + s[m.end():]
    m = _AUX_RE.search(s)
    if m:
        return s[:m.end()] + " not" + s[m.end():]
    return None


def change_number(s: str, rng: random.Random) -> str | None:
    nums = list(_NUM_RE.finditer(s))
    nums = [m for m in nums if not (1900 <= float(m.group(1)) <= 2100)]
    if not nums:
        return None
    m = rng.choice(nums)
    v = float(m.group(1))
    new = rng.choice([v * 2, v + 1, v * 10, max(0.0, v - 1) or v + 3, v / 2 if v >= 2 else v + 5])
    text = str(int(new)) if float(new).is_integer() else f"{new:.2g}"
    if text == m.group(1):
        text = str(int(v) + 7)
    return s[:m.start(1)] + text + s[m.end(1):]


def change_unit(s: str, rng: random.Random) -> str | None:
    options = []
    for m in re.finditer(r"(?<=\d)\s?(nm|µm|um|mm|ms|s|px|%|kb|mb|gb|hz|min|h)\b", s, re.IGNORECASE):
        unit = m.group(1).lower().replace("um", "µm")
        if unit in _UNIT_SWAP:
            options.append((m.start(1), m.end(1), _UNIT_SWAP[unit]))
    if not options:
        return None
    start, end, new = rng.choice(options)
    return s[:start] + new + s[end:]


def swap_entity(s: str, lex: Lexicon, rng: random.Random) -> str | None:
    present = [n for n in lex.names if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", s, re.IGNORECASE)]
    if not present:
        return None
    old = rng.choice(present)
    new = rng.choice([n for n in lex.names if n.lower() != old.lower() and n.lower() not in s.lower()])
    return re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, s, count=1, flags=re.IGNORECASE)


def subject_of(s: str) -> str | None:
    """The words before the sentence's first verb ("StarDist models", "The point spread function")."""
    m = _VERB_RE.search(s)
    if not m or m.start() < 3:
        return None
    subj = s[:m.start()].strip()
    if not 1 <= len(subj.split()) <= 6 or "," in subj or not content_words(subj):
        return None
    return subj


def swap_subject(s: str, other: str, passage: str = "") -> str | None:
    """``s`` with the subject of ``other``; None unless that subject is specific (two or more content
    words, or a capitalised name) and the passage (when given) uses none of its content words."""
    a, b = subject_of(s), subject_of(other)
    if not a or not b or set(content_words(a)) & set(content_words(b)):
        return None
    specific = len(content_words(b)) >= 2 or any(w[:1].isupper() for w in b.split()[1:]) or \
        re.match(r"[A-Z][a-z]*[A-Z0-9]", b) is not None
    if not specific or (passage and set(content_words(b)) & set(content_words(passage))):
        return None
    b = b[:1].upper() + b[1:] if a[:1].isupper() else b
    return b + s[len(a):]


def swap_bound_nouns(s: str) -> str | None:
    """Two numbers' following words exchanged ("3 channels and 64 filters" -> "3 filters and 64 channels")."""
    ms = list(re.finditer(r"(?<![\w.])(\d+(?:\.\d+)?)\s+([A-Za-z][a-z]{2,})", s))
    ms = [m for m in ms if m.group(2).lower() not in {"and", "or", "to", "of", "the", "in"}]
    if len(ms) < 2 or ms[0].group(2).lower() == ms[1].group(2).lower():
        return None
    a, b = ms[0], ms[1]
    return s[:a.start(2)] + b.group(2) + s[a.end(2):b.start(2)] + a.group(2) + s[b.end(2):]


def reorder(s: str) -> str | None:
    m = _REORDER_RE.match(s)
    if not m:
        return None
    a = m.group("a")
    a = a[:1].lower() + a[1:] if not a.split()[0].isupper() and not re.match(r"[A-Z][a-z]*[A-Z0-9]", a) else a
    return f"{m.group('conj').capitalize()} {m.group('b')}, {a}."


def first_clause(s: str) -> str | None:
    m = _CLAUSE_CUT_RE.match(s)
    return f"{m.group('a').rstrip(' ,')}." if m and len(words(m.group("a"))) >= 6 else None


def span_drop(s: str, rng: random.Random) -> str | None:
    """``s`` without a short span of words (no negation, number or name in it): a summary of it."""
    toks = s.rstrip(".").split()
    if len(toks) < 10:
        return None
    for _ in range(6):
        n = rng.randint(2, 4)
        i = rng.randint(2, len(toks) - n)
        span = " ".join(toks[i:i + n])
        if not _KEEP_RE.search(span) and not any(t[:1].isupper() for t in toks[i:i + n]):
            return " ".join(toks[:i] + toks[i + n:]) + "."
    return None


def merge(a: str, b: str) -> str | None:
    """Two sentences of one passage as one ("A, and b")."""
    if a == b or len(words(a)) + len(words(b)) > 50:
        return None
    fc = first_clause(b) or b
    return f"{a.rstrip('.')}, and {fc[:1].lower() + fc[1:] if not re.match(r'[A-Z][a-z]*[A-Z0-9]', fc) else fc}"


def hedged(s: str, rng: random.Random) -> str:
    """``s`` with a hedge in front or a remark after it (a few words the passage does not use)."""
    low = s[:1].lower() + s[1:] if not re.match(r"[A-Z][a-z]*[A-Z0-9]|[A-Z]{2}", s) else s
    if rng.random() < 0.5:
        hedge = rng.choice(HEDGES)
        return f"{hedge[:1].upper() + hedge[1:]}, {low}"
    return f"{s.rstrip('.')}, {rng.choice(REMARKS)}."


def framed(s: str, rng: random.Random) -> str:
    frame = rng.choice(FRAMES)
    low = s[:1].lower() + s[1:] if not re.match(r"[A-Z][a-z]*[A-Z0-9]|[A-Z]{2}", s) else s
    return frame.format(s=low, S=s)


def swap_entity_in_passage(s: str, passage: str, lex: Lexicon, rng: random.Random) -> str | None:
    """A name of ``s`` replaced by another name the passage mentions elsewhere (subject drift)."""
    def found(n: str, text: str) -> bool:
        return re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text, re.IGNORECASE) is not None

    present = [n for n in lex.names if found(n, s)]
    elsewhere = [n for n in lex.names if found(n, passage) and not found(n, s)]
    if not present or not elsewhere:
        return None
    old, new = rng.choice(present), rng.choice(elsewhere)
    return re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, s, count=1, flags=re.IGNORECASE)


def rebind(s: str, passage: str, rng: random.Random) -> str | None:
    """The word after a number replaced by another word of the passage (the number now counts something else)."""
    ms = [m for m in re.finditer(r"(?<![\w.])(\d+(?:\.\d+)?)\s+([a-z]{4,})\b", s)
          if m.group(2) not in {"with", "from", "that", "this", "each", "times"}]
    pool = sorted({w for w in re.findall(r"\b[a-z]{5,}s?\b", passage) if w not in s})
    if not ms or not pool:
        return None
    m = rng.choice(ms)
    return s[:m.start(2)] + rng.choice(pool) + s[m.end(2):]


def trade_places(s: str, lex: Lexicon) -> str | None:
    """Two opposites of one sentence exchanged ("a high rate overshoots, a low one is stable" -> "a low rate
    overshoots, a high one is stable"): the same words, the opposite statement."""
    for a, b in lex.antonyms:
        if " " in a or " " in b:
            continue
        ma = re.search(rf"\b{re.escape(a)}\b", s, re.IGNORECASE)
        mb = re.search(rf"\b{re.escape(b)}\b", s, re.IGNORECASE)
        if ma and mb:
            (m1, w1), (m2, w2) = sorted(((ma, b), (mb, a)), key=lambda x: x[0].start())
            def case(src: str, w: str) -> str:
                return w[:1].upper() + w[1:] if src[:1].isupper() else w
            return (s[:m1.start()] + case(m1.group(0), w1) + s[m1.end():m2.start()] + case(m2.group(0), w2)
                    + s[m2.end():])
    return None


def _lower_first(s: str) -> str:
    return s[:1].lower() + s[1:] if not re.match(r"[A-Z][a-z]*[A-Z0-9]|[A-Z]{2}", s) else s


def paraphrase(s: str | None, lex: Lexicon, rng: random.Random, *, faithful: bool = True) -> str | None:
    """``s`` restated the way a person writes it: several synonyms swapped (and, for a faithful claim, phrase
    rewrites that move a negation, "cannot" / "is unable to"), sometimes its clauses reordered or a span
    dropped, an adverb after the verb, an opening phrase or a closing remark (all from the lexicon).

    With ``faithful=False`` (a claim already made unsupported) nothing is dropped and no negation moves, so
    the change that makes it unsupported survives."""
    if not s:
        return None
    t = s
    pairs = lex.synonyms + (lex.rewrites if faithful else ())
    for _ in range(rng.randint(2, 5)):
        t = swap_word(t, pairs, rng) or t
    if rng.random() < 0.3:
        t = reorder(t) or t
    if faithful and rng.random() < 0.35:
        t = span_drop(t, rng) or t
    if lex.fillers and rng.random() < 0.4:
        m = _FILL_AT_RE.search(t)
        if m:
            t = f"{t[:m.end()]} {rng.choice(lex.fillers)}{t[m.end():]}"
    r = rng.random()
    if lex.openers and r < 0.5:
        t = f"{rng.choice(lex.openers)} {_lower_first(t)}"
    elif lex.tails and r < 0.75:
        t = f"{t.rstrip(' .')}, {rng.choice(lex.tails)}."
    return t if t.strip() != s.strip() else None
