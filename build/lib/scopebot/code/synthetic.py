"""Synthetic microscopy images with known contents, for runs without a user image and for tests.

The default image: ``count`` bright disks ("nuclei") of a known radius on a dim, slightly noisy
background, 16-bit, written as OME-TIFF with a known pixel size. Because the truth is known, a
result computed on it (the number of objects, their area) can be verified.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel


class SyntheticTruth(BaseModel):
    """What a synthetic image contains."""

    count: int
    radius_px: float
    pixel_size_um: float
    shape: tuple[int, int]
    centers: list[tuple[int, int]]
    background: float
    foreground: float

    @property
    def area_px(self) -> float:
        return float(np.pi * self.radius_px ** 2)

    def describe(self) -> str:
        return (f"a synthetic {self.shape[1]}x{self.shape[0]} image with {self.count} bright disks of radius "
                f"{self.radius_px:g} px (pixel size {self.pixel_size_um:g} um) on a noisy background")


def disk_centers(count: int, radius: float, shape: tuple[int, int], rng: np.random.Generator,
                 gap: float = 4.0) -> list[tuple[int, int]]:
    """Random, non-touching disk centres (rejection sampling, deterministic for a seeded rng)."""
    centers: list[tuple[int, int]] = []
    margin = int(radius + 2)
    for _ in range(count * 500):
        if len(centers) == count:
            break
        y = int(rng.integers(margin, shape[0] - margin))
        x = int(rng.integers(margin, shape[1] - margin))
        if all((y - cy) ** 2 + (x - cx) ** 2 > (2 * radius + gap) ** 2 for cy, cx in centers):
            centers.append((y, x))
    if len(centers) < count:
        raise ValueError(f"cannot place {count} disks of radius {radius} in {shape}")
    return centers


def draw_disks(shape: tuple[int, int], centers: list[tuple[int, int]], radius: float,
               value: float = 1.0) -> np.ndarray:
    """A float image with filled disks of ``value`` at ``centers``."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img = np.zeros(shape, dtype=np.float64)
    for cy, cx in centers:
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2] = value
    return img


def make_nuclei_image(count: int = 12, radius: float = 9.0, shape: tuple[int, int] = (256, 256), *,
                      seed: int = 7, background: float = 200.0, foreground: float = 2000.0,
                      noise: float = 40.0, pixel_size_um: float = 0.5) -> tuple[np.ndarray, SyntheticTruth]:
    """A uint16 image of ``count`` disks and its truth."""
    rng = np.random.default_rng(seed)
    centers = disk_centers(count, radius, shape, rng)
    img = background + (foreground - background) * draw_disks(shape, centers, radius)
    img = img + rng.normal(0.0, noise, size=shape)
    img = np.clip(img, 0, 65535).astype(np.uint16)
    truth = SyntheticTruth(count=count, radius_px=radius, pixel_size_um=pixel_size_um, shape=shape,
                           centers=centers, background=background, foreground=foreground)
    return img, truth


def write_ome_tiff(path: Path, image: np.ndarray, pixel_size_um: float) -> Path:
    """Write ``image`` as OME-TIFF with PhysicalSizeX/Y in micrometres."""
    import tifffile

    axes = "YX" if image.ndim == 2 else ("ZYX" if image.ndim == 3 else "TZYX")
    tifffile.imwrite(path, image, ome=True, metadata={"axes": axes, "PhysicalSizeX": pixel_size_um,
                                                      "PhysicalSizeY": pixel_size_um,
                                                      "PhysicalSizeXUnit": "µm", "PhysicalSizeYUnit": "µm"})
    return path


def write_synthetic_image(folder: Path, name: str = "synthetic_nuclei.ome.tif",
                          **kwargs: object) -> tuple[Path, SyntheticTruth]:
    """Write the default synthetic nuclei image into ``folder``; returns its path and truth."""
    folder.mkdir(parents=True, exist_ok=True)
    image, truth = make_nuclei_image(**kwargs)  # type: ignore[arg-type]
    return write_ome_tiff(folder / name, image, truth.pixel_size_um), truth
