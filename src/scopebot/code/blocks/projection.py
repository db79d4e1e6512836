"""Checks of a projection: did projecting a stack merge things that are separate in the stack?"""

import numpy as np

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
    from skimage import filters

    planes = np.asarray(planes, dtype=float)
    labels = np.asarray(labels)
    if planes.ndim != 3 or planes.shape[0] < 2 or labels.ndim != 2 or int(labels.max()) == 0:
        return 0, 0
    if method == "manual" and value is not None:
        level = float(value)
    else:
        name = method if method in ("otsu", "li", "triangle", "yen", "mean") else "otsu"
        level = {"otsu": filters.threshold_otsu, "li": filters.threshold_li, "triangle": filters.threshold_triangle,
                 "yen": filters.threshold_yen, "mean": filters.threshold_mean}[name](planes.max(axis=0))
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
