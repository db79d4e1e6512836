"""Two object nouns that name the same objects: one kind, not "two kinds of objects".

The planner declines a request that names two kinds of objects ("spots per cell": one inside the other is not
in the plan). Two grammatical patterns name ONE kind with two nouns, and are read here without looking at the
nouns themselves (beyond the vocabulary's classes):

- **a copula**: "the blobs are nuclei", "the dots were beads": noun, a form of *be*, at most a determiner, noun.
  The second noun says what the first is; the two are one kind (the second noun's).
- **a sample noun as modifier**: "organoid cells", "spheroid nuclei", "embryo nuclei": the first noun of the
  compound names the sample the objects come from (``sample_nouns`` in the vocabulary: a whole specimen the image
  shows, never a compartment of a cell), so the objects are the head noun's. A compound whose modifier is a cell
  compartment ("nuclear foci": foci inside nuclei) is not a sample noun and stays two kinds, and so does a sample
  noun standing on its own ("nuclei per organoid").

Anything else ("spots in cells", "spots per cell") stays two kinds and is reported as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scopebot.code.planner import Parse, Vocabulary

#: forms of "be" that join a noun to what it is
COPULA = frozenset({"is", "are", "was", "were", "be"})
#: words allowed between the copula and the second noun
_DETERMINERS = frozenset({"the", "a", "an", "all", "just", "simply", "actually", "really", "basically"})


def kind_at(parse: Parse, vocab: Vocabulary, pos: int, span: int) -> str:
    key = " ".join(t.stem for t in parse.tokens[pos:pos + span])
    return vocab.object_kinds.get(key, key)


def sample_modifier(parse: Parse, vocab: Vocabulary, pos: int) -> bool:
    """True when the object noun at ``pos`` is a sample noun directly before another object noun ("organoid
    cells"): it says where the objects are, not which objects."""
    toks = parse.tokens
    return (pos + 1 < len(toks) and toks[pos].used is not None and toks[pos + 1].used == toks[pos].used
            and toks[pos].stem in vocab.sample_nouns)


def copula_aliases(parse: Parse, vocab: Vocabulary, nouns: list[tuple[int, int]]) -> dict[str, str]:
    """{kind named first: kind it is said to be} for each "X are Y" between two object nouns (pos, span)."""
    starts = {p: n for p, n in nouns}
    texts = [t.text for t in parse.tokens]
    aliases: dict[str, str] = {}
    for p, n in nouns:
        k = p + n
        if k >= len(texts) or texts[k] not in COPULA:
            continue
        k += 1
        while k < len(texts) and texts[k] in _DETERMINERS:
            k += 1
        if k in starts:
            first, second = kind_at(parse, vocab, p, n), kind_at(parse, vocab, k, starts[k])
            if first != second:
                aliases[first] = second
    return aliases
