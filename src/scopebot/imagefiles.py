"""Image files given on the command line, to the MCP server or to the notebook magic: checked up front.

:func:`checked_image` says in one line what is wrong with a path before any analysis starts: a folder,
a missing file, an empty file, a file that is not an image, a TIFF that is truncated or corrupt (its
decoder's warning is kept off the terminal). JPEG is accepted the way the web UI accepts it: converted
to PNG for the code assistant (which reads TIFF and PNG), with a note that lossy compression may
affect measurements.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scopebot.errors import ConfigurationError

_TIFF = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
SUFFIXES = {"tiff": (".tif", ".tiff"), "png": (".png",), "jpeg": (".jpg", ".jpeg")}
EXPORT_HINT = "export or copy the image again (e.g. in Fiji: File > Save As > Tiff...), then pass the new file"
JPEG_NOTE = "JPEG converted to PNG for analysis (lossy compression may affect measurements)"


def sniff(path: Path) -> str | None:
    """``'tiff'``, ``'png'`` or ``'jpeg'`` from the file's first bytes, or None."""
    with Path(path).open("rb") as fh:
        head = fh.read(8)
    if head[:4] in _TIFF:
        return "tiff"
    if head == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    return None


@contextmanager
def _quiet_tifffile() -> Iterator[None]:
    """tifffile logs a warning (e.g. 'invalid offset to first page') before it raises: keep it off screen."""
    log = logging.getLogger("tifffile")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


def _check_tiff(path: Path) -> None:
    import tifffile

    try:
        with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
            if not len(tif.pages) or not tif.series:
                raise ValueError("no image in the file")
            tif.pages[0].asarray()  # decodes the first plane: a truncated file fails here
    except Exception as exc:  # noqa: BLE001 - any decoder failure is the file's fault
        raise ConfigurationError(f"{path} is not a readable TIFF: the file is truncated or corrupt "
                                 f"({_one_line(exc)})", hint=EXPORT_HINT) from None


def _check_pil(path: Path, fmt: str) -> None:
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
    except Exception as exc:  # noqa: BLE001
        raise ConfigurationError(f"{path} is not a readable {fmt.upper()}: the file is truncated or corrupt "
                                 f"({_one_line(exc)})", hint=EXPORT_HINT) from None


def jpeg_to_png(path: Path, workdir: Path) -> Path:
    """A PNG copy of a JPEG in ``workdir`` for analysis (callers add :data:`JPEG_NOTE` to their notes)."""
    from PIL import Image

    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / (path.stem + ".png")
    with Image.open(path) as img:
        img.save(out)
    return out


def checked_image(path: Path | str, workdir: Path, *, notes: list[str] | None = None) -> Path:
    """The file the analysis should read for ``path``, or a :class:`ConfigurationError` saying what is wrong.

    TIFF/OME-TIFF and PNG files are returned as they are (metadata kept); a JPEG is converted to a PNG
    in ``workdir`` (and a note appended to ``notes``).
    """
    path = Path(path).expanduser()
    if path.is_dir():
        images = sorted(p.name for p in path.iterdir() if p.suffix.lower() in (".tif", ".tiff", ".png", ".jpg"))
        raise ConfigurationError(f"{path} is a folder, not an image file",
                                 hint="pass one image file" + (f", e.g. {path / images[0]}" if images else ""))
    if not path.exists():
        raise ConfigurationError(f"image not found: {path}", hint="check the path and the file name")
    if not path.is_file():
        raise ConfigurationError(f"{path} is not a regular file", hint="pass an image file")
    if path.stat().st_size == 0:
        raise ConfigurationError(f"{path} is empty (0 bytes)",
                                 hint="the file was not written completely: " + EXPORT_HINT)
    fmt = sniff(path)
    if fmt is None:
        raise ConfigurationError(f"{path} is not a TIFF, OME-TIFF, PNG or JPEG image (by its content)",
                                 hint="export the image as TIFF or PNG (e.g. in Fiji: File > Save As > Tiff...)")
    if fmt == "tiff":
        _check_tiff(path)
    else:
        _check_pil(path, fmt)
    if fmt == "jpeg":
        out = jpeg_to_png(path, workdir)
        if notes is not None:
            notes.append(JPEG_NOTE)
        return out
    if path.suffix.lower() not in SUFFIXES[fmt]:
        raise ConfigurationError(f"{path} is a {fmt.upper()} file but is named {path.suffix or 'without a suffix'}",
                                 hint=f"rename it to end in {SUFFIXES[fmt][0]}")
    return path
