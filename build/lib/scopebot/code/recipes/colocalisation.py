"""Colocalisation of two channels: Pearson's correlation and Manders' M1/M2 coefficients.

Keywords: colocalisation, colocalization, coloc, pearson, manders, m1, m2, correlation, overlap, two channels, channel
Pearson is computed over all pixels (or a mask); Manders' coefficients are the fraction of each
channel's intensity found where the other channel is above its (Otsu) threshold.
"""

import numpy as np

from scopebot.code.recipes._io import load_image  # scopebot:inline


def pearson(a, b, mask=None):
    """Pearson's correlation coefficient of two images (within ``mask`` if given)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if mask is not None:
        a, b = a[mask], b[mask]
    a = a.ravel() - a.mean()
    b = b.ravel() - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom else 0.0


def manders(a, b, threshold_a=None, threshold_b=None):
    """(M1, M2): fraction of a's intensity where b > threshold_b, and of b's where a > threshold_a."""
    from skimage import filters

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ta = filters.threshold_otsu(a) if threshold_a is None else threshold_a
    tb = filters.threshold_otsu(b) if threshold_b is None else threshold_b
    m1 = a[b > tb].sum() / a.sum() if a.sum() else 0.0
    m2 = b[a > ta].sum() / b.sum() if b.sum() else 0.0
    return float(m1), float(m2)


def split_channels(image):
    """Two 2D channels from a (C, Y, X), (Y, X, C) or (Z, C, Y, X) array."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] in (2, 3, 4) and image.shape[0] > 4:
        return image[..., 0], image[..., 1]
    if image.ndim == 3:
        return image[0], image[1]
    if image.ndim == 4:
        return image[:, 0].max(axis=0), image[:, 1].max(axis=0)
    raise ValueError(f"need an image with two channels, got shape {image.shape}")


if __name__ == "__main__":
    IMAGE_PATH = globals().get("IMAGE_PATH", "image.tif")
    image, _ = load_image(IMAGE_PATH)
    try:
        ch1, ch2 = split_channels(image)
    except ValueError as exc:
        print(f"Colocalisation needs two channels: {exc}")
    else:
        m1, m2 = manders(ch1, ch2)
        print(f"Pearson r = {pearson(ch1, ch2):.3f}")
        print(f"Manders M1 = {m1:.3f}, M2 = {m2:.3f}")
