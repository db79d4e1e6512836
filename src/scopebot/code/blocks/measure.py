"""Measurements on a label image: size, intensity, shape, skeleton length, distances, positivity."""

import numpy as np


def object_table(labels, spacing=None):
    """One row per object: label, centroid (px), size in px/voxels and, with a spacing, in um^2/um^3."""
    import pandas as pd
    from skimage import measure

    props = measure.regionprops_table(labels, properties=("label", "area", "centroid"))
    table = pd.DataFrame(props)
    dims = "zyx"[3 - labels.ndim:]
    table = table.rename(columns={f"centroid-{i}": f"{d}_px" for i, d in enumerate(dims)})
    if labels.ndim == 3:
        table = table.rename(columns={"area": "volume_voxels"})
        if spacing is not None:
            table["volume_um3"] = table["volume_voxels"] * float(np.prod(spacing))
    else:
        table = table.rename(columns={"area": "area_px"})
        if spacing is not None:
            table["area_um2"] = table["area_px"] * spacing[-1] * spacing[-2]
    return table


def mean_intensity(labels, image):
    """Mean of ``image`` (any channel) inside each object, in label order."""
    from scipy import ndimage as ndi

    ids = np.arange(1, int(labels.max()) + 1)
    return np.asarray(ndi.mean(image, labels=labels, index=ids), dtype=float)


def object_intensity(labels, image, stat="mean"):
    """One statistic of ``image`` (any channel) inside each object, in label order: 'mean', 'median',
    'max', 'min' or 'sum' (the integrated intensity, ImageJ's RawIntDen)."""
    from scipy import ndimage as ndi

    ids = np.arange(1, int(labels.max()) + 1)
    func = {"mean": ndi.mean, "median": ndi.median, "max": ndi.maximum, "min": ndi.minimum, "sum": ndi.sum}[stat]
    return np.asarray(func(image, labels=labels, index=ids), dtype=float)


def shape_table(labels, pixel_size=None):
    """Eccentricity, solidity, circularity (4 pi area / perimeter^2), aspect ratio (major / minor axis),
    perimeter, major/minor axis lengths and the equivalent diameter (of the circle with the same area), in px or,
    with a pixel size, um, of each 2-D object."""
    import pandas as pd
    from skimage import measure

    props = measure.regionprops_table(labels, properties=("eccentricity", "solidity", "area", "perimeter",
                                                          "axis_major_length", "axis_minor_length"))
    table = pd.DataFrame(props)
    table["circularity"] = (4 * np.pi * table["area"] / np.maximum(table["perimeter"], 1e-9) ** 2).clip(upper=1)
    table["aspect_ratio"] = table["axis_major_length"] / np.maximum(table["axis_minor_length"], 1e-9)
    table["equivalent_diameter"] = np.sqrt(4 * table["area"] / np.pi)  # of the circle with the same area
    table = table.rename(columns={"perimeter": "perimeter", "axis_major_length": "major_axis",
                                  "axis_minor_length": "minor_axis"})
    unit, scale = ("um", float(pixel_size)) if pixel_size else ("px", 1.0)
    lengths = []
    for name in ("perimeter", "major_axis", "minor_axis", "equivalent_diameter"):
        table[f"{name}_{unit}"] = table[name] * scale
        lengths.append(f"{name}_{unit}")
    return table[["eccentricity", "solidity", "circularity", "aspect_ratio", *lengths]]


def skeleton_lengths(labels, pixel_size=1.0):
    """Length of each 2-D object's skeleton: neighbouring skeleton pixels joined, diagonals count sqrt(2)."""
    from skimage.morphology import skeletonize

    owner = np.where(skeletonize(labels > 0), labels, 0)
    padded = np.pad(owner, 1)
    height, width = owner.shape
    lengths = np.zeros(int(labels.max()) + 1)
    for dy, dx, step in ((0, 1, 1.0), (1, 0, 1.0), (1, 1, 2 ** 0.5), (1, -1, 2 ** 0.5)):
        shifted = padded[1 + dy:height + 1 + dy, 1 + dx:width + 1 + dx]
        same = (owner == shifted) & (owner > 0)
        np.add.at(lengths, owner[same], step)
    return lengths[1:] * pixel_size


def nearest_neighbour_distances(points, other=None):
    """For each point, the distance to the nearest other point (or to the nearest point of ``other``)."""
    from scipy.spatial import cKDTree

    points = np.asarray(points, dtype=float)
    if other is None:
        if len(points) < 2:
            return np.full(len(points), np.nan)
        return cKDTree(points).query(points, k=2)[0][:, 1]
    other = np.asarray(other, dtype=float)
    if len(other) == 0:
        return np.full(len(points), np.nan)
    return cKDTree(other).query(points, k=1)[0]


def positive_objects(labels, marker, threshold):
    """Which objects have a mean marker intensity above ``threshold`` (and the means)."""
    means = mean_intensity(labels, marker)
    return means > threshold, means


def colocalisation(image_a, image_b, mask=None):
    """Pearson's r and Manders' M1/M2 (Otsu thresholds) of two channels, inside ``mask`` if given."""
    from skimage.filters import threshold_otsu

    a = np.asarray(image_a, dtype=float)
    b = np.asarray(image_b, dtype=float)
    if mask is not None:
        a, b = a[mask], b[mask]
    a, b = a.ravel(), b.ravel()
    pearson = float(np.corrcoef(a, b)[0, 1])
    above_a, above_b = a > threshold_otsu(a), b > threshold_otsu(b)
    m1 = float(a[above_b].sum() / max(a.sum(), 1e-12))
    m2 = float(b[above_a].sum() / max(b.sum(), 1e-12))
    return {"pearson_r": pearson, "manders_m1": m1, "manders_m2": m2}


def column_summary(values, stat="mean"):
    """One summary number of a per-object column: 'mean', 'median', 'max', 'min' or 'sum' (the total);
    missing values (NaN) are left out, and an empty column gives NaN (never a made-up 0)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan")
    func = {"mean": np.mean, "median": np.median, "max": np.max, "min": np.min, "sum": np.sum}[stat]
    return float(func(values))


def coverage(labels, pixel_size=None):
    """The share of the image the objects cover: (percent of the pixels, covered area in px, or um^2 with a
    pixel size). 2-D label images only."""
    covered = float(np.count_nonzero(labels))
    area = covered * float(pixel_size) ** 2 if pixel_size else covered
    return 100.0 * covered / labels.size, area


def objects_inside(labels, inner_labels):
    """For each object of ``labels`` (in label order), how many objects of ``inner_labels`` (e.g. spots of another
    channel) have their centre inside it."""
    from scipy import ndimage as ndi

    counts = np.zeros(int(labels.max()), dtype=int)
    ids = np.arange(1, int(inner_labels.max()) + 1)
    if ids.size == 0 or counts.size == 0:
        return counts
    for centre in ndi.center_of_mass(inner_labels > 0, inner_labels, ids):
        if not np.all(np.isfinite(centre)):
            continue
        owner = int(labels[tuple(int(round(c)) for c in centre)])
        if owner > 0:
            counts[owner - 1] += 1
    return counts
