"""Subtract an uneven background (rolling ball or large Gaussian) from a fluorescence image.

Keywords: background, subtract, subtraction, rolling ball, uneven illumination, flat field, shading, tophat
The rolling-ball estimate (skimage.restoration.rolling_ball) suits small bright objects; the
Gaussian estimate is faster for smooth gradients. The radius should exceed the object size.
"""

import numpy as np

from scopebot.code.recipes._io import load_image  # scopebot:inline


def subtract_background(image, radius=25, method="rolling_ball"):
    """Image minus its estimated background (float, clipped at 0) and the background."""
    from scipy import ndimage as ndi
    from skimage import restoration

    img = np.asarray(image, dtype=np.float64)
    if method == "rolling_ball":
        background = restoration.rolling_ball(img, radius=radius)
    elif method == "gaussian":
        background = ndi.gaussian_filter(img, sigma=radius)
        background = np.minimum(background, img)
    else:
        raise ValueError(f"unknown method {method!r}: use 'rolling_ball' or 'gaussian'")
    return np.clip(img - background, 0, None), background


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    IMAGE_PATH = globals().get("IMAGE_PATH", "image.tif")
    image, _ = load_image(IMAGE_PATH)
    if image.ndim > 2:
        image = image.max(axis=0)
    corrected, background = subtract_background(image, radius=25)
    print(f"background mean {background.mean():.1f}; corrected range {corrected.min():.1f}-{corrected.max():.1f}")
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    axes[0].imshow(image, cmap="gray")
    axes[0].set_title("original")
    axes[1].imshow(corrected, cmap="gray")
    axes[1].set_title("background subtracted")
