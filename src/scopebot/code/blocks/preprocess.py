"""Preprocessing: background correction, denoising, smoothing (2-D or 3-D)."""

import numpy as np


def subtract_background(image, radius=25):
    """Remove a slowly varying background: subtract a grey opening wider than the objects."""
    from scipy import ndimage as ndi

    size = [1] * (image.ndim - 2) + [2 * int(radius) + 1] * 2
    background = ndi.grey_opening(image, size=size)
    background = ndi.uniform_filter(background, size=size)
    return np.clip(image - background, 0, None)


def denoise(image, size=3):
    """Median filter (removes salt-and-pepper and shot noise, keeps edges)."""
    from scipy import ndimage as ndi

    return ndi.median_filter(image, size=size)


def smooth(image, sigma=1.0, spacing=None):
    """Gaussian smoothing; with a (z, y, x) spacing the sigma is scaled per axis (isotropic in um)."""
    from scipy import ndimage as ndi

    if spacing is not None and image.ndim == 3:
        sigma = [sigma * spacing[-1] / s for s in spacing]
    return ndi.gaussian_filter(image, sigma)
