"""Image paths are checked up front with one-line messages (CLI `code --image`, MCP, notebook)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from scopebot.cli import app
from scopebot.errors import ConfigurationError
from scopebot.imagefiles import JPEG_NOTE, checked_image


def corrupt_tiff(path: Path) -> Path:
    """A TIFF header whose first-page offset points far past the end (tifffile: IndexError)."""
    path.write_bytes(b"II*\x00" + (0xFFFFFFFF).to_bytes(4, "little") + bytes(496))
    return path


def _error(path: Path, tmp_path: Path) -> str:
    with pytest.raises(ConfigurationError) as info:
        checked_image(path, tmp_path / "work")
    return f"{info.value.message} | {info.value.hint}"


def test_empty_corrupt_folder_and_text_files_get_their_own_message(tmp_path: Path) -> None:
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    assert "is empty (0 bytes)" in _error(empty, tmp_path)
    msg = _error(corrupt_tiff(tmp_path / "corrupt.tif"), tmp_path)
    assert "truncated or corrupt" in msg and "export" in msg and "TiffPages" not in msg
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a.tif").write_bytes(b"x")
    assert f"{folder} is a folder, not an image file" in _error(folder, tmp_path)
    text = tmp_path / "notes.tif"
    text.write_text("hello")
    assert "not a TIFF, OME-TIFF, PNG or JPEG image" in _error(text, tmp_path)
    assert "image not found" in _error(tmp_path / "missing.tif", tmp_path)


def test_jpeg_is_converted_to_png_like_the_ui_and_tiff_is_kept(tmp_path: Path) -> None:
    import tifffile
    from PIL import Image

    jpg = tmp_path / "cells.jpg"
    Image.fromarray((np.arange(64 * 64) % 251).reshape(64, 64).astype("uint8")).save(jpg)
    notes: list[str] = []
    out = checked_image(jpg, tmp_path / "work", notes=notes)
    assert out.suffix == ".png" and out.read_bytes()[:4] == b"\x89PNG" and notes == [JPEG_NOTE]
    tif = tmp_path / "cells.ome.tif"
    tifffile.imwrite(tif, np.zeros((8, 8), "uint16"), ome=True, metadata={"PhysicalSizeX": 0.2})
    assert checked_image(tif, tmp_path / "work") == tif  # the file itself: OME metadata kept


@pytest.mark.parametrize("kind", ["empty", "corrupt", "folder"])
def test_code_cli_says_what_is_wrong_in_one_line_and_exits_2(tmp_path: Path, kind: str) -> None:
    target = {"empty": tmp_path / "e.tif", "corrupt": corrupt_tiff(tmp_path / "c.tif"), "folder": tmp_path}[kind]
    if kind == "empty":
        target.write_bytes(b"")
    res = CliRunner().invoke(app, ["code", "count the nuclei", "--image", str(target)],
                             env={"SCOPEBOT_HOME": str(tmp_path / "home"), "SCOPEBOT_LLM_BACKEND": "scripted"})
    assert res.exit_code == 2, res.output
    first = res.output.strip().splitlines()[0]
    assert {"empty": "is empty (0 bytes)", "corrupt": "truncated or corrupt",
            "folder": "is a folder, not an image file"}[kind] in first
    assert "Traceback" not in res.output and "invalid offset" not in res.output
