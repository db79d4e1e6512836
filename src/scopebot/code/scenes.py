"""Synthetic scenes with known answers, for the block tests and the ``analysis`` eval.

Each scene builder returns a :class:`Scene`: pixels with their axes, the calibration, and the
truth (counts, areas, volumes, intensities, lengths, distances, speeds) computed from what was
drawn. :func:`write_scene` stores it as OME-TIFF, ImageJ TIFF or a plain TIFF without calibration.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from scopebot.code.synthetic import disk_centers


class Scene(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    data: Any = Field(description="numpy array")
    axes: str
    pixel_size_um: float | None = None
    z_step_um: float | None = None
    time_step_s: float | None = None
    channel_names: list[str] | None = Field(default=None, description="Stain names (written to OME-XML).")
    truth: dict[str, Any] = Field(default_factory=dict)


def _disk(shape: tuple[int, int], cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r ** 2


def _finish(img: np.ndarray, rng: np.random.Generator, noise: float, bg: float = 100.0) -> np.ndarray:
    return np.clip(img + bg + rng.normal(0, noise, img.shape), 0, 65535).astype(np.uint16)


def _column_summaries(truth: dict[str, Any], base: str, columns: dict[str, list[float]]) -> None:
    """Summary truths of a per-object column: ``area_total_px``, ``area_max_um2``, ``area_median_px`` ...
    (named apart from the script's summary names, e.g. ``total_area``, so they are compared only by the eval)."""
    for unit, values in columns.items():
        if values:
            truth.update({f"{base}_total_{unit}": float(np.sum(values)), f"{base}_max_{unit}": float(np.max(values)),
                          f"{base}_min_{unit}": float(np.min(values)),
                          f"{base}_median_{unit}": float(np.median(values))})


def nuclei(rng: np.random.Generator, count: int = 10, radius: float = 8, size: int = 192, noise: float = 20,
           channels: int = 1, pixel_size: float = 0.5, positive: int = 0, radii: list[float] | None = None,
           border: int = 0, names: list[str] | None = None) -> Scene:
    """Disks in channel 1; channel 2 holds 100, 200, ... inside each nucleus, or a marker in `positive`.

    ``names``: the channels' stain names (e.g. ['DAPI', 'GFP']), written to OME-XML.
    """
    radii = radii or [radius] * count
    shape = (size, size)
    shift = int(2 * radius + 6) if border else 0  # keep interior disks clear of the border half-disks
    centers = [(cy, cx + shift) for cy, cx in disk_centers(len(radii), max(radii), (size, size - shift), rng, gap=6)]
    ch1 = np.zeros(shape)
    ch2 = np.zeros(shape)
    areas = []
    for i, ((cy, cx), r) in enumerate(zip(centers, radii, strict=False)):
        m = _disk(shape, cy, cx, r)
        ch1[m] = 1500
        ch2[m] = 1000 if i < positive else (100 * i if not positive else 30)  # + 100 background
        areas.append(int(m.sum()))
    extra = []
    for k in range(border):  # half disks cut by the image border
        cy = int(size * (k + 1) / (border + 1))
        m = _disk(shape, cy, 2, radius)
        ch1[m] = 1500
        extra.append(int(m.sum()))
    truth = {"count": len(radii), "areas_px": areas, "areas_um2": [a * pixel_size ** 2 for a in areas],
             "intensities_c2": [100.0 * (i + 1) for i in range(len(radii))], "count_with_border": len(radii) + border,
             "intensities_c2_above_background": [100.0 * i for i in range(len(radii))],
             "positive_count": positive, "positive_percent": 100.0 * positive / len(radii)}
    truth["integrated_c1"] = [1600.0 * a for a in areas]
    _column_summaries(truth, "area", {"px": truth["areas_px"], "um2": truth["areas_um2"]})
    truth["covered_percent"] = 100.0 * float((ch1 > 0).sum()) / (size * size)  # the script's name: it is verified
    truth["covered_area_px"] = float((ch1 > 0).sum())
    truth["covered_area_um2"] = truth["covered_area_px"] * pixel_size ** 2
    truth["integrated_c2"] = [(float(ch2[_disk(shape, cy, cx, r)].max()) + 100.0) * a
                              for (cy, cx), r, a in zip(centers, radii, areas, strict=False)]
    data = np.stack([_finish(ch1, rng, noise), _finish(ch2, rng, noise)]) if channels == 2 else _finish(ch1, rng, noise)
    return Scene(data=data, axes="CYX" if channels == 2 else "YX", pixel_size_um=pixel_size, truth=truth,
                 channel_names=names)


def nuclei_spots(rng: np.random.Generator, spots: tuple[int, ...] = (0, 1, 2, 3, 4, 5), radius: float = 13,
                 size: int = 192, pixel_size: float = 0.5, names: list[str] | None = None) -> Scene:
    """Nuclei (channel 1) with 0-5 small spots each (channel 2), spots well apart inside their nucleus;
    truth: spots per nucleus and in all."""
    offsets = [(0, 0), (0, 7), (7, 0), (0, -7), (-7, 0)]
    centers = disk_centers(len(spots), radius, (size, size), rng, gap=8)
    ch1 = np.zeros((size, size))
    ch2 = np.zeros((size, size))
    for (cy, cx), n in zip(centers, spots, strict=False):
        ch1[_disk((size, size), cy, cx, radius)] = 1200
        for dy, dx in offsets[:n]:
            ch2[_disk((size, size), cy + dy, cx + dx, 2)] = 1500
    truth = {"count": len(spots), "spots_per_nucleus": [float(n) for n in spots], "spots_total": float(sum(spots)),
             "spots_mean": float(np.mean(spots))}
    truth["mean_objects_inside_c2"], truth["total_objects_inside_c2"] = truth["spots_mean"], truth["spots_total"]
    return Scene(data=np.stack([_finish(ch1, rng, 15), _finish(ch2, rng, 15)]), axes="CYX", pixel_size_um=pixel_size,
                 truth=truth, channel_names=names)


def nuclei_3d(rng: np.random.Generator, count: int = 6, radius_um: float = 5.0, z_step: float = 2.0,
              pixel_size: float = 0.5, size: int = 128, planes: int = 16, noise: float = 15) -> Scene:
    """Balls of a given radius in um in an anisotropic stack; truth volumes from the drawn voxels."""
    r_px = radius_um / pixel_size
    centers = disk_centers(count, r_px, (size, size), rng, gap=6)
    zz, yy, xx = np.mgrid[:planes, :size, :size]
    img = np.zeros((planes, size, size))
    vols = []
    for i, (cy, cx) in enumerate(centers):
        cz = planes / 2 + (i % 3 - 1)
        m = ((zz - cz) * z_step) ** 2 + ((yy - cy) * pixel_size) ** 2 + ((xx - cx) * pixel_size) ** 2 <= radius_um ** 2
        img[m] = 1200
        vols.append(float(m.sum()) * z_step * pixel_size ** 2)
    truth = {"count": count, "volumes_um3": vols, "volumes_voxels": [v / (z_step * pixel_size ** 2) for v in vols]}
    _column_summaries(truth, "volume", {"um3": vols, "voxels": truth["volumes_voxels"]})
    return Scene(data=_finish(img, rng, noise), axes="ZYX", pixel_size_um=pixel_size, z_step_um=z_step, truth=truth)


def zstack_objects(rng: np.random.Generator, radii: tuple[float, ...] = (5, 7, 9, 11, 13), size: int = 160,
                   planes: int = 8, pixel_size: float = 0.4) -> Scene:
    """Disks each in a different plane: the max projection shows all of them with their true areas."""
    centers = disk_centers(len(radii), max(radii), (size, size), rng, gap=6)
    img = np.zeros((planes, size, size))
    areas = []
    for i, ((cy, cx), r) in enumerate(zip(centers, radii, strict=False)):
        m = _disk((size, size), cy, cx, r)
        img[i % planes][m] = 1400
        areas.append(int(m.sum()))
    return Scene(data=_finish(img, rng, 15), axes="ZYX", pixel_size_um=pixel_size,
                 truth={"count": len(radii), "areas_px": areas, "areas_um2": [a * pixel_size ** 2 for a in areas]})


def uneven_spots(rng: np.random.Generator, count: int = 20, radius: float = 3, size: int = 256) -> Scene:
    """Small spots on a strong illumination gradient (plain Otsu merges the bright side)."""
    centers = disk_centers(count, radius, (size, size), rng, gap=10)
    yy, xx = np.mgrid[:size, :size]
    img = 3000.0 * xx / size + 800.0 * np.exp(-((yy - size / 2) ** 2) / (2 * (size / 3) ** 2))
    for cy, cx in centers:
        img[_disk((size, size), cy, cx, radius)] += 900
    return Scene(data=_finish(img, rng, 25), axes="YX", truth={"count": count})


def touching(rng: np.random.Generator, pairs: int = 6, radius: float = 10, size: int = 256,
             pixel_size: float = 0.5) -> Scene:
    """Pairs of overlapping-just-touching disks; truth: 2 objects per pair and the mean area per disk."""
    centers = disk_centers(pairs, 2.2 * radius, (size, size), rng, gap=8)
    img = np.zeros((size, size))
    areas = []
    for cy, cx in centers:
        pair = _disk((size, size), cy, cx - 0.9 * radius, radius) | _disk((size, size), cy, cx + 0.9 * radius, radius)
        img[pair] = 1500
        areas += [pair.sum() / 2.0] * 2  # the watershed cuts each pair at its waist
    mean_px = float(np.mean(areas))
    return Scene(data=_finish(img, rng, 20), axes="YX", pixel_size_um=pixel_size,
                 truth={"count": 2 * pairs, "mean_area_px": mean_px, "mean_area_um2": mean_px * pixel_size ** 2})


def filaments(rng: np.random.Generator, lengths: tuple[int, ...] = (40, 60, 80, 100), size: int = 200,
              pixel_size: float = 0.25) -> Scene:
    """Horizontal lines 3 px thick of known lengths (skeleton length = length - 1 px)."""
    img = np.zeros((size, size))
    for i, length in enumerate(lengths):
        y = 20 + i * (size - 40) // max(1, len(lengths) - 1)
        x0 = 20
        img[y - 1:y + 2, x0:x0 + length] = 1500
    truth = {"count": len(lengths), "lengths_px": [float(n - 1) for n in lengths],
             "lengths_um": [(n - 1) * pixel_size for n in lengths], "total_px": float(sum(n - 1 for n in lengths))}
    truth["total_um"] = truth["total_px"] * pixel_size
    return Scene(data=_finish(img, rng, 15), axes="YX", pixel_size_um=pixel_size, truth=truth)


def grid(rng: np.random.Generator, spacing: int = 24, n: int = 5, radius: float = 4, pixel_size: float = 0.5) -> Scene:
    """Spots on a square grid: every nearest-neighbour distance is `spacing`."""
    size = spacing * (n + 1)
    img = np.zeros((size, size))
    for i in range(1, n + 1):
        for j in range(1, n + 1):
            img[_disk((size, size), i * spacing, j * spacing, radius)] = 1400
    return Scene(data=_finish(img, rng, 15), axes="YX", pixel_size_um=pixel_size,
                 truth={"count": n * n, "nn_px": float(spacing), "nn_um": spacing * pixel_size})


def partners(rng: np.random.Generator, count: int = 8, offset: float = 10.0, size: int = 256,
             pixel_size: float = 0.5) -> Scene:
    """Spots in channel 1, each with a partner spot in channel 2 shifted by `offset` px."""
    centers = disk_centers(count, offset + 6, (size, size), rng, gap=20)
    a = np.zeros((size, size))
    b = np.zeros((size, size))
    for cy, cx in centers:
        a[_disk((size, size), cy, cx - offset / 2, 4)] = 1400
        b[_disk((size, size), cy, cx + offset / 2, 4)] = 1400
    return Scene(data=np.stack([_finish(a, rng, 15), _finish(b, rng, 15)]), axes="CYX", pixel_size_um=pixel_size,
                 truth={"count": count, "distance_px": offset, "distance_um": offset * pixel_size})


def coloc(rng: np.random.Generator, same: bool = True, size: int = 160, names: list[str] | None = None) -> Scene:
    """Two channels with the same spots (Pearson near 1) or spots in different places (near 0 or below)."""
    centers = disk_centers(16, 5, (size, size), rng, gap=8)
    a = np.zeros((size, size))
    b = np.zeros((size, size))
    for i, (cy, cx) in enumerate(centers):
        m = _disk((size, size), cy, cx, 5)
        a[m] = 1000
        if same or i % 2:
            b[m] = 800
        if not same and i % 2 == 0:
            pass
    if not same:
        a[:] = 0
        for i, (cy, cx) in enumerate(centers):
            if i % 2 == 0:
                a[_disk((size, size), cy, cx, 5)] = 1000
    da, db = _finish(a, rng, 10), _finish(b, rng, 10)
    r = float(np.corrcoef(da.ravel().astype(float), db.ravel().astype(float))[0, 1])
    return Scene(data=np.stack([da, db]), axes="CYX", truth={"pearson_r": r, "same": same}, channel_names=names)


def moving_spot(rng: np.random.Generator, frames: int = 10, step: tuple[float, float] = (0.0, 3.0),
                spots: int = 1, size: int = 96, pixel_size: float = 0.2, time_step: float = 0.5) -> Scene:
    """Spots moving `step` px per frame; truth speed in px/frame and um/s, path length."""
    img = np.zeros((frames, size, size))
    starts = [(20 + 25 * k, 15) for k in range(spots)]
    for t in range(frames):
        for sy, sx in starts:
            img[t][_disk((size, size), sy + step[0] * t, sx + step[1] * t, 4)] = 1500
    px = float(np.hypot(*step))
    return Scene(data=_finish(img, rng, 15), axes="TYX", pixel_size_um=pixel_size, time_step_s=time_step,
                 truth={"tracks": spots, "speed_px_per_frame": px, "speed_um_per_s": px * pixel_size / time_step,
                        "path_px": px * (frames - 1), "path_um": px * (frames - 1) * pixel_size,
                        "counts_per_frame": [spots] * frames,
                        "path_total_px": spots * px * (frames - 1),
                        "path_total_um": spots * px * (frames - 1) * pixel_size})


def shapes(rng: np.random.Generator, size: int = 200) -> Scene:
    """Three circles (radius 12) and three 4:1 ellipses (semi-axes 24 and 6): eccentricity 0 and about 0.97;
    perimeters 2 pi r and Ramanujan's ellipse formula; axis lengths 24/24 and 48/12 px."""
    img = np.zeros((size, size))
    yy, xx = np.mgrid[:size, :size]
    for k in range(3):
        img[_disk((size, size), 40 + 60 * k, 50, 12)] = 1500
        img[((yy - (40 + 60 * k)) / 6) ** 2 + ((xx - 140) / 24) ** 2 <= 1] = 1500
    return Scene(data=_finish(img, rng, 15), axes="YX", truth={"count": 6, "eccentricities": [0.0] * 3 + [0.968] * 3,
                                                     "circularities": [1.0] * 3 + [0.537] * 3,
                                                     "aspect_ratios": [1.0] * 3 + [4.0] * 3,
                                                     "perimeters_px": [2 * np.pi * 12] * 3 + [_ellipse_perimeter(24, 6)] * 3,
                                                     "major_axes_px": [24.0] * 3 + [48.0] * 3,
                                                     "minor_axes_px": [24.0] * 3 + [12.0] * 3,
                                                     "diameters_px": [24.0] * 6})  # same area: 144 pi


def _ellipse_perimeter(a: float, b: float) -> float:
    """Ramanujan's approximation of an ellipse's perimeter."""
    return float(np.pi * (3 * (a + b) - np.sqrt((3 * a + b) * (a + 3 * b))))


def salt_pepper(rng: np.random.Generator, count: int = 9, size: int = 160) -> Scene:
    """Disks plus isolated hot pixels (which plain thresholding would count)."""
    sc = nuclei(rng, count=count, radius=7, size=size, noise=10)
    img = sc.data.astype(np.int64)
    hot = rng.integers(0, size, size=(300, 2))
    img[hot[:, 0], hot[:, 1]] = 4000
    sc.data = img.astype(np.uint16)
    return sc


SCENES: dict[str, Callable[..., Scene]] = {f.__name__: f for f in (
    nuclei, nuclei_3d, zstack_objects, uneven_spots, touching, filaments, grid, partners, coloc, moving_spot,
    shapes, salt_pepper, nuclei_spots)}


def make_scene(name: str, seed: int = 0, **params: Any) -> Scene:
    """Build scene ``name`` with a seeded generator."""
    return SCENES[name](np.random.default_rng(seed), **params)


def write_scene(scene: Scene, path: Path, fmt: Literal["ome", "imagej", "plain"] = "ome") -> Path:
    """Write ``scene``: OME-TIFF or ImageJ TIFF with its calibration, or a plain TIFF without any."""
    import tifffile

    data = scene.data
    if fmt == "ome":
        md: dict[str, Any] = {"axes": scene.axes}
        if scene.pixel_size_um:
            md.update(PhysicalSizeX=scene.pixel_size_um, PhysicalSizeY=scene.pixel_size_um,
                      PhysicalSizeXUnit="µm", PhysicalSizeYUnit="µm")
        if scene.z_step_um:
            md.update(PhysicalSizeZ=scene.z_step_um, PhysicalSizeZUnit="µm")
        if scene.time_step_s:
            md.update(TimeIncrement=scene.time_step_s, TimeIncrementUnit="s")
        if scene.channel_names:
            md["Channel"] = {"Name": list(scene.channel_names)}
        tifffile.imwrite(path, data, ome=True, metadata=md)
    elif fmt == "imagej":
        md = {"axes": scene.axes, "unit": "um"}
        if scene.z_step_um:
            md["spacing"] = scene.z_step_um
        if scene.time_step_s:
            md["finterval"] = scene.time_step_s
        res = (1.0 / scene.pixel_size_um,) * 2 if scene.pixel_size_um else None
        tifffile.imwrite(path, data, imagej=True, resolution=res, metadata=md)
    else:
        tifffile.imwrite(path, data, metadata={"axes": scene.axes})
    return path
