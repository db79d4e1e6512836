"""The tool catalog: one :class:`ToolRecord` per distinct tool, built from the index's registry chunks.

BIII entries and awesome-list entries with the same normalised name are merged (all links kept);
Model Zoo resources become their own records (``bmz:<id>``), except Zoo *applications* whose name
matches a registry tool, which are merged into that tool. Every recommendation is drawn from this
catalog, so scopebot can only ever name tools that are in the index.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from scopebot.index.models import Chunk
from scopebot.tools.models import ToolRecord

if TYPE_CHECKING:
    from scopebot.index.protocols import Retriever
    from scopebot.tools.modelzoo import ModelZooCatalog

#: Source ids whose registry chunks describe tools (the NFDI4BIOIMAGE index is training material).
TOOL_SOURCES: tuple[str, ...] = ("biii", "awesome-bioimage", "bioimage-model-zoo")
TOOL_KINDS: tuple[str, ...] = ("registry", "model-zoo")

_SUFFIX = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_3D = re.compile(r"\b(?:3-?d|three[- ]dimension\w*|volum\w*|z-?stacks?|tomogra\w*)", re.IGNORECASE)
_2D = re.compile(r"\b(?:2-?d|two[- ]dimension\w*)\b", re.IGNORECASE)
_PLATFORM_NAMES = {"fiji": "Fiji", "imagej": "Fiji", "imagej2": "Fiji", "imagej1": "Fiji", "napari": "napari",
                   "icy": "Icy", "cellprofiler": "CellProfiler", "qupath": "QuPath", "matlab": "MATLAB",
                   "knime": "KNIME", "ebimage": "R", "r": "R", "python": "Python", "ilastik": "ilastik"}
_GUI_WORDS = re.compile(r"\bgui\b|graphical|user[- ]friendly|interactive|desktop|point[- ]and[- ]click|"
                        r"\bviewer\b|\bapplication\b|standalone|stand-alone", re.IGNORECASE)
_OPEN_LICENSES = re.compile(r"\b(?:gpl|lgpl|agpl|mit|bsd|apache|mpl|cc[- ]?by|cc0|epl|public domain|"
                            r"open[- ]source|unlicense|isc|zlib|artistic)", re.IGNORECASE)


def normalise_name(name: str) -> str:
    """Identity of a tool name: case, accents, punctuation and '(EBImage)'-style suffixes ignored."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    text = text.strip()
    while True:
        stripped = _SUFFIX.sub("", text)
        if stripped == text or not stripped:
            break
        text = stripped
    return _NON_ALNUM.sub("", text.lower())


def core_name(name: str) -> str:
    """The name without variants: 'Noise2Void (2D) - ZeroCostDL4Mic' -> 'Noise2Void'."""
    head = re.split(r"\s+[-–—:]\s+", name.strip())[0]
    head = re.sub(r"\s*[\(\[][^\)\]]*[\)\]]", "", head).strip()
    return head or name.strip()


def is_open_license(license_text: str) -> bool | None:
    """True for a recognisably open licence, False for a stated proprietary one, None if unknown."""
    if not license_text:
        return None
    if _OPEN_LICENSES.search(license_text):
        return True
    if re.search(r"proprietar|commercial|closed", license_text, re.IGNORECASE):
        return False
    return None


def guess_interface(rec: ToolRecord) -> tuple[str, str]:
    """``(interface, platform)`` of a record whose registry did not say (e.g. awesome-list entries).

    Uses the registry parsers' wording rules, but answers "" (unknown) instead of their default
    "gui" when nothing in the text suggests a graphical application.
    """
    tags = set(rec.tags)
    if rec.kind in ("application", "notebook") and tags & {"notebook", "colab", "jupyter"}:
        return "script", ""
    if rec.kind not in ("tool", "application"):
        return "", ""
    try:
        from scopebot.sources.parsers.biii_infer import infer_interface
    except ImportError:  # pragma: no cover - the parsers are part of scopebot
        return ("plugin", rec.platform) if rec.platform else ("", "")
    interface, platform = infer_interface(rec.name, rec.description, rec.requires)
    if interface == "gui" and not platform and not _GUI_WORDS.search(f"{rec.name} {rec.description}"):
        return "", ""
    return interface, platform


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [str(v) for v in value.values() if v]
    out: list[str] = []
    for v in value:
        if isinstance(v, dict):
            label = v.get("name") or v.get("label") or v.get("text") or v.get("doi") or v.get("url")
            if label:
                out.append(str(label))
        elif v:
            out.append(str(v))
    return out


def _extend(target: list[str], values: Iterable[str]) -> None:
    for v in values:
        if v and v not in target:
            target.append(v)


def _text_dims(text: str) -> list[str]:
    dims = []
    if _2D.search(text):
        dims.append("2d")
    if _3D.search(text):
        dims.append("3d")
    return dims


class ToolCatalog:
    """All tools of the index, keyed by normalised identity."""

    def __init__(self, records: Iterable[ToolRecord]) -> None:
        self.records: dict[str, ToolRecord] = {}
        self._by_chunk: dict[str, str] = {}
        self._by_name: dict[str, str] = {}
        for rec in records:
            self.records[rec.id] = rec
        self._reindex()

    def _reindex(self) -> None:
        self._by_chunk = {key: rid for rid, rec in self.records.items() for key in rec.chunk_keys}
        self._by_name = {}
        for rid, rec in self.records.items():
            self._by_name.setdefault(normalise_name(rec.name), rid)

    # ---- construction ---------------------------------------------------------------------------
    @classmethod
    def from_chunks(cls, chunks: Iterable[Chunk], *, tool_sources: Sequence[str] = TOOL_SOURCES,
                    model_zoo: ModelZooCatalog | None = None) -> ToolCatalog:
        """Group tool chunks into records; enrich Model Zoo records from the raw catalog if given."""
        records: dict[str, ToolRecord] = {}
        for chunk in chunks:
            if chunk.kind not in TOOL_KINDS:
                continue
            if chunk.kind == "registry" and chunk.source_id not in tool_sources:
                continue
            meta = chunk.metadata or {}
            name = str(meta.get("name") or chunk.title or "").strip()
            if not name or not normalise_name(name):
                continue
            is_zoo = chunk.kind == "model-zoo" or chunk.source_id == "bioimage-model-zoo"
            rtype = str(meta.get("resource_type") or "model").lower() if is_zoo else "tool"
            if is_zoo and rtype != "application":
                rid = f"bmz:{meta.get('bioimageio_id') or normalise_name(name)}"
            else:
                rid = normalise_name(name)
            rec = records.get(rid)
            if rec is None:
                rec = ToolRecord(id=rid, name=name, kind=rtype)
                records[rid] = rec
            cls._merge_chunk(rec, chunk, is_zoo)
        catalog = cls(records.values())
        for rec in catalog.records.values():
            rec.dims = rec.dims or _text_dims(rec.search_text())
            if not rec.interface:
                rec.interface, platform = guess_interface(rec)
                rec.platform = rec.platform or platform
        if model_zoo is not None:
            model_zoo.enrich(catalog.records.values())
        return catalog

    @classmethod
    def from_retriever(cls, retriever: Retriever, *, tool_sources: Sequence[str] = TOOL_SOURCES,
                       model_zoo: ModelZooCatalog | None = None) -> ToolCatalog:
        return cls.from_chunks(retriever.iter_chunks(list(TOOL_KINDS)), tool_sources=tool_sources,
                               model_zoo=model_zoo)

    @staticmethod
    def _merge_chunk(rec: ToolRecord, chunk: Chunk, is_zoo: bool) -> None:
        meta = chunk.metadata or {}
        _extend(rec.sources, [chunk.source_id])
        _extend(rec.chunk_keys, [chunk.key])
        if rec.kind != "tool" and not is_zoo:
            rec.kind = "tool"  # a registry entry makes a merged Zoo application a tool
        desc = str(meta.get("description") or "").strip() or chunk.body.strip()
        if desc and desc not in rec.description:
            rec.description = (rec.description + " " + desc).strip() if rec.description else desc
        _extend(rec.edam_operations, _as_list(meta.get("edam_operations")))
        _extend(rec.edam_topics, _as_list(meta.get("edam_topics")))
        _extend(rec.tags, [t.lower() for t in _as_list(meta.get("tags"))])
        _extend(rec.requires, _as_list(meta.get("requires")))
        _extend(rec.publications, _as_list(meta.get("publications")))
        _extend(rec.authors, _as_list(meta.get("authors")))
        rec.license = rec.license or str(meta.get("license") or "")
        rec.tool_type = rec.tool_type or str(meta.get("tool_type") or "")
        rec.category = rec.category or str(meta.get("category") or "")
        interface = str(meta.get("interface") or "")
        if interface and (not rec.interface or rec.interface == "library" and interface == "gui"):
            rec.interface = interface
        platform = str(meta.get("platform") or "")
        if not platform:
            for req in rec.requires:
                platform = _PLATFORM_NAMES.get(normalise_name(req), "")
                if platform:
                    break
        rec.platform = rec.platform or platform
        urls = _as_list(meta.get("urls")) + _as_list(meta.get("links"))
        homepage = str(meta.get("homepage") or "")
        if chunk.source_id == "biii" and chunk.url:
            rec.links.setdefault("biii", chunk.url)
        elif chunk.source_id == "awesome-bioimage" and chunk.url and not homepage:
            homepage = chunk.url
        if is_zoo:
            rec.bioimageio_id = rec.bioimageio_id or str(meta.get("bioimageio_id") or "")
            rec.status = rec.status or str(meta.get("status") or "")
            rec.validation = rec.validation or str(meta.get("validation") or "")
            if chunk.url:
                rec.links.setdefault("bioimage.io" if "bioimage.io" in chunk.url else "page", chunk.url)
            for key in ("git_repo", "documentation"):
                value = meta.get(key)
                if isinstance(value, str) and value.startswith("http"):
                    rec.links.setdefault(key, value)
            if not rec.interface:
                rec.interface = "model" if rec.kind == "model" else ""
        if homepage:
            rec.links.setdefault("homepage", homepage)
        _extend(rec.urls, [u for u in urls if isinstance(u, str) and u.startswith("http")])

    # ---- lookup ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.records.values())

    def get(self, record_id: str) -> ToolRecord | None:
        return self.records.get(record_id)

    def for_chunk(self, key: str) -> ToolRecord | None:
        """The record a retrieved chunk belongs to."""
        rid = self._by_chunk.get(key)
        return self.records.get(rid) if rid else None

    def by_name(self, name: str) -> ToolRecord | None:
        """The record whose normalised name equals ``name``'s."""
        rid = self._by_name.get(normalise_name(name))
        return self.records.get(rid) if rid else None

    def names(self) -> set[str]:
        return {rec.name for rec in self.records.values()}

    def vocabulary(self) -> set[str]:
        """Every word of every record (to tell unknown words from gibberish)."""
        vocab: set[str] = set()
        for rec in self.records.values():
            vocab.update(re.findall(r"[a-z0-9]+", rec.search_text()))
        return vocab

    def distinctive_names(self, max_share: float = 0.02) -> dict[str, str]:
        """Record id -> lower-cased name, for names specific enough to be counted in free text.

        A name is distinctive when it has a word of at least 4 letters that is rare in the
        catalog's texts (in at most ``max_share`` of the records): 'Cellpose' is, 'Cell
        segmentation' is not.
        """
        df: dict[str, int] = {}
        for rec in self.records.values():
            for word in set(re.findall(r"[a-z0-9]+", rec.search_text())):
                df[word] = df.get(word, 0) + 1
        limit = max(2, int(max_share * len(self.records)))
        out: dict[str, str] = {}
        for rid, rec in self.records.items():
            words = re.findall(r"[a-z0-9]+", core_name(rec.name).lower())
            if words and any(len(w) >= 4 and df.get(w, 0) <= limit for w in words):
                out[rid] = " ".join(words)
        return out

    def mentions(self, chunks: Iterable[Chunk]) -> dict[str, list[Chunk]]:
        """The ``chunks`` (book, training) that mention each distinctive record's core name.

        One pass over the chunks: a chunk is checked for a name only when it contains the name's
        first word, then the whole name is looked for as a word sequence.
        """
        names = self.distinctive_names()
        by_first: dict[str, list[tuple[str, str]]] = {}
        for rid, name in names.items():
            by_first.setdefault(name.split(" ")[0], []).append((rid, name))
        found: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            words = re.findall(r"[a-z0-9]+", chunk.body.lower())
            hits = by_first.keys() & set(words)
            if not hits:
                continue
            joined = f" {' '.join(words)} "
            for first in hits:
                for rid, name in by_first[first]:
                    if f" {name} " in joined:
                        found.setdefault(rid, []).append(chunk)
        return found

    def required_by_counts(self) -> dict[str, int]:
        """How many records name each record in ``requires`` (a host/hub prior)."""
        counts: dict[str, int] = {}
        for rec in self.records.values():
            for req in rec.requires:
                target = self._by_name.get(normalise_name(req))
                if target and target != rec.id:
                    counts[target] = counts.get(target, 0) + 1
        return counts
