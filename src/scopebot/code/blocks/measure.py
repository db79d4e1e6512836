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


def object_intensity(labels, image, stat="mean", count=None):
    """One statistic of ``image`` (any channel) inside each object, in label order: 'mean', 'median',
    'max', 'min' or 'sum' (the integrated intensity, ImageJ's RawIntDen); ``count`` objects (default: the
    largest label; an object without pixels gets NaN)."""
    from scipy import ndimage as ndi

    ids = np.arange(1, int(labels.max() if count is None else count) + 1)
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


#: Positivity cutoff rules (the summary ``marker_rule``): 1 the object means fall into two groups and the cutoff
#: lies between them; 2 one group far above the background (all positive but for outliers below the cutoff);
#: 3 one group at the background (all negative but for outliers above); 0 no clear split.
MARKER_RULES = {1: "between two groups of object means", 2: "all objects far above the background",
                3: "the objects at the background level", 0: "no clear split"}


def marker_cutoff(labels, marker, ring=3):
    """A positivity cutoff from the objects' mean marker intensities and the background, robust to a few very
    bright (or dim) objects. Returns (cutoff, rule, clear, background); see MARKER_RULES.

    The background is the median of the marker outside the objects (grown by ``ring`` px), its noise the
    MAD. Each object's signal is its mean above the background plus the noise, on a log scale. The cutoff is
    the geometric middle of the widest gap (at least a factor 2) with two or more objects on each side; without
    such a gap, and when the middle half of the objects lies within a factor 2 (one group, not a ramp): the middle
    between the background and the objects' median (the median at least the background level and 5 noise SDs
    above it), or twice the median's signal (the median within half the background level and 2 SDs of it). ``clear`` is False when no rule fits or an object lies within a factor 1.25 of the cutoff.
    """
    from scipy import ndimage as ndi

    marker = np.asarray(marker, dtype=float)
    means = mean_intensity(labels, marker)
    outside = ~ndi.binary_dilation(labels > 0, iterations=ring) if ring else labels == 0
    if not outside.any():
        outside = labels == 0
    values = marker[outside] if outside.any() else marker.ravel()
    background = float(np.median(values))
    noise = float(1.4826 * np.median(np.abs(values - background)))
    if means.size == 0:
        return float("nan"), 0, False, background
    floor = max(noise, 1e-3 * max(float(np.abs(means).max()), abs(background)), 1e-12)
    signal = np.sort(np.clip(means - background, 0, None) + floor)
    logs = np.log(signal)
    level, rule = None, 0
    if signal.size >= 4:
        gaps = np.diff(logs)[1:-1]  # two or more objects on each side
        k = int(np.argmax(gaps)) + 2
        if gaps[k - 2] >= np.log(2.0):
            level, rule = float(np.sqrt(signal[k - 1] * signal[k])), 1
    if level is None:
        median = float(np.median(means)) - background
        quartiles = np.percentile(signal, [25, 75])
        one_group = quartiles[1] <= 2.0 * quartiles[0]  # the middle half within a factor 2 (not a ramp)
        if one_group and median >= max(5 * noise, abs(background)):
            level, rule = float(np.sqrt(floor * (median + floor))), 2
        elif one_group and median <= max(2 * noise, 0.5 * abs(background)):
            level, rule = 2.0 * (max(median, 0.0) + floor), 3
        else:
            level = float(np.exp(logs.mean()))
    near = np.abs(logs - np.log(level)) < np.log(1.25)
    return level - floor + background, rule, bool(rule and not near.any()), background


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
