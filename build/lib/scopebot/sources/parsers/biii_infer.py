"""Best-guess interface ("gui", "library", "plugin", "script", "web") and host platform of a tool.

Used for BIII entries (and reusable for other registries): requirements are the strongest signal
(a component that requires Fiji is a Fiji plugin or macro), then wording in the name/description.
"""

from __future__ import annotations

import re

#: Host applications a component can plug into, with the words that identify them.
PLATFORMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Fiji", ("fiji", "imagej", "imagej2", "imagej1", "image j")),
    ("napari", ("napari",)),
    ("Icy", ("icy",)),
    ("CellProfiler", ("cellprofiler",)),
    ("QuPath", ("qupath",)),
    ("KNIME", ("knime",)),
    ("ilastik", ("ilastik",)),
    ("MATLAB", ("matlab",)),
    ("Imaris", ("imaris",)),
    ("OMERO", ("omero",)),
    ("Galaxy", ("galaxy",)),
)
#: Requirements that are programming libraries rather than host applications.
LIBRARIES = ("ebimage", "itk", "vtk", "opencv", "scikit-image", "skimage", "scipy", "numpy", "imglib",
             "bioformats", "bio-formats", "tensorflow", "pytorch", "keras", "mahotas", "simpleitk",
             "python", "java", "r ", "clij", "dipimage", "dipy")


def _word(term: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", text) is not None


def platform_of(texts: list[str]) -> str:
    """First platform named in the given texts (lowercased internally), else ""."""
    for platform, words in PLATFORMS:
        for t in texts:
            low = t.lower()
            if any(_word(w, low) for w in words):
                return platform
    return ""


def infer_interface(name: str, description: str, requires: list[str]) -> tuple[str, str]:
    """``(interface, platform)`` guessed from the requirements, the name and the description."""
    low = f"{name}\n{description}".lower()
    if any(name.strip().lower() in words for _, words in PLATFORMS):
        return "gui", ""  # the host application itself (Fiji, Icy, napari...)
    platform = platform_of(requires)
    scriptish = any(_word(w, low) for w in ("macro", "script", "scripts", "jython", "groovy", "notebook",
                                            "jupyter", "pipeline", "workflow"))
    if platform:
        if platform == "MATLAB" or (scriptish and platform in ("Fiji", "Galaxy")):
            return "script", platform
        return "plugin", platform
    req_low = " ".join(r.lower() for r in requires) + " "
    if requires and any(lib in req_low for lib in LIBRARIES):
        return "library", ""
    text_platform = platform_of([low])
    if text_platform and re.search(r"plug-?in|extension|module|add-?on|macro", low):
        return ("script" if scriptish and "plugin" not in low else "plugin"), text_platform
    if re.search(r"web[- ]?(based|server|service|application|app|interface|tool)|online|in the browser|"
                 r"web browser|server", low):
        return "web", text_platform
    if re.search(r"\blibrary\b|\bpackage\b|\btoolbox\b|\bapi\b|\bframework\b|\bmodule\b|python|\bc\+\+", low):
        return "library", text_platform
    if scriptish:
        return "script", text_platform
    if requires:
        return "plugin", ""
    return "gui", text_platform
