"""Loading: pixels in the canonical TCZYX order plus the metadata the plan needs."""

import numpy as np


def read_metadata(path):
    """Axes, sizes and calibration of a TIFF / OME-TIFF (or PNG) without keeping the pixels.

    Returns a dict: axes (tifffile's, e.g. 'ZCYX'), shape, pixel_size_um (y/x), z_step_um,
    time_step_s (None when the file does not say), channel_names (OME channel names, else []).
    """
    import re
    from pathlib import Path

    meta = {"axes": "YX", "shape": [], "pixel_size_um": None, "z_step_um": None, "time_step_s": None,
            "channel_names": []}
    if Path(str(path)).suffix.lower() not in (".tif", ".tiff", ".btf"):
        from PIL import Image

        with Image.open(path) as im:
            arr = np.asarray(im)
        meta["axes"] = "YX" if arr.ndim == 2 else "YXS"
        meta["shape"] = list(arr.shape)
        return meta
    import tifffile

    unit_factor = {"nm": 0.001, "um": 1.0, "µm": 1.0, "micron": 1.0, "\\u00B5m": 1.0, "mm": 1000.0}
    time_factor = {"s": 1.0, "ms": 0.001, "min": 60.0, "h": 3600.0}
    with tifffile.TiffFile(str(path)) as tif:
        series = tif.series[0]
        meta["axes"] = series.axes
        meta["shape"] = list(series.shape)
        ome = tif.ome_metadata if tif.is_ome else None
        if ome:
            def _field(name, factors, default_unit):
                value = re.search(name + r'="([0-9.eE+-]+)"', ome)
                if not value:
                    return None
                unit = re.search(name + r'Unit="([^"]+)"', ome)
                return float(value.group(1)) * factors.get(unit.group(1) if unit else default_unit, 1.0)

            meta["pixel_size_um"] = _field("PhysicalSizeX", unit_factor, "µm")
            meta["z_step_um"] = _field("PhysicalSizeZ", unit_factor, "µm")
            meta["time_step_s"] = _field("TimeIncrement", time_factor, "s")
            channels = re.findall(r"<Channel\b([^>]*)>", ome)
            names = [re.search(r'\bName="([^"]*)"', c) for c in channels]
            if channels and all(names):
                meta["channel_names"] = [n.group(1) for n in names]
        else:
            ij = tif.imagej_metadata or {}
            tag = tif.pages[0].tags.get("XResolution")
            unit = ij.get("unit")
            if tag is not None and unit in unit_factor:
                num, den = tag.value
                if num:
                    meta["pixel_size_um"] = den / num * unit_factor[unit]
            if ij.get("spacing") and unit in unit_factor:
                meta["z_step_um"] = float(ij["spacing"]) * unit_factor[unit]
            if ij.get("finterval"):
                meta["time_step_s"] = float(ij["finterval"])
    return meta


def canonical_axes(axes):
    """tifffile axes in TCZYX letters: samples (S) are channels; an axis the file does not name (Q, I, ...)
    is read as Z, or as T when Z is taken."""
    axes = axes.upper().replace("S", "C")
    mapped = []
    for ax in axes:
        if ax not in "TCZYX":
            ax = "Z" if "Z" not in axes and "Z" not in mapped else "T"
        mapped.append(ax)
    return "".join(mapped)


def to_tczyx(data, axes):
    """Reorder an array with tifffile axes (e.g. 'ZCYX', 'TYX', 'YXS') to 5-D TCZYX."""
    data = np.asarray(data)
    mapped = list(canonical_axes(axes))
    for ax in "TCZYX":
        if ax not in mapped:
            data = data[np.newaxis]
            mapped.insert(0, ax)
    return np.transpose(data, [mapped.index(ax) for ax in "TCZYX"])


def load_image(path, axes=None):
    """Pixels as a TCZYX array and the metadata dict of :func:`read_metadata`.

    ``axes`` overrides the file's axes (e.g. 'TYX' for a plain TIFF whose unnamed planes are time points).
    """
    from pathlib import Path

    meta = read_metadata(path)
    if axes is not None:
        meta["axes"] = axes
    if Path(str(path)).suffix.lower() in (".tif", ".tiff", ".btf"):
        import tifffile

        data = tifffile.imread(str(path))
    else:
        from PIL import Image

        with Image.open(path) as im:
            data = np.asarray(im)
    return to_tczyx(data, meta["axes"]), meta
