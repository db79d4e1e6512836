"""The image a code request runs on: the user's file with its metadata, or a fitting synthetic scene."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from scopebot.code.blocks.io import canonical_axes, read_metadata
from scopebot.code.plan import AnalysisPlan, ImageMeta
from scopebot.code.scenes import Scene, make_scene, write_scene
from scopebot.errors import ConfigurationError


def image_meta(path: Path) -> ImageMeta:
    """The :class:`ImageMeta` of an image file (axes, sizes, calibration from OME/ImageJ tags)."""
    try:
        raw = read_metadata(path)
    except Exception as exc:  # noqa: BLE001 - a broken file is the user's to fix
        raise ConfigurationError(f"cannot read the image metadata of {path.name}: {exc}",
                                 hint="check that the file is a valid TIFF/OME-TIFF or PNG") from exc
    sizes = dict(zip(canonical_axes(raw["axes"]), raw["shape"], strict=False))  # as the script will read them
    return ImageMeta(axes=raw["axes"], channels=sizes.get("C", 1), z=sizes.get("Z", 1),
                     t=sizes.get("T", 1), pixel_size_um=raw["pixel_size_um"], z_step_um=raw["z_step_um"],
                     time_step_s=raw["time_step_s"], channel_names=raw.get("channel_names", []))


AXES_WORDS = Path(__file__).with_name("axes_words_v1.yaml")


@lru_cache(maxsize=1)
def _axes_words() -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(AXES_WORDS.read_text(encoding="utf-8"))
    return {"T": tuple(data["time"]), "Z": tuple(data["z"])}


def unnamed_axis(meta: ImageMeta) -> str | None:
    """The letter of an axis the file does not name (tifffile 'Q', 'I', ...) that is read as z, else None."""
    axes = meta.axes.upper()
    for letter, read_as in zip(axes, canonical_axes(axes), strict=True):
        if letter not in "TCZYXS" and read_as == "Z":
            return letter
    return None


def planes_named(request: str) -> set[str]:
    """What the request says the planes are: 'T' (time-lapse words), 'Z' (z-stack words), both or neither
    (phrases of ``axes_words_v1.yaml``, as whole words)."""
    text = " " + re.sub(r"[^\w/^µ-]+", " ", request.lower()) + " "
    return {axis for axis, phrases in _axes_words().items() if any(f" {p} " in text for p in phrases)}


def read_unnamed_as_time(meta: ImageMeta) -> ImageMeta:
    """``meta`` with the file's unnamed axis (read as z) read as time points instead; the script is told
    through ``stated`` ('axes')."""
    letter = unnamed_axis(meta)
    if letter is None or "T" in meta.axes.upper():
        return meta
    axes = meta.axes.replace(letter, "T", 1)
    return meta.model_copy(update={"axes": axes, "t": meta.z, "z": 1, "stated": [*meta.stated, "axes"]})


def scene_for(plan: AnalysisPlan) -> tuple[str, dict[str, object]]:
    """The synthetic scene (name, parameters) that can answer ``plan`` when no image was given."""
    kinds = plan.kinds()
    if "tracking" in kinds:
        return "moving_spot", {}
    if plan.outputs.per_frame:
        return "moving_spot", {"spots": 3}
    if plan.inputs.z == "3d":
        return "nuclei_3d", {}
    if "object_distance" in kinds:
        return "partners", {}
    if "colocalisation" in kinds:
        return "coloc", {}
    if "objects_inside" in kinds:
        return "nuclei_spots", {}
    if "positivity" in kinds:
        return "nuclei", {"channels": 2, "count": 8, "positive": 3}
    if any(m.channel not in (None, plan.inputs.channel) for m in plan.measurements):
        return "nuclei", {"channels": 2}
    if "skeleton_length" in kinds:
        return "filaments", {}
    if "nn_distance" in kinds:
        return "grid", {}
    if plan.segmentation is not None and plan.segmentation.split_touching:
        return "touching", {}
    if plan.preprocessing.background:
        return "uneven_spots", {}
    if plan.segmentation is not None and plan.segmentation.exclude_border:
        return "nuclei", {"border": 3}
    return "nuclei", {}


def synthetic_input(plan: AnalysisPlan, folder: Path) -> tuple[Path, Scene, str]:
    """Write the fitting synthetic scene; returns its path, the scene and a description."""
    name, params = scene_for(plan)
    scene = make_scene(name, seed=7, **params)
    path = write_scene(scene, folder / "synthetic.ome.tif", "ome")
    shape = "x".join(str(n) for n in scene.data.shape)
    known = ", ".join(f"{k} {v}" for k, v in scene.truth.items() if isinstance(v, (int, float)))
    return path, scene, f"a synthetic {scene.axes} image ({shape}, scene '{name}') with known contents ({known})"
