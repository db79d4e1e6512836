"""Understanding a tool request with rules and a small lexicon (no model needed, fully deterministic).

The parser finds the *task* (mapped to EDAM-Bioimaging operation labels, the vocabulary BIII uses),
the *object* (nuclei, cells, ...), the *modality* (mapped to EDAM topic labels), the dimensionality,
the interface the user can work with, named host platforms and the "open source" constraint. Each
lexicon entry is a list of regular expressions matched on word boundaries of the lower-cased text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scopebot.answer.text import STOPWORDS as BASE_STOPWORDS
from scopebot.errors import ConfigurationError
from scopebot.tools.models import Dims, Interface, ParsedRequest


@dataclass(frozen=True)
class Concept:
    """A lexicon entry: how users say it, and the vocabulary it maps to in the registries."""

    name: str
    patterns: tuple[str, ...]
    edam: tuple[str, ...] = ()
    words: tuple[str, ...] = field(default=())  # words/tags to look for in descriptions

    def compiled(self) -> re.Pattern[str]:
        return re.compile(r"\b(?:" + "|".join(self.patterns) + r")", re.IGNORECASE)


TASKS: tuple[Concept, ...] = (
    Concept("segmentation", (r"segment\w*", r"mask(?:s|ing)?\b", r"delineat\w*", r"outlin\w*",
                             r"boundar(?:y|ies)", r"contour\w*", r"instance seg\w*", r"label(?:l)?ing objects"),
            ("Image segmentation", "Cell segmentation", "Interactive segmentation", "Image thresholding",
             "Watershed", "Active contours", "Pixel classification", "Local thresholding"),
            ("segment", "segmentation", "instance-segmentation", "semantic-segmentation", "watershed")),
    Concept("denoising", (r"de-?nois\w*", r"noise\b", r"noisy", r"low[- ]snr", r"snr\b", r"grain\w*"),
            ("Image denoising", "Smoothing", "Image enhancement"),
            ("denois", "noise", "noise2void", "n2v", "care", "restoration")),
    Concept("restoration", (r"restor\w*", r"enhanc\w*", r"improve (?:the )?(?:image )?quality",
                            r"upsampl\w*", r"sharpen\w*"),
            ("Image enhancement", "Image denoising", "Image deconvolution", "Image correction",
             "Feature enhancement"),
            ("restoration", "enhancement", "denois", "deconvol", "care")),
    Concept("deconvolution", (r"deconvol\w*", r"psf\b", r"point spread", r"deblur\w*", r"blur\w*"),
            ("Image deconvolution",), ("deconvol", "psf", "point spread")),
    Concept("tracking", (r"track\w*", r"trajector\w*", r"lineage\w*", r"migrat\w*", r"follow\w* (?:cells|particles|objects)",
                         r"motion\b(?! correct)", r"moving"),
            ("Object tracking", "Cell tracking", "Particle tracking", "Isolated object tracking",
             "Collective object tracking", "Trajectory analysis"),
            ("track", "tracking", "trajector", "lineage")),
    Concept("registration", (r"regist\w*", r"align\w*", r"drift\w*", r"warp\w*", r"correlative",
                             r"motion correct\w*"),
            ("Image registration", "Rigid registration", "Affine registration", "Deformable registration",
             "Object registration", "Drift correction", "Warping"),
            ("registration", "align", "drift")),
    Concept("detection", (r"detect\w*", r"spots?\b", r"puncta", r"foci", r"count\w*", r"find(?:ing)? (?:the )?\w+ centers?",
                          r"locali[sz]\w*", r"blobs?\b"),
            ("Spot detection", "Object detection", "Isolated object detection", "Object counting",
             "Single molecule localisation", "Landmark detection"),
            ("detect", "detection", "spot", "count")),
    Concept("classification", (r"classif\w*", r"phenotyp\w*", r"categori[sz]\w*"),
            ("Image classification", "Pixel classification", "Isolated object classification",
             "Classification"),
            ("classif", "phenotyp")),
    Concept("colocalisation", (r"co-?locali[sz]\w*",), ("Colocalisation analysis", "Pixel-based colocalisation",
                                                          "Object-based colocalisation"), ("colocali",)),
    Concept("stitching", (r"stitch\w*", r"mosaic\w*", r"montage\w*", r"tiles?\b", r"tiled"),
            ("Image stitching", "Montage"), ("stitch", "mosaic", "tile")),
    Concept("visualisation", (r"visuali[sz]\w*", r"render\w*", r"view\w*", r"display\w*", r"brows(?:e|es|ing)\b",
                              r"explor\w*", r"look at"),
            ("Image visualisation", "Volume rendering", "Visualisation", "Overlay"),
            ("visuali", "viewer", "render", "display")),
    Concept("annotation", (r"annotat\w*", r"ground[- ]truth", r"manual(?:ly)? label\w*", r"paint\w*"),
            ("Image annotation", "Annotation"), ("annotat", "label")),
    Concept("measurement", (r"measur\w*", r"quantif\w*", r"features?\b", r"morpholog\w*", r"shape\w*",
                            r"intensit\w*", r"size\b", r"area\b"),
            ("Object feature extraction", "Image feature extraction", "Shape features", "Texture extraction",
             "Image analysis"),
            ("measure", "quantif", "feature", "morpholog", "shape")),
    Concept("filament-tracing", (r"filament\w*", r"trac(?:e|ing)\b", r"skeleton\w*", r"neurites?",
                                 r"dendrit\w*", r"axons?\b", r"vessels?\b", r"vascul\w*"),
            ("Filament tracing", "Neuron image analysis", "Skeletonisation"),
            ("filament", "tracing", "skeleton", "neurite", "neuron")),
    Concept("illumination-correction", (r"illumination", r"shading", r"flat[- ]?field\w*", r"vignett\w*",
                                        r"uneven background", r"background (?:correction|subtraction)"),
            ("Illumination correction", "Image correction"), ("illumination", "shading", "flat-field")),
    Concept("thresholding", (r"threshold\w*", r"binari[sz]\w*"),
            ("Image thresholding", "Local thresholding", "Adaptative thresholding"), ("threshold",)),
    Concept("reconstruction", (r"reconstruct\w*", r"tomogra\w*", r"super[- ]?resolution", r"smlm", r"palm\b",
                               r"storm\b", r"sim\b", r"structured illumination"),
            ("Image reconstruction", "Tomography reconstruction", "Single molecule localisation",
             "Structured illumination reconstruction"),
            ("reconstruct", "super-resolution", "localization", "localisation", "tomograph")),
    Concept("conversion", (r"conver\w*", r"file formats?", r"proprietary", r"\bczi\b", r"\blif\b", r"\bnd2\b",
                           r"ome[- ]?(?:tiff|zarr)", r"bio-?formats", r"import\w*", r"open(?:ing)? (?:\w+ )?files"),
            ("Conversion", "Data handling"), ("format", "convert", "import", "reader")),
    Concept("projection", (r"projection\w*", r"\bmip\b", r"max(?:imum)? intensity"),
            ("Image projection",), ("projection",)),
)

OBJECTS: tuple[Concept, ...] = (
    Concept("nuclei", (r"nucle(?:i|us|ar)", r"dapi", r"hoechst", r"chromatin"), words=("nucle", "dapi")),
    Concept("cells", (r"cells?\b", r"cytoplasm\w*", r"cell bod\w*", r"whole[- ]cell"), words=("cell",)),
    Concept("membranes", (r"membran\w*", r"cell walls?", r"boundar(?:y|ies) of cells"), words=("membrane",)),
    Concept("organelles", (r"organell\w*", r"mitochondri\w*", r"vesicl\w*", r"golgi", r"endosom\w*",
                           r"lysosom\w*", r"peroxisom\w*", r"synaps\w*"),
            words=("organelle", "mitochondri", "vesicle", "golgi", "synap")),
    Concept("particles", (r"particles?", r"spots?\b", r"puncta", r"foci", r"single molecules?", r"mrna", r"fish\b",
                          r"beads?\b"), words=("particle", "spot", "molecule", "fish")),
    Concept("neurons", (r"neur\w*", r"axons?", r"dendrit\w*", r"brain"), words=("neuro", "neuron", "axon")),
    Concept("filaments", (r"filament\w*", r"microtubul\w*", r"actin", r"fib(?:er|re)s?"),
            words=("filament", "microtubul", "actin", "fiber")),
    Concept("tissue", (r"tissues?", r"organoids?", r"embryos?", r"slices?"), words=("tissue", "organoid", "embryo")),
    Concept("bacteria", (r"bacteri\w*", r"microb\w*", r"e\.? ?coli"), words=("bacteri", "microb")),
    Concept("yeast", (r"yeast", r"cerevisiae", r"pombe"), words=("yeast",)),
    Concept("plants", (r"plants?\b", r"arabidopsis", r"roots?\b", r"leaf|leaves"), words=("plant", "arabidopsis")),
    Concept("vessels", (r"vessels?\b", r"vascul\w*", r"capillar\w*"), words=("vessel", "vascul")),
)

MODALITIES: tuple[Concept, ...] = (
    Concept("fluorescence", (r"fluoresc\w*", r"gfp", r"confocal", r"widefield", r"wide-field", r"dapi",
                             r"immunofluoresc\w*", r"two-photon", r"multiphoton"),
            ("Fluorescence microscopy", "Confocal fluorescence microscopy", "Confocal microscopy",
             "Widefield microscopy", "Multi-photon microscopy"),
            ("fluoresc", "confocal", "widefield")),
    Concept("brightfield", (r"bright[- ]?field", r"phase[- ]contrast", r"\bdic\b", r"transmitted light",
                            r"label[- ]free"),
            ("Bright field microscopy", "Phase contrast microscopy", "DIC microscopy",
             "Transmission light microscopy"),
            ("brightfield", "bright-field", "bright field", "phase contrast", "phase-contrast", "dic")),
    Concept("electron-microscopy", (r"electron micro\w*", r"\bem\b", r"\bsem\b", r"\btem\b", r"fib-?sem",
                                    r"sbf-?sem", r"sbem", r"cryo-?e[mt]\b", r"cryo-?electron", r"connectom\w*"),
            ("Electron microscopy", "Transmission electron microscopy", "Scanning electron microscopy",
             "Focused ion beam scanning electron microscopy", "Serial block-face scanning electron microscopy",
             "Electron tomography", "Cryo electron tomography"),
            ("electron", "fib-sem", "sbem", "sbf-sem", "cryo-em", "cryo-et", "connectom")),
    Concept("histology", (r"histolog\w*", r"histopatholog\w*", r"patholog\w*", r"h&e", r"\bh ?& ?e\b",
                          r"hematoxylin", r"whole[- ]slide", r"\bwsi\b", r"slide scan\w*", r"ihc\b",
                          r"immunohisto\w*"),
            ("Digital histology",), ("histolog", "patholog", "whole slide", "whole-slide", "h&e", "he-stain")),
    Concept("light-sheet", (r"light[- ]sheet", r"spim\b", r"lsfm"),
            ("Light-sheet microscopy", "Selective plane illumination microscopy reconstruction"),
            ("light-sheet", "light sheet", "spim")),
    Concept("super-resolution", (r"super[- ]?resolution", r"smlm", r"palm\b", r"storm\b", r"sted\b",
                                 r"structured illumination", r"expansion microscopy"),
            ("Super-resolution microscopy", "Single molecule localization microscopy",
             "Stimulated Emission Depletion microscopy", "Structured illumination microscopy"),
            ("super-resolution", "localization microscopy", "smlm", "sted")),
)

DIMS_3D = re.compile(r"\b(?:3-?d|three[- ]dimension\w*|volum\w*|z-?stacks?|stacks? of (?:slices|planes)|"
                     r"tomogra\w*|light[- ]sheet|whole[- ]organ\w*|serial sections?)", re.IGNORECASE)
DIMS_2D = re.compile(r"\b(?:2-?d|two[- ]dimension\w*|single (?:plane|slice|image)s?|flat images?)",
                     re.IGNORECASE)
GUI = re.compile(r"(?:\bno[- ]cod\w*|\bwithout (?:writing |using )?(?:any )?(?:cod\w*|programm\w*|scripting|python)|\bgui\b|"
                 r"graphical|point[- ]and[- ]click|\bclick\w*|user[- ]friendly|non[- ]programm\w*|"
                 r"not a programmer|can(?:no|')t (?:code|program)|don'?t (?:code|program)|"
                 r"(?:do not|don'?t) know (?:how to )?(?:code|program)\w*|interactive(?:ly)?|desktop app\w*)",
                 re.IGNORECASE)
CODE = re.compile(r"\b(?:python|scripts?|scripting|librar(?:y|ies)|programmatic\w*|api\b|notebooks?|"
                  r"jupyter|pip\b|package|(?:in|from|with|using) code|matlab|r package|java library)",
                  re.IGNORECASE)
OPEN_SOURCE = re.compile(r"\b(?:open[- ]?source|free software|free and open|foss|no licen[cs]e (?:cost|fee)s?|"
                         r"free(?: of charge)?\b|non[- ]commercial|not commercial)", re.IGNORECASE)
DEEP = re.compile(r"\b(?:deep[- ]learning|neural net\w*|pre-?trained|trained model|u-?net|cnn|"
                  r"machine learning|ai\b|models?\b)", re.IGNORECASE)
PLATFORMS: dict[str, re.Pattern[str]] = {
    "Fiji": re.compile(r"\b(?:fiji|imagej)\b", re.IGNORECASE),
    "napari": re.compile(r"\bnapari\b", re.IGNORECASE),
    "QuPath": re.compile(r"\bqupath\b", re.IGNORECASE),
    "Icy": re.compile(r"\bicy\b", re.IGNORECASE),
    "CellProfiler": re.compile(r"\bcellprofiler\b", re.IGNORECASE),
    "MATLAB": re.compile(r"\bmatlab\b", re.IGNORECASE),
    "R": re.compile(r"\b(?:in r|r package|bioconductor)\b", re.IGNORECASE),
}

_WORD = re.compile(r"[a-z0-9][a-z0-9+&-]*", re.IGNORECASE)
#: Words of a tool request that name no task, object or modality ("which software would you recommend for
#: my images?"), on top of the project's one stopword list (:data:`scopebot.answer.text.STOPWORDS`).
REQUEST_WORDS = frozenset("""best good help recommend tool tools software program app application looking look
find image images microscopy data""".split())
STOPWORDS = BASE_STOPWORDS | REQUEST_WORDS

_TASK_RE = [(c, c.compiled()) for c in TASKS]
_OBJECT_RE = [(c, c.compiled()) for c in OBJECTS]
_MODALITY_RE = [(c, c.compiled()) for c in MODALITIES]
TASK_BY_NAME = {c.name: c for c in TASKS}
#: Compiled pattern of every concept, by name (tasks, objects and modalities have distinct names).
PATTERNS: dict[str, re.Pattern[str]] = {c.name: p for c, p in _TASK_RE + _OBJECT_RE + _MODALITY_RE}
OBJECT_BY_NAME = {c.name: c for c in OBJECTS}
MODALITY_BY_NAME = {c.name: c for c in MODALITIES}

_TOOL_QUESTION = re.compile(r"\b(?:which|what|recommend\w*|suggest\w*|best|good|is there an?y?)\b.{0,60}"
                            r"\b(?:tool|software|plugin|program|package|library|model|app)s?\b|"
                            r"\btools? (?:for|to)\b", re.IGNORECASE)


def is_tool_question(text: str) -> bool:
    """True when ``text`` looks like 'which tool should I use for X?' (for the chat router)."""
    return bool(_TOOL_QUESTION.search(text or ""))


_BRITISH = re.compile(r"\b([a-z]{3,}?)is(ation|ations|e|es|ed|ing|er|ers)\b")
_BRITISH_YSE = re.compile(r"\b([a-z]{3,}?)ys(e|es|ed|ing|er|ers)\b")


def normalise_spelling(text: str) -> str:
    """Lower-case ``text`` and map British -ise/-isation spellings to -ize/-ization."""
    text = text.lower().replace("co-local", "colocal")
    return _BRITISH_YSE.sub(r"\1yz\2", _BRITISH.sub(r"\1iz\2", text))


def content_words(text: str) -> list[str]:
    """Lower-cased words of ``text`` without stop words (order kept, duplicates removed).

    Hyphenated words count whole and by their parts ('segment-anything' -> also 'segment',
    'anything'); British spellings are normalised (see :func:`normalise_spelling`).
    """
    seen: dict[str, None] = {}
    for tok in _WORD.findall(normalise_spelling(text)):
        tok = tok.strip("-&+")
        parts = [tok] + ([p for p in tok.split("-") if p] if "-" in tok else [])
        for part in parts:
            if len(part) > 1 and part not in STOPWORDS:
                seen.setdefault(part, None)
    return list(seen)


def _matches(concepts: list[tuple[Concept, re.Pattern[str]]], text: str) -> tuple[list[Concept], list[str]]:
    found: list[Concept] = []
    words: list[str] = []
    for concept, pattern in concepts:
        hits = [m.group(0).lower() for m in pattern.finditer(text)]
        if hits:
            found.append(concept)
            words.extend(hits)
    return found, words


def check_arguments(request: str, interface: str, dims: str, k: int) -> None:
    """The one check of a recommendation's arguments (CLI, UI and MCP all go through it)."""
    if interface not in ("gui", "code", "any"):
        raise ConfigurationError(f"Unknown interface {interface!r}", hint="use interface gui, code or any")
    if dims not in ("2d", "3d", "any"):
        raise ConfigurationError(f"Unknown dimensionality {dims!r}", hint="use dims 2d, 3d or any")
    if not request.strip():
        raise ConfigurationError("The request is empty",
                                 hint='describe the task, e.g. "track cells in a 2D time-lapse"')
    if not 1 <= k <= 50:
        raise ConfigurationError(f"k must be between 1 and 50, not {k}", hint="ask for e.g. k=5 tools")


def parse_request(text: str, *, interface: Interface = "any", dims: Dims = "any") -> ParsedRequest:
    """Parse a free-text request; explicit ``interface``/``dims`` options override the text.

    Raises :class:`ConfigurationError` when the request is empty or has no words at all.
    """
    cleaned = (text or "").strip()
    if not cleaned or not _WORD.search(cleaned):
        raise ConfigurationError("The request is empty",
                                 hint='describe the task, e.g. scopebot recommend "segment nuclei in 3D '
                                      'fluorescence stacks without coding"')
    tasks, task_words = _matches(_TASK_RE, cleaned)
    objects, object_words = _matches(_OBJECT_RE, cleaned)
    modalities, modality_words = _matches(_MODALITY_RE, cleaned)
    # 'tracing' of neurons should not turn every 'neuron' request into filament tracing, and a
    # spot-counting request should not also be read as measurement of 'size'.
    operations: list[str] = []
    for concept in tasks:
        for op in concept.edam:
            if op not in operations:
                operations.append(op)
    topics: list[str] = []
    for concept in modalities:
        for topic in concept.edam:
            if topic not in topics:
                topics.append(topic)
    if dims == "any":
        if DIMS_3D.search(cleaned):
            dims = "3d"
        elif DIMS_2D.search(cleaned):
            dims = "2d"
    if interface == "any":
        if GUI.search(cleaned):
            interface = "gui"
        elif CODE.search(cleaned):
            interface = "code"
    platforms = [name for name, pat in PLATFORMS.items() if pat.search(cleaned)]
    understood = sorted(set(task_words + object_words + modality_words))
    return ParsedRequest(text=cleaned, tasks=[c.name for c in tasks], operations=operations,
                         objects=[c.name for c in objects], modalities=[c.name for c in modalities],
                         topics=topics, dims=dims, interface=interface, platforms=platforms,
                         open_source=bool(OPEN_SOURCE.search(cleaned)),
                         deep_learning=bool(DEEP.search(cleaned)),
                         keywords=content_words(cleaned), understood=understood)
