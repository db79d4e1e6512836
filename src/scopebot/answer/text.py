"""Text helpers shared by the answer pipeline and its checks: sentences, content words, cleaning.

Everything here is deterministic and dependency-free so that every check gives the same verdict
on the same text, in tests and in production. The stemmer is a deliberately small suffix stripper:
the checks only need "denoises" and "denoising" to meet at the same stem, not linguistics.
"""

from __future__ import annotations

import re

from scopebot.citations import LOOSE_CITATION_RE
from scopebot.index.models import BREADCRUMB_SEP

STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren as at be because been before being
below between both but by can cannot could did do does doing don down during each either else etc even
ever every few for from further get gets got had has have having he her here hers herself him himself his
how however i if in into is isn it its itself just let like may me might more most much must my myself
need no nor not now of off often on once one only or other our ours ourselves out over own per please
rather really same say says shall she should so some such than that the their theirs them themselves then
there these they this those through thus to too under until up upon us use used uses using very via was
we well were what when where whether which while who whom whose why will with within without would yes yet
you your yours yourself yourselves tell explain give show want know make makes made good best way ways
thing things something anything get getting kind kinds does do did done many several eg ie e g i e
""".split())

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*[A-Za-z0-9]|[A-Za-z]|\d+(?:\.\d+)?")
_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")
_SENT_SPLIT_RE = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\[(\"'`*]?[A-Z0-9`])")
_CITES_AFTER_STOP_RE = re.compile(r"([.!?][\"')]?)[ \t]*((?:\[[a-z]{2}-[0-9a-zA-Z]{4,16}\][ \t]*)+)[ \t]+(?=\S)")
_LEADING_CITES_RE = re.compile(r"^((?:\s*\[[a-z]{2}-[0-9a-zA-Z]{4,16}\])+)\s*")
_ABBREV_RE = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf|al|Fig|Dr|Eq|approx|resp|ca|no|Ref)\.$", re.IGNORECASE)

# Markdown / HTML noise removed from passages before sentences are taken from them.
_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK_RE = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_HTML_RE = re.compile(r"<[^>\n]{1,200}>")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s*")
_LIST_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_EMPH_RE = re.compile(r"(\*\*|__|\*(?=\S)|(?<=\S)\*)")
_ANCHOR_RE = re.compile(r"\{#[^}]*\}")
_FOOTNOTE_RE = re.compile(r"\[\^[^\]]*\]")


#: Latin/Greek plurals common in microscopy, mapped to their singular before stemming.
IRREGULAR = {"nuclei": "nucleus", "mitochondria": "mitochondrion", "indices": "index", "matrices": "matrix",
             "vertices": "vertex", "analyses": "analysis", "hypotheses": "hypothesis", "criteria": "criterion",
             "spectra": "spectrum", "maxima": "maximum", "minima": "minimum", "bacteria": "bacterium",
             "axes": "axis", "lumina": "lumen", "foci": "focus", "data": "data"}


def stem(word: str) -> str:
    """A small, stable suffix stripper ("segmentations" -> "segment", "denoising" -> "denois")."""
    w = IRREGULAR.get(word.lower(), word.lower())
    if len(w) <= 3 or not w.isalpha():
        return w
    for suffix, repl in (("ational", "ate"), ("ization", "ize"), ("isation", "ize"), ("ations", ""),
                         ("ation", ""), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"),
                         ("ements", ""), ("ement", ""), ("ments", ""), ("ment", ""), ("ities", ""),
                         ("ity", ""), ("ings", ""), ("ing", ""), ("ies", "y"), ("ied", "y"), ("sses", "ss"),
                         ("edly", ""), ("ed", ""), ("ly", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix == "s" and w.endswith(("ss", "us", "is")):
                return w
            w = w[: len(w) - len(suffix)] + repl
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


def words(text: str) -> list[str]:
    """Word tokens (letters/digits, inner ``_+-`` kept), original case."""
    return _WORD_RE.findall(LOOSE_CITATION_RE.sub(" ", text))


def content_words(text: str) -> list[str]:
    """Stemmed, lowercased content words of ``text`` (stopwords and citation keys removed)."""
    out = []
    for tok in words(text):
        low = tok.lower()
        if low in STOPWORDS or (len(low) < 2 and not low.isdigit()):
            continue
        out.append(stem(low))
    return out


def content_set(text: str) -> set[str]:
    return set(content_words(text))


def bigrams(stems: list[str]) -> set[tuple[str, str]]:
    return set(zip(stems, stems[1:], strict=False))


def numbers(text: str) -> set[str]:
    """Numbers written in ``text`` (citation keys excluded), normalised ("1,5" -> "1.5")."""
    return {n.replace(",", ".") for n in _NUMBER_RE.findall(LOOSE_CITATION_RE.sub(" ", text))}


def split_sentences(text: str) -> list[str]:
    """Split text into sentences; list items and lines are boundaries; citations stay with their sentence.

    A citation written after the full stop (``"... image. [bk-1234abcd] Next"``) belongs to the
    sentence before it, as does a citation alone on a line.
    """
    pieces: list[str] = []
    in_code = False
    text = _CITES_AFTER_STOP_RE.sub(lambda m: f"{m.group(1)} {m.group(2).strip()}\n", text)
    for raw_line in text.replace("\r\n", "\n").split("\n"):
        line = raw_line.strip()
        if line.startswith("```"):
            in_code = not in_code
            continue
        if not line:
            continue
        if in_code:
            pieces.append(line)
            continue
        line = _LIST_RE.sub("", line)
        parts = _SENT_SPLIT_RE.split(line)
        merged: list[str] = []
        for part in parts:
            if merged and _ABBREV_RE.search(merged[-1]):
                merged[-1] = f"{merged[-1]} {part}"
            else:
                merged.append(part)
        pieces.extend(p.strip() for p in merged if p.strip())
    out: list[str] = []
    for piece in pieces:
        m = _LEADING_CITES_RE.match(piece)
        if m and out:
            out[-1] = f"{out[-1]} {m.group(1).strip()}"
            piece = piece[m.end():].strip()
        if piece:
            out.append(piece)
    return out


def strip_citations(text: str) -> str:
    """``text`` without citation markers (well-formed or not) and the spaces they leave."""
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", LOOSE_CITATION_RE.sub("", text))).strip()


def clean_markdown(text: str) -> str:
    """Passage text for reading and sentence extraction: breadcrumbs, headings, links, HTML removed.

    Fenced code blocks are kept (with their fences) so that short code lines can still be quoted.
    """
    out: list[str] = []
    in_code = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip().startswith("```"):
            in_code = not in_code
            out.append(line.strip())
            continue
        if in_code:
            out.append(line.rstrip())
            continue
        if BREADCRUMB_SEP in line and len(line) < 300 and not line.rstrip().endswith((".", "?", "!")):
            continue
        if set(line.strip()) <= set("|-: ") and line.strip():
            continue  # table rule
        line = _IMAGE_RE.sub("", line)
        line = _LINK_RE.sub(r"\1", line)
        line = _HTML_RE.sub("", line)
        line = _ANCHOR_RE.sub("", line)
        line = _FOOTNOTE_RE.sub("", line)
        line = _HEADING_RE.sub("", line)
        line = _EMPH_RE.sub("", line)
        line = line.replace("|", " ").strip()
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(_unwrap(out))).strip()


_BLOCK_START_RE = re.compile(r"^(?:[-*+]\s|\d+[.)]\s|```|>)")


def _unwrap(lines: list[str]) -> list[str]:
    """Join hard-wrapped prose lines back into paragraphs (list items, code and blank lines stay)."""
    out: list[str] = []
    in_code = False
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
            out.append(line)
            continue
        prev = out[-1] if out else ""
        if (not in_code and line and prev and not prev.startswith("```") and not _BLOCK_START_RE.match(line)
                and not prev.rstrip().endswith((":", ".", "!", "?")) and len(prev) >= 40):
            out[-1] = f"{prev.rstrip()} {line.lstrip()}"
        else:
            out.append(line)
    return out


def is_heading_like(sentence: str) -> bool:
    """Short lines without a verb-ish ending: titles, labels, table cells."""
    return len(words(sentence)) < 5 and not sentence.rstrip().endswith((".", "?", "!", ":"))


_ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
#: A list joined to the sentence that introduces it is kept when its items are this short.
MAX_ITEM = 80
MAX_JOINED = 400


def join_short_lists(lines: list[str]) -> list[str]:
    """A sentence ending in ":" followed by a list of short items ("For example:" / "- increase laser
    power" / "- use binning") becomes one sentence, the items joined by semicolons: alone, the items are
    too short to quote and the introduction says nothing. Lists of long items are left as they are."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.rstrip().endswith(":"):
            out.append(line)
            i += 1
            continue
        items: list[str] = []
        j = i + 1
        while j < len(lines):
            text = lines[j].strip()
            m = _ITEM_RE.match(lines[j])
            if m:
                items.append(m.group(1).strip().rstrip(".;,"))
            elif text and not (text.startswith("(") and text.endswith(")")):
                break  # a parenthesis between items belongs to the item before it
            j += 1
        head, sep, tail = line.rstrip().rpartition(". ")
        intro = f"{head}, {tail[:1].lower()}{tail[1:]}" if sep and len(tail) < 25 else line.rstrip()
        joined = f"{intro} {'; '.join(items)}."  # "... settings, for example: more light; binning."
        if len(items) >= 2 and all(len(t) <= MAX_ITEM and ". " not in t for t in items) and \
                len(joined) - len(line) <= MAX_JOINED:
            out.append(joined)
            i = j
        else:
            out.append(line)
            i += 1
    return out


#: A list item left without a full stop is quoted as a statement when it has at least this many words
#: ("`total` tracks how much of the tagged protein one cell holds"); shorter ones are labels.
MIN_ITEM_WORDS = 6


def close_list_items(lines: list[str]) -> list[str]:
    """List items written without a full stop ("- `average` follows how concentrated the protein is") end
    with one, so that a statement made as a list item can be quoted like a sentence; short items (labels, values)
    and items that end in a colon, a comma or other punctuation are left as they are."""
    out = []
    for line in lines:
        m = _ITEM_RE.match(line)
        text = m.group(1).rstrip() if m else ""
        if text and (text[-1].isalnum() or text.endswith(("`", ")"))) and len(words(text)) >= MIN_ITEM_WORDS:
            line = f"{line.rstrip()}."
        out.append(line)
    return out
