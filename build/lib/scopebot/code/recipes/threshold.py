"""Threshold an image into foreground and background (Otsu, Li, triangle, Yen or mean).

Keywords: threshold, thresholding, otsu, li, triangle, yen, binary, mask, binarize, segment, foreground
Otsu suits two well-separated intensity populations; Li and triangle cope better with small
bright objects on large backgrounds. A light Gaussian smoothing first makes masks cleaner.
"""

import numpy as np

from scopebot.code.recipes._io import load_image  # scopebot:inline


def threshold(image, method="otsu", smooth_sigma=1.0):
    """(binary mask, threshold value) for ``method`` in otsu/li/triangle/yen/mean."""
    from scipy import ndimage as ndi
    from skimage import filters

    methods = {"otsu": filters.threshold_otsu, "li": filters.threshold_li,
               "triangle": filters.threshold_triangle, "yen": filters.threshold_yen,
               "mean": filters.threshold_mean}
    if method not in methods:
        raise ValueError(f"unknown method {method!r}: choose from {sorted(methods)}")
    img = np.asarray(image, dtype=np.float64)
    if smooth_sigma:
        img = ndi.gaussian_filter(img, smooth_sigma)
    value = float(methods[method](img))
    return img > value, value


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    IMAGE_PATH = globals().get("IMAGE_PATH", "image.tif")
    image, _ = load_image(IMAGE_PATH)
    for name in ("otsu", "li", "triangle"):
        mask, value = threshold(image, name)
        print(f"{name}: threshold {value:.1f}, foreground fraction {mask.mean():.3f}")
    mask, _ = threshold(image, "otsu")
    plt.imshow(mask, cmap="gray")
    plt.title("Otsu mask")
