"""Upload validation and metadata: TIFF / OME-TIFF / PNG / JPEG, pixel sizes, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from scopebot.errors import ConfigurationError
from scopebot.ui.images import inspect_upload, sniff_format


def test_ome_tiff_shape_dtype_and_physical_pixel_size(tmp_path: Path) -> None:
    path = tmp_path / "stack.ome.tif"
    data = (np.arange(3 * 40 * 50) % 4000).astype("uint16").reshape(3, 40, 50)
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "ZYX", "PhysicalSizeX": 0.325,
                                                     "PhysicalSizeY": 0.325, "PhysicalSizeXUnit": "µm"})
    info = inspect_upload(path, tmp_path / "work")
    assert info.format == "ome-tiff"
    assert info.shape == (3, 40, 50) and info.dtype == "uint16" and info.axes == "ZYX"
    assert info.pixel_size == (0.325, 0.325, "µm")
    assert info.preview is not None and Image.open(info.preview).size == (50, 40)
    assert "0.325 × 0.325 µm" in info.markdown()
    assert info.analysis_path == path


def test_plain_tiff_resolution_tags_give_pixel_size(tmp_path: Path) -> None:
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.zeros((20, 30), "uint8"), resolution=(2.0, 2.0),
                     resolutionunit=tifffile.RESUNIT.CENTIMETER)
    info = inspect_upload(path, tmp_path / "work")
    assert info.pixel_size is not None
    assert info.pixel_size[0] == pytest.approx(5000.0) and info.pixel_size[2] == "µm"


def test_png_without_pixel_size_says_so(tmp_path: Path) -> None:
    path = tmp_path / "cells.png"
    Image.fromarray(np.full((16, 24, 3), 120, "uint8")).save(path)
    info = inspect_upload(path, tmp_path / "work")
    assert info.shape == (16, 24, 3) and info.format == "png" and info.pixel_size is None
    assert "not stated" in info.markdown()


def test_jpeg_is_converted_to_png_for_analysis(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.fromarray(np.full((10, 12), 90, "uint8")).save(path, format="JPEG")
    info = inspect_upload(path, tmp_path / "work")
    assert info.format == "jpeg"
    assert info.analysis_path is not None and sniff_format(info.analysis_path) == "png"


def test_non_image_is_rejected_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "fake.tif"
    path.write_text("not really an image")
    with pytest.raises(ConfigurationError, match="not a TIFF, OME-TIFF, PNG or JPEG") as err:
        inspect_upload(path, tmp_path / "work")
    assert err.value.hint


def test_oversized_upload_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300), dtype="uint8")).save(path)
    with pytest.raises(ConfigurationError, match="over the 0.01 MB upload limit"):
        inspect_upload(path, tmp_path / "work", max_mb=0.01)


def test_truncated_tiff_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.tif"
    path.write_bytes(b"II*\x00" + b"\x00" * 10)
    with pytest.raises(ConfigurationError, match="could not be read"):
        inspect_upload(path, tmp_path / "work")
