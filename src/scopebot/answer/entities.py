"""Check 3 — invented entities: tool, plugin, model, package and function names that exist nowhere.

Names are found with a few patterns (each written by us):

* dotted Python names whose first part is a Python package or a common alias
  (``skimage.filters.threshold_otsu``, ``np.mean``) — resolved by import for an allowlist of
  well-behaved packages (:func:`scopebot.code.checks.name_status`), never imported otherwise;
* CamelCase or letter+digit words (``TrackMate``, ``Noise2Void``, ``CellMagic3000``);
* names in quotes (``"AutoNucleiPro 3D"``);
* capitalised words before "plugin", "workflow", "detector", "model", ... (``Quantum Carving plugin``).

A name is known when it occurs in a context passage, in the tool catalog (BIII, awesome list, Model
Zoo), in a short list of well-known bioimage software, or (functions) when it resolves in the
installed packages. Everything else is reported as possibly invented. Usable alone on any text.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from scopebot.answer.inventory import Inventory, default_inventory
from scopebot.citations import LOOSE_CITATION_RE

if TYPE_CHECKING:
    from scopebot.index.protocols import Retriever

EntityKind = Literal["function", "tool", "version", "person", "api", "chapter"]
Status = Literal["exists", "missing", "unverifiable"]

#: Bioimage software every answer may name without a passage (our own list of real, major tools).
WELL_KNOWN = frozenset("""
fiji imagej imagej2 napari cellprofiler cellprofileranalyst qupath ilastik icy trackmate stardist cellpose
noise2void noise2noise care csbdeep deepimagej zerocostdl4mic biaflows bioimageio omero bioformats
bigdataviewer bigstitcher morpholibj labkit mastodon elastix bigwarp clij clij2 pyclesperanto scikitimage
skimage scipy numpy pandas matplotlib python jupyter github pytorch tensorflow keras opencv matlab knime
unet plantseg embedseg splinedist microsam segmentanything sam imaris arivis zen nis labview
deepcell mesmer weka trainablewekasegmentation cellpose2 cellpose3 stardist2d stardist3d tifffile zarr
omezarr ometiff n5 hdf5 ngff cellxgene anaconda conda pip huggingface colab googlecolab chatgpt
hela log dog lapl gfp egfp mcherry dapi hoechst youtube phd macos ios iphone javascript powerpoint openai
python3 bioimageanalysis bioimagearchive imagesc neubias gloBIAS eurobioimaging
""".lower().split())

#: First parts of dotted names that are Python packages (or the usual aliases of one).
PY_ALIASES = {"np": "numpy", "ndi": "scipy.ndimage", "plt": "matplotlib.pyplot", "pd": "pandas",
              "sk": "skimage", "tf": "tensorflow", "cle": "pyclesperanto_prototype"}
PY_ROOTS = frozenset({"numpy", "scipy", "skimage", "pandas", "matplotlib", "tifffile", "imageio", "napari",
                      "cellpose", "stardist", "csbdeep", "n2v", "torch", "tensorflow", "keras", "sklearn", "cv2",
                      "PIL", "aicsimageio", "bioio", "zarr", "h5py", "dask", "xarray", "pyclesperanto",
                      "pyclesperanto_prototype", "apoc", "btrack", "trackpy", "seaborn", "math", "os", "pathlib",
                      "statistics", "bioimageio", "micro_sam", "plantseg", "nd2", "czifile", "readlif", "ome_zarr"})

_FILE_EXT = frozenset("tif tiff png jpg jpeg gif czi nd2 lif lsm oib oir ims py ipynb md csv tsv h5 hdf5 zarr json "
                      "yaml yml txt ome xml html pdf com org eu io net de fr uk edu gov zip gz ijm bat sh exe".split())
_DOTTED_RE = re.compile(r"(?<![\w./-])([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)(?![\w/-])")
_CAMEL_RE = re.compile(r"(?<![\w.-])([A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+|[A-Za-z]{2,}\d+[A-Za-z][A-Za-z0-9]*|[A-Za-z]{2,}\d{2,}|"
                       r"[A-Z][a-z]+\d{2,})(?![\w-])")
#: A measure's acronym and a threshold in percent ("AP50", "mAP75"); a microscope's model ("BX51") is no measure.
_METRIC_AT_RE = re.compile(r"m?([A-Z]{2,4})(\d{2})")


def metric_acronym(name: str) -> str | None:
    """The measure's acronym when ``name`` writes a measure at a threshold in percent, a multiple of 5
    ("AP50" -> "AP": average precision at IoU 0.50); None otherwise ("BX51", "IX83": instruments)."""
    m = _METRIC_AT_RE.fullmatch(name)
    return m.group(1) if m and int(m.group(2)) % 5 == 0 else None
_QUOTED_RE = re.compile(r"(?<!\w)[\"“”']([A-Z][\w\-+. ]{1,40}?|[a-z0-9][\w+. ]*[-\d][\w\-+. ]*?)[\"“”'](?!\w)")
_VERSION_RE = re.compile(r"\b([A-Z][\w\-+]*)\s+(?:version\s+|v\.?\s?)(\d+(?:\.\d+)*)\b")
_PERSON_RE = re.compile(r"\b(?:(?:Dr|Prof|Professor)\.?\s+([A-Z][a-z]+(?:-[A-Z][a-z]+)?)|"
                        r"(?:the\s+)?([A-Z][a-z]+)\s+(?:lab|laboratory|group)\b)")
_HEAD_RE = re.compile(r"(?<![\w.])((?:[A-Z][\w\-+]*\s+){1,3})(?:plugin|plug-in|workflow|detector|model|package|library|"
                      r"toolbox|macro|extension|algorithm|module|add-on|software|tool|network)s?\b")
_NOT_NAMES = frozenset("the a an this that these those my your our their its his her use using with for in on of to "
                       "and or if when what which how why is are can new".split())
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
#: A call or attribute path in code style: ``viewer.add_labels()``, ``Roi.getBounds``, ``add_image()``.
_API_RE = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\(\s*\)|"
                     r"(?<![\w.])([A-Za-z_]\w*\.(?:[A-Za-z_]\w*\.)*[a-z]+[A-Z_]\w*)(?![\w(])")
_MODEL_ID_RE = re.compile(r"(?<![\w.])([23]D_[A-Za-z0-9_]+)\b")
_CHAPTER_RE = re.compile(r"\bchapter\s+(\d{1,3})\b", re.IGNORECASE)
_TOKEN_RE = re.compile(r"[a-z0-9]+")


class NameIndex:
    """Whole-name lookups in a text: a name is found when its words occur there as consecutive whole
    tokens ("Cell segmentation" does not contain "CellSeg"; "StarDist 2D" contains "StarDist2D")."""

    MAX_PARTS = 6

    def __init__(self, text: str = "") -> None:
        toks = _TOKEN_RE.findall(text.lower())
        self.grams: set[str] = set()
        for i in range(len(toks)):
            joined = ""
            for j in range(i, min(len(toks), i + self.MAX_PARTS)):
                joined += toks[j]
                self.grams.add(joined)

    def __contains__(self, name: object) -> bool:
        key = norm(str(name))
        return bool(key) and key in self.grams

    def __bool__(self) -> bool:
        return bool(self.grams)


def norm(text: str) -> str:
    """Identity of a name for comparisons: lowercase letters and digits only."""
    return _NON_ALNUM.sub("", text.lower())


#: Code identifiers in passages: dotted paths and snake_case / camelCase words.
_IDENT_RE = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\b[a-z]+_[a-z0-9_]+\b|\b[a-z]+[A-Z]\w*")


class Entity(BaseModel):
    name: str
    kind: EntityKind


class EntityReport(BaseModel):
    """Result of :meth:`EntityChecker.check`."""

    known: list[str] = Field(default_factory=list)
    unknown: list[str] = Field(default_factory=list)
    unverifiable: list[str] = Field(default_factory=list)


def _default_name_status(name: str) -> Status:
    try:
        from scopebot.code.checks import name_status
    except ImportError:  # pragma: no cover - the code area is absent
        root = name.split(".")[0]
        try:
            return "unverifiable" if importlib.util.find_spec(root) else "missing"
        except (ImportError, ValueError):
            return "missing"
    return name_status(name)


def find_entities(text: str) -> list[Entity]:
    """Candidate tool/plugin/model/function names in ``text``, in order, without duplicates."""
    text = LOOSE_CITATION_RE.sub(" ", text)
    found: dict[str, Entity] = {}
    for m in _DOTTED_RE.finditer(text):
        name = m.group(1)
        parts = name.split(".")
        root = parts[0]
        if parts[-1].lower() in _FILE_EXT or name.lower() in {"e.g", "i.e", "et.al"} or len(parts[0]) == 1:
            continue
        if root in PY_ALIASES or root in PY_ROOTS:
            found.setdefault(norm(name), Entity(name=name, kind="function"))
    for m in _API_RE.finditer(text):
        name = m.group(1) or m.group(2)
        key = norm(name)
        parts = name.split(".")
        if key in found or len(key) < 4 or parts[-1].lower() in _FILE_EXT or name.lower() in {"e.g", "i.e"}:
            continue
        if m.group(1) and len(parts) == 1 and "_" not in name and not re.search(r"[a-z][A-Z]", name):
            continue  # "(see above)", "print()": a plain word before brackets is no API name
        found[key] = Entity(name=name, kind="api")
    for m in _MODEL_ID_RE.finditer(text):  # "2D_versatile_fluo": a pretrained model's registered name
        found.setdefault(norm(m.group(1)), Entity(name=m.group(1), kind="api"))
    for m in _CHAPTER_RE.finditer(text):
        found.setdefault(f"chapter{m.group(1)}", Entity(name=f"chapter {m.group(1)}", kind="chapter"))
    for m in _VERSION_RE.finditer(text):
        found.setdefault(norm(m.group(0)), Entity(name=m.group(0), kind="version"))
    for m in _PERSON_RE.finditer(text):
        person = m.group(1) or m.group(2)
        if person.lower() in _NOT_NAMES:  # "Our lab", "My group": a determiner, not a head of lab
            continue
        found.setdefault(norm(person), Entity(name=person, kind="person"))
    for pattern in (_QUOTED_RE, _HEAD_RE, _CAMEL_RE):
        for m in pattern.finditer(text):
            name = m.group(1).strip().strip(".")
            words = [w for w in name.split() if w.lower() not in _NOT_NAMES]
            name = " ".join(words)
            if len(norm(name)) < 3 or re.fullmatch(r"\d+[a-zA-Z]?|[0-9]+[dD]", name):
                continue
            key = norm(name)
            if any(key in k or k in key for k in found):
                continue
            found[key] = Entity(name=name, kind="tool")
    return list(found.values())


class EntityChecker:
    """Tells known names from possibly invented ones.

    ``names``: known tool names (e.g. the tool catalog's); ``name_status``: how dotted Python names
    are resolved (default: :func:`scopebot.code.checks.name_status`, by import on an allowlist).
    """

    def __init__(self, names: Iterable[str] = (), *, name_status: Callable[[str], Status] | None = None,
                 well_known: Iterable[str] = WELL_KNOWN, inventory: Inventory | None = None,
                 identifiers: Iterable[str] = (), chapters: Iterable[int] = ()) -> None:
        self.inventory = inventory if inventory is not None else default_inventory()
        self.names = {norm(n) for n in names if norm(n)} | {norm(n) for n in well_known} | \
            {norm(n) for n in self.inventory.pipeline_modules}
        self.name_status = name_status or _default_name_status
        #: code identifiers the corpus uses (``add_labels``, ``Roi.getBounds``), exact spelling
        self.identifiers = set(identifiers)
        self.chapters = set(chapters)

    @classmethod
    def from_retriever(cls, retriever: Retriever, **kwargs: object) -> EntityChecker:
        """A checker knowing every tool of the index's catalog (BIII, awesome list, Model Zoo)."""
        from scopebot.tools.catalog import ToolCatalog

        catalog = ToolCatalog.from_retriever(retriever)
        identifiers: set[str] = set()
        chapters: set[int] = set()
        iter_chunks = getattr(retriever, "iter_chunks", None)
        if iter_chunks is not None:
            for chunk in iter_chunks():
                identifiers.update(m.group(0).rstrip(".") for m in _IDENT_RE.finditer(chunk.text))
                if chunk.kind == "book":
                    m = re.match(r"(\d{1,3})\s", chunk.title)
                    if m:
                        chapters.add(int(m.group(1)))
        kwargs.setdefault("identifiers", identifiers)
        kwargs.setdefault("chapters", chapters)
        return cls(catalog.names(), **kwargs)  # type: ignore[arg-type]

    def status(self, entity: Entity, context: NameIndex | str = "") -> Status:
        """``exists`` (known), ``missing`` (possibly invented) or ``unverifiable``.

        ``context`` is the text of the passages (or its :class:`NameIndex`): a name found there as
        whole words is known.
        """
        context_index = context if isinstance(context, NameIndex) else NameIndex(context)
        key = norm(entity.name)
        if entity.kind == "chapter":
            number = int(entity.name.split()[-1])
            return "exists" if not self.chapters or number in self.chapters else "missing"
        if entity.kind == "api":
            return self._api_status(entity.name, context_index)
        if key and entity.name in context_index:
            return "exists"
        if entity.kind == "function":
            root = entity.name.split(".")[0]
            if root in self.inventory.packages:
                return "exists" if self.inventory.knows(entity.name) else "missing"
            parts = entity.name.split(".")
            alias = PY_ALIASES.get(parts[0])
            full = ".".join([alias, *parts[1:]]) if alias else entity.name
            return self.name_status(full)
        if entity.kind == "version":  # "Cellpose version 9" is known if a passage says "Cellpose 9"
            short = norm(re.sub(r"\b(?:version|v\.?)\s*(?=\d)", "", entity.name, flags=re.IGNORECASE))
            return "exists" if short in context_index else "missing"
        if entity.kind == "person":  # only a source that names them can answer
            return "missing"
        if key in self.names:
            return "exists"
        words = [norm(w) for w in re.split(r"[\s\-]+", entity.name) if norm(w)]
        # "TrackMate LoG detector" is known when its distinctive word is; "Quantum Carving" is not.
        if len(words) > 1 and all(w in self.names or w in context_index or len(w) <= 2 or w.isdigit()
                                  for w in words):
            return "exists"
        return "missing"

    def _api_status(self, name: str, context: NameIndex) -> Status:
        """A code-style name: known when an inventory, the installed packages or the corpus has it."""
        parts = name.split(".")
        alias = PY_ALIASES.get(parts[0])
        full = ".".join([alias, *parts[1:]]) if alias else name
        if self.inventory.knows(full) or name in self.identifiers or parts[-1] in self.identifiers:
            return "exists"
        if len(parts) > 1 and (parts[0] in PY_ROOTS or alias):
            return self.name_status(full)
        if name in context and parts[-1] in context:
            return "exists"
        return "missing"

    def check(self, text: str, context: Iterable[str] = ()) -> EntityReport:
        """Classify every name in ``text`` against the context passages and the known names."""
        context_index = NameIndex(" ".join(context))
        report = EntityReport()
        for entity in find_entities(text):
            status = self.status(entity, context_index)
            bucket = {"exists": report.known, "missing": report.unknown, "unverifiable": report.unverifiable}[status]
            bucket.append(entity.name)
        return report
