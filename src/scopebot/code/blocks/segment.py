"""Segmentation: threshold, clean, split touching objects, label, filter (2-D or 3-D)."""

import numpy as np


def threshold_mask(image, method="otsu", value=None):
    """A foreground mask: a named automatic threshold ('otsu', 'li', 'triangle', 'yen', 'mean') or a value."""
    from skimage import filters

    if method == "manual":
        return image > value
    level = {"otsu": filters.threshold_otsu, "li": filters.threshold_li, "triangle": filters.threshold_triangle,
             "yen": filters.threshold_yen, "mean": filters.threshold_mean}[method](image)
    return image > level


def fill_holes(mask):
    """Fill holes inside objects (plane by plane for 3-D masks)."""
    from scipy import ndimage as ndi

    if mask.ndim == 3:
        return np.stack([ndi.binary_fill_holes(plane) for plane in mask])
    return ndi.binary_fill_holes(mask)


def label_objects(mask):
    """Connected components (full connectivity) as a label image."""
    from skimage import measure

    return measure.label(mask, connectivity=mask.ndim)


def split_touching(mask, min_distance=5, spacing=None):
    """Split touching objects: seeds at distance-transform maxima, then a watershed."""
    from scipy import ndimage as ndi
    from skimage import feature, segmentation

    distance = ndi.distance_transform_edt(mask, sampling=spacing)
    distance = ndi.gaussian_filter(distance, 1.0)
    peaks = feature.peak_local_max(distance, min_distance=min_distance, labels=label_objects(mask),
                                   exclude_border=False)
    markers = np.zeros(mask.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return segmentation.watershed(-distance, markers, mask=mask)


def filter_objects(labels, min_size=0, max_size=None, exclude_border=False):
    """Drop objects smaller than min_size or larger than max_size (pixels/voxels) or touching the border."""
    from skimage import segmentation

    labels = labels.copy()
    if exclude_border:
        labels = segmentation.clear_border(labels)
    sizes = np.bincount(labels.ravel())
    drop = sizes < min_size
    if max_size is not None:
        drop |= sizes > max_size
    drop[0] = False
    labels[drop[labels]] = 0
    from skimage.segmentation import relabel_sequential

    return relabel_sequential(labels)[0]
