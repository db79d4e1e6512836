"""Segmentation: threshold, clean, split touching objects, label, filter (2-D or 3-D); and the check of a
projection: did projecting a stack merge things that are separate in the stack?"""

import numpy as np


def threshold_level(image, method="otsu"):
    """The level of a named automatic threshold: 'otsu', 'li', 'triangle', 'yen' or 'mean'."""
    from skimage import filters

    return {"otsu": filters.threshold_otsu, "li": filters.threshold_li, "triangle": filters.threshold_triangle,
            "yen": filters.threshold_yen, "mean": filters.threshold_mean}[method](image)


def threshold_mask(image, method="otsu", value=None):
    """A foreground mask: a named automatic threshold ('otsu', 'li', 'triangle', 'yen', 'mean') or a value."""
    if method == "manual":
        return image > value
    return image > threshold_level(image, method)


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


#: The watershed split cuts an object only where it narrows: each seed is a dome of the distance transform
#: that rises at least this share of the object's half-width (and SPLIT_MIN_DIP_PX pixels) above the waist
#: to the next dome. Two round nuclei overlapping by up to 40 % of a diameter dip by 14-60 %; the ridge of one
#: elongated convex nucleus only by pixel steps (under 0.5 px, 5 %), so it is not cut.
SPLIT_MIN_DIP = 0.1
SPLIT_MIN_DIP_PX = 0.75


def split_touching(mask, spacing=None, min_dip=SPLIT_MIN_DIP):
    """Split touching objects: one seed per dome of the distance transform that rises at least
    ``max(min_dip * half-width, SPLIT_MIN_DIP_PX px)`` above the waist to its neighbour (h-maxima with h tied to
    each object's size), then a watershed. Elongated convex objects have one ridge, one dome: kept whole."""
    from scipy import ndimage as ndi
    from skimage import morphology, segmentation

    distance = ndi.distance_transform_edt(mask, sampling=spacing)
    objects = label_objects(mask)
    floor = SPLIT_MIN_DIP_PX * (1.0 if spacing is None else float(min(spacing)))
    connect = np.ones((3,) * mask.ndim, dtype=bool)
    markers = np.zeros(mask.shape, dtype=np.int32)
    count = 0
    for index, box in enumerate(ndi.find_objects(objects), start=1):
        if box is None:
            continue
        own = objects[box] == index
        local = np.where(own, distance[box], 0.0)
        height = max(floor, min_dip * float(local.max()))
        residue = local - morphology.reconstruction(local - height, local, method="dilation")
        domes, found = ndi.label((residue > 1e-6) & own, structure=connect)
        tall = np.flatnonzero(np.asarray(ndi.maximum(residue, domes, np.arange(1, found + 1))) >= height - 1e-6)
        view = markers[box]
        if tall.size == 0:  # a flat object: one seed at its deepest point
            view[np.unravel_index(int(np.argmax(local)), local.shape)] = count + 1
            count += 1
        for dome in tall + 1:
            count += 1
            view[domes == dome] = count
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


def object_voxels(labels, planes, method="otsu", value=None):
    """The voxels of each object of ``labels`` (a 2-D segmentation of a projection of the ZYX ``planes``, which
    are preprocessed like the projection was): inside the object's outline, in every plane where it is above the
    projection's level ('manual': ``value``). A ZYX label image, for intensities measured in 3-D."""
    planes = np.asarray(planes, dtype=float)
    if method == "manual" and value is not None:
        level = float(value)
    else:
        level = threshold_level(planes.max(axis=0), method if method in ("otsu", "li", "triangle", "yen", "mean")
                                else "otsu")
    return np.where(planes > level, np.asarray(labels)[np.newaxis], 0)


#: A projected object whose area is more than this times its widest single plane is spread over the planes.
SPREAD_RATIO = 1.5


def projection_check(planes, labels, method="otsu", value=None, min_size=10):
    """How many objects of ``labels`` (a 2-D segmentation of a projection of the ZYX ``planes``) the
    projection made out of more than one thing. Returns (stacked, spread):

    * ``stacked``: objects holding two or more separate parts at different depths (beads above each other),
      so a count or a per-object value of the projection is wrong;
    * ``spread``: objects whose projected area is over SPREAD_RATIO times their widest single plane (one
      thing at different x/y in different planes: planes that are time points, or a strongly tilted object),
      so an area or shape of the projection is not the object's.

    ``planes`` should be preprocessed like the projection was. Each plane is thresholded at the level of
    their max projection ('manual': at ``value``); a part counts when it has at least ``min_size`` voxels
    and at least a fifth of the object's largest part.
    """
    from scipy import ndimage as ndi

    planes = np.asarray(planes, dtype=float)
    labels = np.asarray(labels)
    if planes.ndim != 3 or planes.shape[0] < 2 or labels.ndim != 2 or int(labels.max()) == 0:
        return 0, 0
    if method == "manual" and value is not None:
        level = float(value)
    else:
        name = method if method in ("otsu", "li", "triangle", "yen", "mean") else "otsu"
        level = threshold_level(planes.max(axis=0), name)
    connect = np.ones((3, 3, 3), dtype=bool)
    stacked = spread = 0
    for index, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        own = labels[box] == index
        inside = (planes[(slice(None), *box)] > level) & own[np.newaxis]
        parts, count = ndi.label(inside, structure=connect)
        if count == 0:
            continue
        sizes = np.bincount(parts.ravel())[1:]
        if int((sizes >= max(min_size, 0.2 * sizes.max())).sum()) > 1:
            stacked += 1
        widest = int(inside.sum(axis=(1, 2)).max())
        if own.sum() > SPREAD_RATIO * max(widest, 1):
            spread += 1
    return stacked, spread
