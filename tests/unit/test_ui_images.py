"""Upload validation and metadata: TIFF / OME-TIFF / PNG / JPEG, pixel sizes, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from scopebot.errors import ConfigurationError
from scopebot.imagefiles import sniff
from scopebot.ui.images import inspect_upload


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
    assert "uncalibrated: give the pixel size" in info.markdown()


def test_jpeg_is_converted_to_png_for_analysis(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.fromarray(np.full((10, 12), 90, "uint8")).save(path, format="JPEG")
    info = inspect_upload(path, tmp_path / "work")
    assert info.format == "jpeg"
    assert info.analysis_path is not None and sniff(info.analysis_path) == "png"


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


@pytest.mark.parametrize("write", [
    {},                                                                 # tifffile's default: (1, 1), unit NONE
    {"resolution": (1, 1), "resolutionunit": "NONE"},
    {"resolution": (1, 1), "resolutionunit": "INCH"},                   # a one-pixel-per-inch placeholder
    {"resolution": (72, 72), "resolutionunit": "INCH"},                 # a screen DPI
    {"imagej": True},                                                   # ImageJ without a unit
])
def test_uncalibrated_tiffs_ask_for_the_pixel_size_and_never_say_inch(tmp_path: Path, write: dict) -> None:
    path = tmp_path / "raw.tif"
    tifffile.imwrite(path, np.zeros((12, 14), "uint16"), **write)
    info = inspect_upload(path, tmp_path / "work")
    text = info.markdown()
    assert info.pixel_size is None and not info.calibrated
    assert "uncalibrated: give the pixel size" in text and "Pixel size" in text
    assert "inch" not in text and "1 × 1" not in text


def test_imagej_micron_unit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, np.zeros((12, 14), "uint8"), imagej=True, resolution=(4.0, 4.0),
                     metadata={"unit": "micron"})
    info = inspect_upload(path, tmp_path / "work")
    assert info.pixel_size == (0.25, 0.25, "µm")


def test_given_pixel_size_makes_a_calibrated_copy_for_the_analysis(tmp_path: Path) -> None:
    from scopebot.code.recipes._io import load_image
    from scopebot.ui.images import with_pixel_size

    path = tmp_path / "raw.tif"
    tifffile.imwrite(path, (np.arange(12 * 14).reshape(12, 14) % 200).astype("uint16"))
    info = inspect_upload(path, tmp_path / "work")
    calibrated = with_pixel_size(info, "0,65 µm", tmp_path / "work")
    assert calibrated.pixel_size == (0.65, 0.65, "µm") and calibrated.pixel_size_given
    assert "0.65 × 0.65 µm (given by you)" in calibrated.markdown()
    assert calibrated.analysis_path is not None and calibrated.analysis_path != path  # the upload is untouched
    data, size = load_image(calibrated.analysis_path)  # what the recipes read in the sandbox
    assert size == pytest.approx(0.65) and data.shape == (12, 14)
    assert (data == tifffile.imread(path)).all()
    for bad in ("", "abc", "-1", "0"):
        with pytest.raises(ConfigurationError, match="not a pixel size"):
            with_pixel_size(info, bad, tmp_path / "work")


def test_preview_of_a_huge_plane_keeps_small_bright_objects(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    from scopebot.ui.images import PREVIEW_MAX_SIDE, write_preview

    plane = np.zeros((6000, 4000), np.uint16)
    plane[3001, 2002] = 60000  # one bright pixel: plain striding would lose it
    out = write_preview(plane, "YX", tmp_path / "p.png")
    arr = np.asarray(Image.open(out))
    assert max(arr.shape) <= PREVIEW_MAX_SIDE and arr.max() > 0


def test_3d_stack_without_metadata_is_zyx_assumed_and_takes_a_z_step(tmp_path: Path) -> None:
    from scopebot.code.inputs import image_meta
    from scopebot.ui.images import with_pixel_size, with_z_step

    path = tmp_path / "vol3d.tif"
    tifffile.imwrite(path, (np.arange(10 * 16 * 18).reshape(10, 16, 18) % 300).astype("uint16"))
    info = inspect_upload(path, tmp_path / "work")
    assert info.axes == "ZYX" and info.axes_assumed and info.z_planes == 10
    md = info.markdown()
    assert "`ZYX`, assumed" in md and "QYX" not in md and "z step: **not stated**" in md
    stepped = with_z_step(info, "0.5 um", tmp_path / "work")
    calibrated = with_pixel_size(stepped, "0.2", tmp_path / "work")  # the z step stays with a pixel size
    assert "z step: 0.5 µm (given by you)" in calibrated.markdown()
    # what the code assistant reads from the file it is given: z planes, pixel size and z step
    meta = image_meta(calibrated.analysis_path)
    assert (meta.z, meta.channels, meta.pixel_size_um, meta.z_step_um) == (10, 1, pytest.approx(0.2), pytest.approx(0.5))
    assert (tifffile.imread(calibrated.analysis_path) == tifffile.imread(path)).all()
    flat = tmp_path / "flat.tif"
    tifffile.imwrite(flat, np.zeros((8, 8), "uint16"))
    with pytest.raises(ConfigurationError, match="single z plane"):
        with_z_step(inspect_upload(flat, tmp_path / "work2"), "0.5", tmp_path / "work2")
    with pytest.raises(ConfigurationError, match="not a z step"):
        with_z_step(info, "abc", tmp_path / "work")


def test_a_stated_z_step_is_read_and_kept_when_the_pixel_size_is_typed(tmp_path: Path) -> None:
    from scopebot.code.inputs import image_meta
    from scopebot.ui.images import with_pixel_size

    path = tmp_path / "stack.ome.tif"
    tifffile.imwrite(path, np.zeros((4, 8, 8), "uint16"), ome=True,
                     metadata={"axes": "ZYX", "PhysicalSizeZ": 2.0, "PhysicalSizeZUnit": "µm"})
    info = inspect_upload(path, tmp_path / "work")
    assert info.axes == "ZYX" and not info.axes_assumed and info.z_step == pytest.approx(2.0)
    calibrated = with_pixel_size(info, "0.3", tmp_path / "work")
    assert image_meta(calibrated.analysis_path).z_step_um == pytest.approx(2.0)
