"""Keyword and pattern cues the router scores turns with (rules half of :mod:`scopebot.agent.router`).

The cues are general phrasings of each kind of request, not copies of particular eval items:
code verbs and languages, tool/plugin/software questions, forum and community wording, greetings
and capability questions, and everyday topics that have nothing to do with microscopy. Each route
gets a score in ``[0, 1]``: :data:`STRONG` for an unmistakable cue, :data:`WEAK` for a hint.
"""

from __future__ import annotations

import re

STRONG = 0.9
MEDIUM = 0.6
WEAK = 0.3

_F = re.IGNORECASE


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _F)


#: Imaging, microscopy and bioimage-analysis vocabulary (word starts; counted per distinct hit).
DOMAIN = _rx(
    r"\b(microscop\w*|imag(e|es|ing|ej)\b|imagej|fiji|napari|cellpose|stardist|qupath|ilastik|cellprofiler|"
    r"trackmate|icy\b|imaris|bio-?formats|omero|ome[- ]?(tiff?|zarr|ngff)|zarr|tiff?\b|czi\b|lif\b|nd2\b|"
    r"pixel\w*|voxel\w*|confocal|widefield|wide-field|light[- ]?sheet|two[- ]photon|multiphoton|"
    r"super[- ]?resolution|sted\b|palm\b|storm\b|smlm|sim\b|tirf|epifluoresc\w*|fluoresc\w*|fluorophore\w*|"
    r"gfp|dapi|stain\w*|antibod\w*|label(l?ed|s|ling)?\b|objective\w*|numerical aperture|\bna\b|psf|"
    r"point spread|deconvol\w*|aberration\w*|illuminat\w*|photobleach\w*|bleach\w*|phototox\w*|"
    r"cell(s|ular)?\b|nucle\w*|membrane\w*|mitochondri\w*|organell\w*|tissue\w*|neuron\w*|neurite\w*|"
    r"axon\w*|spine\w*|organoid\w*|embryo\w*|zebrafish|drosophila|histolog\w*|patholog\w*|slide\w*|"
    r"segment\w*|threshold\w*|otsu|watershed|mask\w*|roi\b|rois\b|region\w* of interest|"
    r"denois\w*|noise|filter\w*|gaussian|median|blur\w*|background|flat[- ]?field|"
    r"registration|register\w*|stitch\w*|drift|tracking|track\w*|lineage|colocali[sz]\w*|"
    r"intensit\w*|histogram\w*|contrast|brightness|saturat\w*|dynamic range|bit[- ]depth|\d+[- ]?bit|"
    r"channel\w*|z[- ]?stack\w*|stack\w*|\b[23]d\b|time[- ]?lapse|movie\w*|frame\w*|hyperstack|"
    r"projection|mip\b|resolution|nyquist|sampling|magnification|camera\w*|detector\w*|sensor\w*|"
    r"em\b|cryo[- ]?em|electron|tomogra\w*|sem\b|tem\b|spot\w*|puncta|particle\w*|blob\w*|"
    r"object\w*|morpholog\w*|skeleton\w*|annotat\w*|ground truth|bioimage\w*|biii|model zoo|bioimage\.io|"
    r"skimage|scikit-image|tifffile|acquisition|acquire|specimen|sample\w*|fret|flim|calcium|"
    r"image\.sc|deep learning|u-?net|pretrained|plugin\w*|macro\w*|jython|groovy|opencv|"
    r"photon\w*|laser\w*|wavelength\w*|excitation|emission|filter cube|dichroic|lens\w*|"
    r"exposure|gain|binning|metadata|fair\b|picture\w*|photo\w*|scan\w*|quantif\w*|"
    r"train(ing|ed)?\b|validation|overfit\w*|augment\w*|fine[- ]?tun\w*|transfer learning|neural|cnn\w*|"
    r"network\w*|receptive field|dice\b|f1\b|iou\b|jaccard|precision|recall|accuracy|classifier\w*|"
    r"batch effect\w*|loss\b|epoch\w*|weights\b|inference|gpu\b|cuda|dataset\w*|benchmark\w*|"
    r"llms?\b|hallucinat\w*|the book|your sources|the sources|my\s+(script|code|macro|notebook|pipeline)s?)"
)

_CODE_NOUN = r"(code|script|snippet|function|macro|program|notebook|pipeline|example code)"
CODE_VERB = [
    _rx(r"\b(write|give|show|generate|make|create|produce|draft|want|provide)\b[^.?!]{0,40}\b"
        + _CODE_NOUN + r"s?\b"),
    _rx(r"\b(python|jython|groovy|imagej|fiji|matlab)\s+(code|script|snippet|macro|example|function)\b"),
    _rx(r"\b(write|give\s+me|show\s+me)\s+(some\s+)?(python|jython|groovy|matlab|numpy|skimage)\b"),
    _rx(r"\b(run|execute)\s+(it|this|that|the code|my code)\b"),
    _rx(r"\b(debug|fix|correct|repair)\b[^.?!]{0,40}\b(script|code|macro|notebook|function)\b"),
    _rx(r"\b(error|traceback|exception|bug)\b[^.?!]{0,30}\b(my|this|the)\s+(script|code|macro|notebook)\b"),
]
CODE_STRONG = [
    _rx(r"\b" + _CODE_NOUN + r"s?\s+(to|that|for|which)\b"),
    _rx(r"\b(in|with|using)\s+(python|numpy|scikit-image|skimage|opencv|jython|groovy|java|matlab|r)\b"),
    _rx(r"\b[A-Z]\w*(Error|Exception)\b|\btraceback\b"),
]
CODE_MEDIUM = [
    _rx(r"\b(skimage|scikit-image|numpy|scipy|tifffile|opencv|cv2|matplotlib|pandas)\b"),
]
#: "this image", "the stack I uploaded": the turn is about a concrete file (code when it asks for an action).
IMAGE_REF = [
    _rx(r"\b[\w-]+\.(tiff?|png|jpe?g|czi|nd2|lif|zarr|ims|lsm|oib|vsi|svs)\b"),
    _rx(r"\b(this|my|the uploaded|the attached|uploaded|attached)\s+([\w-]+\s+){0,2}"
        r"(images?|pictures?|photos?|stacks?|z-?stacks?|files?|tiffs?|movies?|masks?|label images?)\b"),
    _rx(r"\b(image|picture|file|stack)\s+(i|that i|which i)\s+(just\s+)?(uploaded|attached|sent|shared)\b"),
]
#: Imperative analysis verbs: "count ...", "measure ...", at the start of a request.
ACTION_VERB = _rx(
    r"^\s*(please\s+|can you\s+|could you\s+|now\s+|then\s+|and\s+|ok,?\s+|also\s+)*"
    r"(count|measure|segment|threshold|plot|generate|create|detect|crop|filter|blur|smooth|denoise|run|load|open|compute|"
    r"calculate|quantify|label|find|extract|save|export|apply|subtract|normali[sz]e|draw|show|overlay|"
    r"split|merge|track|resize|rescale|convert|project|make|add|remove|fill|skeletoni[sz]e|"
    r"dilate|erode|histogram|display|visuali[sz]e)\b")

TOOL_NOUN = (r"(tools?|plugins?|software|viewers?|programs?|packages?|librar(y|ies)|applications?|apps?|models?|"
             r"frameworks?|platforms?|solutions?|options?|utilit(y|ies)|add-?ons?|extensions?|toolbox(es)?)")
TOOL_STRONG = [
    _rx(r"\b(which|what)\s+(\w+\s+){0,3}" + TOOL_NOUN + r"\b"),
    _rx(r"\b(is|are)\s+there\s+(a|an|any|some)\s+([\w-]+\s+){0,3}(" + TOOL_NOUN[1:-1] + r"|notebooks?)\b"),
    _rx(r"\b(need|looking for|searching for|want|search for)\s+(a|an|some|any)?\s*([\w-]+\s+){0,3}"
        + TOOL_NOUN + r"\b"),
    _rx(r"\bwhat\s+(do|would|can)\s+you\s+(suggest|recommend|advise)\b"),
    _rx(r"\bwhat\s+(can|could|should)\s+i\s+use\b"),
    _rx(r"\b" + TOOL_NOUN + r"\s+(suggestions?|recommendations?|advice)\b"),
    _rx(r"\b(recommend|suggest|advise|point me to|name)\b[^.?!]{0,30}\b" + TOOL_NOUN + r"\b"),
    _rx(r"\b(alternatives?|substitutes?|replacements?)\s+(to|for)\b"),
    _rx(r"\b(model zoo|bioimage\.io|biii)\b"),
    _rx(r"\bpre-?trained\s+(model|network|weights)\b"),
    _rx(r"\b(best|good|free|open[- ]source)\s+(\w+\s+){0,2}" + TOOL_NOUN + r"\s+(for|to)\b"),
]
TOOL_MEDIUM = [
    _rx(r"\b" + TOOL_NOUN + r"\s+(for|to|that|which|can)\b"),
    _rx(r"\bcan i use\b.*\bfor\b"),
]

#: Naming the forum itself beats every other cue ("has anyone on image.sc done this in Python?").
FORUM_EXPLICIT = _rx(r"image\.sc|\bforums?\b")
FORUM_STRONG = [
    _rx(r"\b(has|have|did)\s+(anyone|anybody|someone|somebody|other people|others|people)\b"),
    _rx(r"\b(anyone|anybody)\s+(else\s+)?(had|have|has|seen|tried|know|got|run|ran|managed|experienced)\b"),
    _rx(r"\bcommunity\b"),
    _rx(r"\b(other|fellow)\s+(users|people|researchers|microscopists)\b"),
    _rx(r"\b(threads?|posts?|discussions?)\s+(about|on|where|regarding)\b"),
    _rx(r"\b(search|find|look\s+up|look\s+for|check|browse)\b[^.?!]{0,25}\b(discussions?|threads?|posts?|topics?)\b"),
    _rx(r"\b(known[- ]issue|issue)\s+threads?\b|\bthreads?\s+(for|about)\b"),
    _rx(r"\bpeople\s+(say|saying|report|reported|recommend|use|think|complain)\b"),
]

GREETING = _rx(r"^\s*(hi|hello|hey|hiya|howdy|yo|greetings|good\s+(morning|afternoon|evening|night|day)|"
               r"thanks?|thank\s+you|thx|ty|cheers|bye|goodbye|see\s+you|ciao|ok(ay)?|cool|great|nice|"
               r"awesome|perfect|sorry|never\s*mind|nevermind|wow|lol|excellent|brilliant|got\s+it)\b")
CAPABILITY = [
    _rx(r"\b(what\s+(can|could)\s+you\s+(do|help)|what\s+are\s+you(\s+able)?|who\s+are\s+you|"
        r"how\s+(do|can|should)\s+i\s+use\s+you|what\s+do\s+you\s+do|are\s+you\s+(a\s+)?(bot|human|"
        r"ai|robot)|what\s+(kind|sort)\s+of\s+(questions|things)|introduce\s+yourself|"
        r"what\s+is\s+scopebot|your\s+(name|capabilities|features|limitations|limits|strengths|skills)|(who|what)\s+(made|built|created|trained|"
        r"wrote|developed)\s+you|(which|what)\s+(sources|languages|data)\s+(do|can)\s+you)\b"),
    _rx(r"\bcan\s+you\s+(speak|understand|talk|answer)\s+(in\s+)?[a-z]+\s*[?.!]*\s*$"),
    _rx(r"^\s*help\s*[.!?]*\s*$"),
    _rx(r"^\s*(can|could|will)\s+you\s+help(\s+me)?(\s+with(\s+(my|some|a|an))?(\s+[\w-]+){1,3})?\s*[?.!]*\s*$"),
    _rx(r"\b(how\s+are\s+you|how'?s\s+it\s+going|how\s+is\s+it\s+going|what'?s\s+up|how\s+do\s+you\s+do|"
        r"nice\s+to\s+meet\s+you)\b"),
]

OUT_OF_SCOPE = _rx(
    r"\b(weather|forecast|recipe|cook(ing)?|bake|cake|poem|poetry|song|lyrics|joke|football|soccer|"
    r"basketball|baseball|cricket|match\s+last|election|president|prime minister|politic\w*|stock(s)?\b|"
    r"invest\w*|crypto\w*|bitcoin|blockchain|tax(es)?|mortgage|loan|insurance|holiday|vacation|"
    r"itinerary|flight|hotel|restaurant|movie to watch|tv show|netflix|celebrity|horoscope|"
    r"dating|girlfriend|boyfriend|wedding|diet|weight loss|lose weight|workout|recipe|car\b|"
    r"brakes|engine oil|wi-?fi|router\b|laptop|smartphone|iphone|gaming|video game|cover letter|resume|cv\b|"
    r"homework|essay|translate|translation|capital of|population of|history of rome|pet\b|dog\b|cat\b|"
    r"garden\w*|plumbing|sql|database|website|web ?shop|e-?commerce|scrape|scraping|spreadsheet|excel|"
    r"marketing|sales|lottery|casino|religion|pizza|food|nearby|near me|sightseeing|music|band|novel|"
    r"birthday|gift|shopping|fashion|horse|football|sports?|game tonight)\b")

#: A request for a number: "how many", "what percentage", "the mean intensity", "report the speed".
QUANTITY = _rx(r"\b(how\s+(many|much|big|large|long|far|fast|bright)|what\s+(fraction|percentage|proportion|share|number)|"
               r"percent(age)?|fraction|ratio|count|number\s+of|average|mean|median|total|area|size|diameter|"
               r"length|volume|perimeter|distance|speed|velocity|intensit(y|ies)|snr|psnr|density|measure\w*|"
               r"quantif\w*|report)\b")
#: Names of methods or technical artefacts: a turn naming one may be in scope even without imaging words.
METHOD = _rx(r"\b(model|models|algorithm\w*|pipeline\w*|machine learning|deep learning|learning|network\w*|"
             r"classifier\w*|workflow\w*|method\w*|weights?|filter\w*|transform\w*|segmentation|training|"
             r"inference|notebook\w*|plugin\w*|[\w-]+\.(py|ijm|ipynb|pt|pth|onnx|h5))\b")

FOLLOW_UP_START = _rx(r"^\s*(and|but|also|now|then|so|ok(ay)?,?\s+(and|now)|what\s+about|how\s+about|"
                      r"what\s+if|same|instead|only|just|again|for\s+(the\s+)?\w+\s*\??$|in\s+\w+\s*\??$|"
                      r"with\s+\w+\s*\??$|without|do\s+(it|that|the\s+same)|can\s+you\s+also|"
                      r"could\s+you\s+also|make\s+it|show\s+(it|them|me\s+that|me\s+how)|why\b(?!.{25,}))")
ANAPHORA = _rx(r"\b(their|them|they|it|its|those|these|that one|this one|the same|that|the result|"
               r"the previous|the last|the above|above)\b")


def domain_hits(text: str) -> int:
    """How many distinct imaging/microscopy terms ``text`` mentions."""
    return len({m.group(0).lower() for m in DOMAIN.finditer(text)})


def asks_quantity(text: str) -> bool:
    """Whether ``text`` asks for a number or a measurement ("how many", "what percentage", "the area")."""
    return bool(QUANTITY.search(text))


def names_method(text: str) -> bool:
    """Whether ``text`` names a method, model or technical artefact (a hint that it may be in scope)."""
    return bool(METHOD.search(text)) or domain_hits(text) > 0


def has_action_verb(text: str) -> bool:
    """Whether ``text`` starts with an analysis verb ("count...", "now measure ...")."""
    return bool(ACTION_VERB.search(text))


def is_follow_up(text: str) -> bool:
    """A short turn that only makes sense with the previous one ("and in 3D?", "now plot it")."""
    words = text.split()
    if not words or len(words) > 10:
        return False
    if FOLLOW_UP_START.search(text):
        return True
    return len(words) <= 7 and bool(ANAPHORA.search(text))


def _any(patterns: list[re.Pattern[str]], text: str) -> re.Match[str] | None:
    for p in patterns:
        m = p.search(text)
        if m:
            return m
    return None


def cue_scores(text: str, *, has_image: bool = False, has_code_result: bool = False) -> tuple[dict[str, float], list[str]]:
    """Rule score per route for ``text`` and the cues that fired (for the trace)."""
    scores = {"question": 0.0, "code": 0.0, "tool": 0.0, "forum": 0.0, "chitchat": 0.0, "out_of_scope": 0.0}
    reasons: list[str] = []
    domain = domain_hits(text)
    words = len(text.split())

    def fire(label: str, value: float, why: str) -> None:
        if value > scores[label]:
            scores[label] = value
        reasons.append(f"{label}: {why}")

    if m := _any(CODE_VERB, text):
        fire("code", STRONG * 1.05, f"code request '{m.group(0).strip()}'")
    elif m := _any(CODE_STRONG, text):
        fire("code", STRONG * 0.92, f"code cue '{m.group(0).strip()}'")
    elif m := _any(CODE_MEDIUM, text):
        fire("code", MEDIUM, f"code hint '{m.group(0).strip()}'")
    if has_action_verb(text) and (has_image or has_code_result or _any(CODE_MEDIUM + IMAGE_REF, text)):
        fire("code", STRONG, "analysis verb on an image or previous code")
    elif has_action_verb(text) and domain:
        fire("code", WEAK, "imperative analysis verb")
    if m := _any(TOOL_STRONG, text):
        fire("tool", STRONG, f"tool cue '{m.group(0).strip()}'")
    elif m := _any(TOOL_MEDIUM, text):
        fire("tool", MEDIUM, f"tool hint '{m.group(0).strip()}'")
    if m := FORUM_EXPLICIT.search(text):
        fire("forum", 1.0, f"names the forum '{m.group(0)}'")
    elif m := _any(FORUM_STRONG, text):
        fire("forum", STRONG * 1.05, f"forum cue '{m.group(0).strip()}'")
    if _any(CAPABILITY, text):
        fire("chitchat", STRONG * 1.05, "capability question")
    elif m := GREETING.search(text):
        rest = text[m.end():].strip(" ,.!;:-")
        if len(rest.split()) <= 2 and not domain:
            fire("chitchat", STRONG, "greeting or thanks")
        elif "?" not in rest and not domain and len(rest.split()) <= 8:
            fire("chitchat", MEDIUM, "greeting or thanks with a remark")
    if domain == 0:
        if m := OUT_OF_SCOPE.search(text):
            fire("out_of_scope", STRONG, f"non-microscopy topic '{m.group(0)}'")
        elif scores["chitchat"] == 0 and scores["forum"] == 0:
            fire("out_of_scope", MEDIUM, "no imaging vocabulary")
    elif m := OUT_OF_SCOPE.search(text):
        fire("out_of_scope", WEAK, f"non-microscopy word '{m.group(0)}'")
    if domain and max(scores.values()) < MEDIUM:
        fire("question", MEDIUM if text.rstrip().endswith("?") or words > 4 else WEAK, "imaging question")
    return scores, reasons
