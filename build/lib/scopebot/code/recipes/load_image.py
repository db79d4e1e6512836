"""Load a TIFF, OME-TIFF or PNG image and report its shape, type and pixel size.

Keywords: load, open, read, tiff, ome-tiff, ome, png, metadata, pixel size, calibration, shape, dtype
Reads the pixels with tifffile (PIL for PNG) and the pixel size from the OME-XML
(PhysicalSizeX) or the ImageJ resolution tags.
"""

import numpy as np

from scopebot.code.recipes._io import load_image  # scopebot:inline


def describe(image, pixel_size):
    """A one-paragraph summary of an image array."""
    size = f"{pixel_size:g} um" if pixel_size else "unknown"
    return (f"shape={image.shape} dtype={image.dtype} min={image.min()} max={image.max()} "
            f"mean={float(np.mean(image)):.2f} pixel size={size}")


if __name__ == "__main__":
    IMAGE_PATH = globals().get("IMAGE_PATH", "image.tif")
    image, pixel_size = load_image(IMAGE_PATH)
    print(describe(image, pixel_size))
