"""Preprocessing: background correction, denoising, smoothing (2-D or 3-D)."""

import numpy as np


def subtract_background(image, radius=25):
    """Remove a slowly varying background: subtract a grey opening with a disk wider than the objects.

    Like a rolling ball: the radius must exceed the largest object's radius. The background is
    estimated on a lightly smoothed copy (noise does not pull it down) padded by odd reflection
    (a gradient continues past the border, so no false objects appear along the edges).
    3-D stacks are corrected plane by plane.
    """
    from scipy import ndimage as ndi
    from skimage.morphology import disk, opening

    if image.ndim == 3:
        return np.stack([subtract_background(plane, radius) for plane in image])
    r = int(radius)
    padded = np.pad(ndi.gaussian_filter(image, 3), r, mode="reflect", reflect_type="odd")
    background = opening(padded, disk(r, decomposition="sequence"))[r:-r, r:-r]  # fast, close to a true disk
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
