"""Typing slips in analysis requests ('substraction', 'segementation', 'backgroud') for the vocabulary planner.

A word the vocabulary does not know is read as a vocabulary word only when it is long (at least
``MIN_LENGTH`` letters) and one edit (insert, delete, substitute, swap two neighbours) from exactly one
vocabulary word: short words have too many neighbours that are other real words ('bad' / 'bead'). Every
correction is shown to the user in ``plan.understood``; nothing is corrected silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.answer.text import STOPWORDS, stem

if TYPE_CHECKING:
    from scopebot.code.planner import Token, Vocabulary

MIN_LENGTH = 8


_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEAR = {c: {r2[j] for i2, r2 in enumerate(_ROWS) for j in range(len(r2))
             if abs(i2 - i) <= 1 and abs(j - k - (0 if i2 == i else (i - i2) * 0.5)) <= 1 and r2[j] != c}
         for i, r in enumerate(_ROWS) for k, c in enumerate(r)}


def one_edit(typed: str, word: str) -> bool:
    """Whether ``typed`` is ``word`` with one slip of the fingers: a letter left out, two neighbours swapped,
    a neighbouring key hit instead, or a doubled / neighbouring key hit in addition. The first letter and the
    ending (last two letters) must be right: 'articles' is not 'particles', 'bacterial' not 'bacteria'."""
    if typed == word or abs(len(typed) - len(word)) > 1 or typed[0] != word[0]:
        return False
    n = max(len(typed), len(word))
    k = next((k for k in range(min(len(typed), len(word))) if typed[k] != word[k]), min(len(typed), len(word)))
    if k >= n - 2:
        return False
    if len(typed) == len(word):
        if typed[k + 1:] == word[k + 1:]:  # substitution: a neighbouring key
            return word[k] in _NEAR.get(typed[k], set())
        return typed[k] == word[k + 1] and typed[k + 1] == word[k] and typed[k + 2:] == word[k + 2:]
    if len(typed) < len(word):  # a letter left out
        return typed[k:] == word[k + 1:]
    extra = typed[k]  # a letter too many: doubled or a neighbouring key
    return typed[k + 1:] == word[k:] and (extra in (typed[k - 1], typed[k + 1]) or bool(
        _NEAR.get(extra, set()) & {typed[k - 1], typed[k + 1]}))


def near_ending(typed: str, word: str) -> bool:
    """Slips :func:`one_edit` leaves out on purpose for short words, taken only where no other word is near: a
    doubled letter typed once ('chanel'), a plural -s on a plural ('nucleis'), and in long words (at least 9
    letters) a letter left out or added before the last one ('backgroud', 'intensitiy')."""
    if typed[:1] != word[:1]:
        return False
    if len(word) == len(typed) + 1 and len(typed) >= 5:
        k = next((k for k in range(len(typed)) if typed[k] != word[k]), len(typed))
        if 0 < k < len(typed) and word[k] == word[k - 1] and typed[k:] == word[k + 1:]:
            return True  # 'chanel' -> 'channel'
    if typed == word + "s" and word.endswith(("i", "a", "s")) and len(word) >= 5:
        return True  # 'nucleis', 'mitochondrias'
    if len(typed) < 9 or abs(len(typed) - len(word)) != 1:
        return False
    short, long_ = (typed, word) if len(typed) < len(word) else (word, typed)
    return any(long_[:k] + long_[k + 1:] == short for k in range(len(long_) - 2, len(long_) - 1))


def vocabulary_words(vocab: Vocabulary, tokenise: object) -> set[str]:
    """The single words of every vocabulary phrase, as written (not stemmed)."""
    words: set[str] = set()
    for concept in vocab.concepts:
        for phrase in concept["phrases"]:
            words.update(w for w in tokenise(str(phrase)) if w.isalpha())  # type: ignore[operator]
    return words


def correct(tokens: list[Token], vocab: Vocabulary, words: set[str]) -> list[tuple[str, str]]:
    """Re-stem unknown long words one edit away from exactly one vocabulary word; returns (typed, read as)."""
    known_stems = {stem(w) for w in words} | vocab.fillers | vocab.qualifiers | set(vocab.statistics)
    out = []
    for tok in tokens:
        text = tok.text
        if tok.used or len(text) < 5 or not text.isalpha() or text in STOPWORDS \
                or tok.stem in known_stems or text in vocab.stains or text in vocab.negations:
            continue
        hits = {stem(w): w for w in words if abs(len(w) - len(text)) <= 1
                and ((len(text) >= MIN_LENGTH and one_edit(text, w)) or near_ending(text, w))}
        if len(hits) == 1:
            (new_stem, word), = hits.items()
            tok.stem, tok.text = new_stem, word  # read as the word everywhere (channels, stains, context)
            out.append((text, word))
    return out
