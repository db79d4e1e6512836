"""Lexical retrieval with BM25 (``bm25s``), tokenised with stop-words and a light stemmer.

The index is built and saved with ``bm25s``. At query time the saved score matrix (CSC arrays and
vocabulary) is read with numpy alone (:class:`SavedBM25`): the same scores and the same top-k
selection as ``bm25s``, without importing it (and scipy), which costs a CLI process about 0.5 s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves also use using used get want need way ways one""".split())


def _stem(tok: str) -> str:
    """A small suffix stripper: good enough to match denoise/denoising, nuclei/nucleus, cells/cell."""
    if len(tok) <= 4 or tok.isdigit():
        return tok
    for suf, rep in (("ational", "ate"), ("ization", "ize"), ("isation", "ize"), ("ements", "e"),
                     ("ement", "e"), ("ments", ""), ("ment", ""), ("nesses", ""), ("ness", ""),
                     ("ings", ""), ("ing", ""), ("ations", "ate"), ("ation", "ate"), ("ities", ""),
                     ("ity", ""), ("ies", "y"), ("ied", "y"), ("edly", ""), ("ed", ""), ("ers", ""),
                     ("er", ""), ("ly", ""), ("es", ""), ("us", ""), ("ei", ""), ("s", "")):
        if tok.endswith(suf) and len(tok) - len(suf) >= 3:
            tok = tok[: len(tok) - len(suf)] + rep
            break
    if tok.endswith("e") and len(tok) > 4:
        tok = tok[:-1]
    return tok


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens without stop-words, stemmed; dotted names also kept whole."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if "." in tok or "_" in tok or "-" in tok:
            out.append(tok)
            parts = re.split(r"[-_.]", tok)
        else:
            parts = [tok]
        out.extend(_stem(p) for p in parts if p and p not in STOPWORDS)
    return out


class LexicalIndex:
    """BM25 over the chunk texts, persisted with ``bm25s``; ids map row numbers to chunk keys."""

    def __init__(self, model: object, ids: list[str]) -> None:
        self._model = model
        self.ids = ids

    @classmethod
    def build(cls, keys: Sequence[str], texts: Sequence[str]) -> LexicalIndex:
        if not texts:
            return cls(None, [])
        import bm25s

        model = bm25s.BM25(k1=1.2, b=0.75)
        corpus = [tokenize(t) or ["_empty_"] for t in texts]
        model.index(corpus, show_progress=False)
        return cls(model, list(keys))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self._model is not None:
            self._model.save(str(directory))  # type: ignore[attr-defined]
        (directory / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        ids = json.loads((directory / "ids.json").read_text(encoding="utf-8"))
        if not ids:
            return cls(None, [])
        saved = SavedBM25.load(directory)
        if saved is not None:
            return cls(saved, ids)
        import bm25s

        return cls(bm25s.BM25.load(str(directory)), ids)

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """Top ``n`` (key, score) pairs with a positive score."""
        toks = tokenize(query)
        if not toks or not self.ids or self._model is None:
            return []
        n = min(n, len(self.ids))
        vocab = getattr(self._model, "vocab_dict", None)
        if vocab is not None:
            toks = [t for t in toks if t in vocab]
            if not toks:
                return []
        docs, scores = self._model.retrieve([toks], k=n, show_progress=False, n_threads=1)  # type: ignore[attr-defined]
        out: list[tuple[str, float]] = []
        for idx, score in zip(np.asarray(docs)[0], np.asarray(scores)[0], strict=False):
            if score > 0:
                out.append((self.ids[int(idx)], float(score)))
        return out


class SavedBM25:
    """A ``bm25s`` index read from its saved arrays, scored with numpy (eager BM25: the per-token
    document scores are precomputed, so a query sums one sparse column per query token)."""

    FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "vocab.index.json",
             "params.index.json")

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, vocab: dict[str, int],
                 num_docs: int, dtype: str = "float32") -> None:
        self.data, self.indices, self.indptr = data, indices, indptr
        self.vocab_dict = vocab
        self.num_docs = num_docs
        self.dtype = np.dtype(dtype)

    @classmethod
    def load(cls, directory: Path) -> SavedBM25 | None:
        """None when the files are not the format this reader knows (then ``bm25s`` loads them)."""
        if not all((directory / f).is_file() for f in cls.FILES):
            return None
        params = json.loads((directory / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") not in ("lucene", "robertson", "atire") or \
                (directory / "nonoccurrence_array.index.npy").is_file():
            return None  # bm25l / bm25+ add a non-occurrence term: leave those to bm25s
        arrays = [np.load(directory / f, allow_pickle=False) for f in cls.FILES[:3]]
        vocab = json.loads((directory / "vocab.index.json").read_text(encoding="utf-8"))
        return cls(*arrays, vocab=vocab, num_docs=int(params["num_docs"]), dtype=params.get("dtype", "float32"))

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        ids = [self.vocab_dict[t] for t in tokens if t in self.vocab_dict]
        out = np.zeros(self.num_docs, dtype=self.dtype)
        for t in ids:  # in query order, duplicates counted, as bm25s does
            start, end = int(self.indptr[t]), int(self.indptr[t + 1])
            out[self.indices[start:end]] += self.data[start:end]  # rows of one column are distinct
        return out

    def retrieve(self, queries: list[list[str]], k: int, **_: object) -> tuple[np.ndarray, np.ndarray]:
        """``bm25s.BM25.retrieve`` for one query: (documents, scores), each of shape (1, k), best first."""
        scores = self.scores(queries[0])
        top = np.argpartition(scores, -k).take(indices=range(-k, 0))
        picked = np.take(scores, top)
        order = np.flip(np.argsort(picked))
        return top[order][None, :], picked[order][None, :]
