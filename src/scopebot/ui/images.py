"""Uploaded images: validate by content, read basic metadata, write a preview.

An upload is accepted when its header says TIFF (including OME-TIFF), PNG or JPEG, whatever its
name says, and it is under the size limit. We report shape, dtype, axes and the pixel size when the
file states one (OME-XML ``PhysicalSizeX/Y`` or the TIFF resolution tags). A file that states none
(no resolution, ResolutionUnit NONE, a placeholder of one pixel per inch or centimetre, a screen
DPI) is *uncalibrated*: the panel says so and asks for the pixel size, which
:func:`with_pixel_size` then writes into a calibrated copy for the analysis. The preview is an 8-bit
PNG of a maximum projection, contrast-stretched, so that 12/16-bit and z-stack files are visible.
JPEG uploads are also re-saved as PNG for the code assistant, which takes TIFF or PNG.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scopebot.errors import ConfigurationError
from scopebot.imagefiles import JPEG_NOTE, jpeg_to_png, sniff
from scopebot.ui.safety import inline_text

DEFAULT_MAX_MB = 200
PREVIEW_MAX_SIDE = 512
_PHYS = re.compile(r'PhysicalSize(X|Y)="([0-9.eE+-]+)"(?:[^>]*?PhysicalSize\1Unit="([^"]+)")?')
#: What the image panel says when the file states no pixel size (and what it asks for).
UNCALIBRATED = "uncalibrated: give the pixel size"
#: What a code reply starts with when it ran on the synthetic test image instead of the user's data.
SYNTHETIC = "Not your image"


@dataclass
class ImageInfo:
    """What the UI shows about an upload, and the file the code assistant should use."""

    name: str
    path: Path
    format: str
    size_bytes: int
    shape: tuple[int, ...]
    dtype: str
    axes: str = ""
    pixel_size: tuple[float, float, str] | None = None
    preview: Path | None = None
    analysis_path: Path | None = None
    notes: list[str] = field(default_factory=list)
    #: True when the pixel size was typed in by the user rather than read from the file.
    pixel_size_given: bool = False
    #: Distance between z planes in µm (from OME ``PhysicalSizeZ`` / ImageJ ``spacing``, or typed in).
    z_step: float | None = None
    z_step_given: bool = False
    #: True when the file does not name its axes and ``axes`` is our guess (a 3-D stack: ZYX).
    axes_assumed: bool = False

    @property
    def calibrated(self) -> bool:
        return self.pixel_size is not None

    @property
    def z_planes(self) -> int:
        """Number of z planes (1 for a single plane)."""
        return int(self.shape[self.axes.index("Z")]) if "Z" in self.axes and len(self.axes) == len(self.shape) else 1

    def markdown(self) -> str:
        """A short metadata list for the panel under the preview."""
        size = f"{self.size_bytes / 1e6:.1f} MB" if self.size_bytes >= 1e6 else f"{self.size_bytes / 1e3:.0f} KB"
        lines = [f"**{inline_text(self.name)}** — {self.format.upper()}, {size}",
                 f"- shape: `{' × '.join(str(s) for s in self.shape)}`" + (f" (axes `{self.axes}`" + (
                     ", assumed: the file does not name its axes; if the planes are not z, say so in the "
                     "request" if self.axes_assumed else "") + ")" if self.axes else ""),
                 f"- dtype: `{self.dtype}`"]
        if self.pixel_size:
            x, y, unit = self.pixel_size
            lines.append(f"- pixel size: {x:g} × {y:g} {inline_text(unit)}"
                         + (" (given by you)" if self.pixel_size_given else ""))
        else:
            lines.append(f"- pixel size: **{UNCALIBRATED}** — the file does not state it. Type it (µm per "
                         "pixel) in the *Pixel size* field below; until then sizes are in pixels.")
        if self.z_planes > 1:
            if self.z_step:
                lines.append(f"- z step: {self.z_step:g} µm" + (" (given by you)" if self.z_step_given else ""))
            else:
                lines.append("- z step: **not stated** — type it (µm between planes) in the *Z step* field "
                             "below; 3-D sizes such as volumes need it")
        lines += [f"- _{inline_text(n)}_" for n in self.notes]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "format": self.format, "shape": list(self.shape), "dtype": self.dtype,
                "axes": self.axes, "pixel_size": list(self.pixel_size) if self.pixel_size else None}


def inspect_upload(path: Path | str, workdir: Path, max_mb: float = DEFAULT_MAX_MB) -> ImageInfo:
    """Validate an upload and return its metadata, a preview PNG and the path for analysis.

    Raises :class:`ConfigurationError` (with a hint) for a missing, oversized, non-image or unreadable file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError("the uploaded file is missing", hint="upload it again")
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise ConfigurationError(f"{path.name} is {size / 1e6:.0f} MB, over the {max_mb:g} MB upload limit",
                                 hint="crop, downsample or save a single plane, then upload that")
    fmt = sniff(path)
    if fmt is None:
        raise ConfigurationError(f"{path.name} is not a TIFF, OME-TIFF, PNG or JPEG image",
                                 hint="upload a .tif/.ome.tif, .png or .jpg file")
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        data, axes, pixel_size, notes = _read_tiff(path) if fmt == "tiff" else _read_pil(path)
    except ConfigurationError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure is the file's fault
        raise ConfigurationError(f"{path.name} could not be read as a {fmt.upper()} image ({exc})",
                                 hint="check that the file is not truncated or export it again") from exc
    assumed = axes == "QYX"  # tifffile's name for a 3-D stack whose file says nothing: z planes, most likely
    info = ImageInfo(name=path.name, path=path, format="ome-tiff" if "ome" in notes else fmt, size_bytes=size,
                     shape=tuple(int(s) for s in data.shape), dtype=str(data.dtype),
                     axes="ZYX" if assumed else axes, axes_assumed=assumed,
                     pixel_size=pixel_size, notes=[n for n in notes if n != "ome"],
                     z_step=_tiff_z_step(path) if fmt == "tiff" else None)
    info.preview = write_preview(data, axes, workdir / f"preview-{path.stem}.png")
    if fmt == "jpeg":
        info.analysis_path = jpeg_to_png(path, workdir)
        info.notes.append(JPEG_NOTE)
    else:
        info.analysis_path = path
    return info


def _read_tiff(path: Path) -> tuple[Any, str, tuple[float, float, str] | None, list[str]]:
    import tifffile

    notes: list[str] = []
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        axes = getattr(series, "axes", "")
        data = series.asarray()
        pixel_size = None
        if tif.is_ome and tif.ome_metadata:
            notes.append("ome")
            pixel_size = _ome_pixel_size(tif.ome_metadata)
        if pixel_size is None:
            pixel_size = _resolution_pixel_size(tif.pages[0], tif.imagej_metadata)
    return data, axes, pixel_size, notes


def _ome_pixel_size(xml: str) -> tuple[float, float, str] | None:
    found: dict[str, tuple[float, str]] = {}
    for m in _PHYS.finditer(xml):
        found.setdefault(m.group(1), (float(m.group(2)), m.group(3) or "µm"))
    if "X" not in found:
        return None
    x, unit = found["X"]
    y = found.get("Y", found["X"])[0]
    return (x, y, unit)


def _resolution_pixel_size(page: Any, imagej: dict[str, Any] | None = None) -> tuple[float, float, str] | None:
    """Pixel size from XResolution/YResolution (pixels per unit) and ResolutionUnit; None when uncalibrated.

    Uncalibrated means: no XResolution; ResolutionUnit NONE without an ImageJ unit; an ImageJ unit of
    "pixel"; one pixel per inch or centimetre (a writer's placeholder, not a microscope); a screen DPI.
    """
    tags = page.tags
    if "XResolution" not in tags:
        return None
    unit_tag = tags.get("ResolutionUnit")
    # the tag's value is an enum whose NONE member is falsy: compare numbers, never truthiness
    unit_code = 2 if unit_tag is None else int(unit_tag.value)  # the TIFF default unit is the inch
    unit = {2: "inch", 3: "cm"}.get(unit_code, "")
    ij_unit = str((imagej or {}).get("unit") or "").strip()
    if ij_unit:
        if ij_unit.lower() in ("pixel", "pixels", "px"):
            return None
        unit = ij_unit.replace("\\u00B5", "µ").replace("micron", "µm")
    if not unit:
        return None

    def per_pixel(tag: str) -> float | None:
        value = tags[tag].value if tag in tags else None
        if not value:
            return None
        num, den = (value if isinstance(value, tuple) else (value, 1))
        return den / num if num else None

    x, y = per_pixel("XResolution"), per_pixel("YResolution")
    if x is None:
        return None
    if unit in ("inch", "cm") and (abs(x - 1.0) < 1e-9 or (unit == "inch" and min(abs(x - 1 / 72), abs(x - 1 / 96)) < 1e-9)):
        return None  # a placeholder or the screen-DPI default says nothing about the sample
    if unit == "cm":
        x, y, unit = x * 1e4, (y or x) * 1e4, "µm"
    elif unit == "inch":
        x, y, unit = x * 25400.0, (y or x) * 25400.0, "µm"
    return (x, y or x, unit)


def _tiff_z_step(path: Path) -> float | None:
    """The z step in µm stated by a TIFF (OME ``PhysicalSizeZ``, ImageJ ``spacing``), else None."""
    import tifffile

    factor = {"nm": 0.001, "µm": 1.0, "um": 1.0, "micron": 1.0, "\\u00B5m": 1.0, "mm": 1000.0}
    try:
        with tifffile.TiffFile(path) as tif:
            if tif.is_ome and tif.ome_metadata:
                m = re.search(r'PhysicalSizeZ="([0-9.eE+-]+)"(?:[^>]*?PhysicalSizeZUnit="([^"]+)")?', tif.ome_metadata)
                return float(m.group(1)) * factor.get(m.group(2) or "µm", 1.0) if m else None
            ij = tif.imagej_metadata or {}
            if ij.get("spacing") and str(ij.get("unit", "")) in factor:
                return float(ij["spacing"]) * factor[str(ij["unit"])]
    except (ValueError, OSError, tifffile.TiffFileError):
        return None
    return None


def _micrometres(text: str, what: str, example: str) -> float:
    cleaned = str(text or "").strip().lower().replace(",", ".")
    cleaned = re.sub(r"\s*(µm|um|micron|microns|micrometres?|micrometers?)\s*$", "", cleaned)
    try:
        size = float(cleaned)
    except ValueError:
        size = -1.0
    if not (0 < size < 1e4):
        raise ConfigurationError(f"{str(text or '').strip()[:40]!r} is not a {what}",
                                 hint=f"type the {what} in µm, e.g. {example}")
    return size


def _calibrated_copy(info: ImageInfo, workdir: Path, pixel: float | None, z_step: float | None) -> Path:
    """An OME-TIFF copy of the image stating ``pixel`` (y/x) and ``z_step`` in µm, which the recipes and
    generated code read like any calibrated file."""
    import numpy as np
    import tifffile

    reader = _read_tiff if info.format in ("tiff", "ome-tiff") else _read_pil
    arr = np.asarray(reader(info.analysis_path or info.path)[0])
    axes = info.axes if len(info.axes) == arr.ndim else ""
    if not axes:
        axes = "YXS" if arr.ndim == 3 and arr.shape[-1] in (3, 4) else "ZYX"[-arr.ndim:] if arr.ndim <= 3 else ""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / (Path(info.name).name.split(".")[0] + "-calibrated.ome.tif")
    meta: dict[str, Any] = {}
    if pixel is not None:
        meta.update(PhysicalSizeX=pixel, PhysicalSizeY=pixel, PhysicalSizeXUnit="µm", PhysicalSizeYUnit="µm")
    if z_step is not None and "Z" in axes:
        meta.update(PhysicalSizeZ=z_step, PhysicalSizeZUnit="µm")
    if axes:
        meta["axes"] = axes
    tifffile.imwrite(out, arr, ome=True, photometric="rgb" if axes.endswith("S") else None, metadata=meta)
    return out


def _pixel_um(info: ImageInfo) -> float | None:
    if info.pixel_size is None:
        return None
    factor = {"nm": 0.001, "µm": 1.0, "um": 1.0, "micron": 1.0, "mm": 1000.0}.get(info.pixel_size[2])
    return info.pixel_size[0] * factor if factor else None


def with_pixel_size(info: ImageInfo, text: str, workdir: Path) -> ImageInfo:
    """``info`` with the pixel size the user typed (µm per pixel); the analysis uses a calibrated copy.

    The copy is an OME-TIFF with ``PhysicalSizeX/Y`` in µm (and the z step, when known), which the recipes
    and generated code read like any calibrated file. Raises :class:`ConfigurationError` for a value that
    is not a positive number.
    """
    size = _micrometres(text, "pixel size", "0.65")
    out = _calibrated_copy(info, workdir, size, info.z_step)
    return replace(info, pixel_size=(size, size, "µm"), pixel_size_given=True, analysis_path=out)


def with_z_step(info: ImageInfo, text: str, workdir: Path) -> ImageInfo:
    """``info`` with the z step the user typed (µm between planes), written with the pixel size into a
    calibrated copy for the analysis (3-D sizes: volumes in µm³). Raises :class:`ConfigurationError` for a
    value that is not a positive number, or for an image with a single plane."""
    step = _micrometres(text, "z step", "0.5")
    if info.z_planes <= 1:
        raise ConfigurationError(f"{info.name} has a single z plane, so a z step does not apply",
                                 hint="leave Image → Z step empty for 2-D images")
    out = _calibrated_copy(info, workdir, _pixel_um(info), step)
    return replace(info, z_step=step, z_step_given=True, analysis_path=out)


def _read_pil(path: Path) -> tuple[Any, str, tuple[float, float, str] | None, list[str]]:
    import numpy as np
    from PIL import Image

    with Image.open(path) as img:
        img.load()
        data = np.asarray(img)
        axes = "YXS" if data.ndim == 3 else "YX"
        pixel_size = None
        dpi = img.info.get("dpi")
        if dpi and float(dpi[0]) not in (72.0, 96.0) and float(dpi[0]) > 0:
            pixel_size = (25400.0 / float(dpi[0]), 25400.0 / float(dpi[1] or dpi[0]), "µm")
    return data, axes, pixel_size, []


def write_preview(data: Any, axes: str, out: Path) -> Path:
    """An 8-bit PNG preview: max projection over all but Y/X (and RGB samples), 0.5–99.5% stretch."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(data)
    rgb = axes.endswith("S") and arr.shape[-1] in (3, 4)
    keep = 3 if rgb else 2
    while arr.ndim > keep:
        arr = arr.max(axis=0)
    arr = _block_max(arr, rgb)  # a huge plane shrinks before any float copy (30000² in seconds, not a minute)
    arr = arr.astype("float32")
    lo, hi = np.percentile(arr, [0.5, 99.5]) if arr.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = float(arr.min()), float(arr.max()) or 1.0
    scaled = np.clip((arr - lo) / max(hi - lo, 1e-9) * 255.0, 0, 255).astype("uint8")
    img = Image.fromarray(scaled[..., :3] if rgb else scaled)
    img.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    img.save(out)
    return out


def _block_max(arr: Any, rgb: bool) -> Any:
    """Shrink Y/X by an integer factor to at most twice the preview size, keeping each block's maximum.

    The maximum keeps small bright objects (spots, thin lines) visible, which plain striding would drop.
    """
    h, w = arr.shape[0], arr.shape[1]
    factor = -(-max(h, w) // (2 * PREVIEW_MAX_SIDE))
    if factor <= 1:
        return arr
    h2, w2 = h // factor * factor, w // factor * factor
    if h2 == 0 or w2 == 0:
        return arr[::factor, ::factor]
    blocks = arr[:h2, :w2].reshape(h2 // factor, factor, w2 // factor, factor, *arr.shape[2:])
    return blocks.max(axis=(1, 3)) if not rgb else blocks[:, 0, :, 0]  # colour: a plain sample, no mixing
