"""Shared helper inlined into recipes: load TIFF / OME-TIFF / PNG with the pixel size."""

import numpy as np


def load_image(path):
    """Return (pixels as a numpy array, pixel size in micrometres or None).

    OME-TIFF: PhysicalSizeX from the OME-XML. ImageJ TIFF: the XResolution tag with the
    'unit' from the ImageJ description. PNG/JPEG: no pixel size.
    """
    import re
    from pathlib import Path

    path = str(path)
    if Path(path).suffix.lower() in (".tif", ".tiff", ".btf"):
        import tifffile

        with tifffile.TiffFile(path) as tif:
            data = tif.asarray()
            size = None
            if tif.is_ome and tif.ome_metadata:
                match = re.search(r'PhysicalSizeX="([0-9.eE+-]+)"', tif.ome_metadata)
                unit = re.search(r'PhysicalSizeXUnit="([^"]+)"', tif.ome_metadata)
                if match:
                    size = float(match.group(1))
                    if unit and unit.group(1) == "nm":
                        size /= 1000.0
            elif tif.pages[0].tags.get("XResolution") is not None:
                num, den = tif.pages[0].tags["XResolution"].value
                meta = tif.imagej_metadata or {}
                if num and meta.get("unit") in ("micron", "um", "\\u00B5m", "µm"):
                    size = den / num
        return np.asarray(data), size
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im), None
