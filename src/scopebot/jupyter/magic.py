"""The ``%scopebot`` / ``%%scopebot`` magic for IPython and Jupyter (``%load_ext scopebot``).

::

    %scopebot ask How do I denoise images taken at low laser power
    %%scopebot ask
    What is Noise2Void?
    %scopebot tools --interface gui --dims 3d segment nuclei
    %scopebot search -k 3 noise2void
    %%scopebot code --image img [--pixel-size 0.2] [--insert] [--run sandbox|kernel]
    count the nuclei and measure their area

Answers are shown as Markdown with numbered citations and the check report. ``code`` uses the same
code assistant as ``scopebot code`` and the web UI (plan -> compile -> run -> check): for a numpy
array held in a notebook variable, or a variable holding an image file's path (its OME/ImageJ
metadata kept), it shows the plan and the code a run would run; ``--insert`` puts that code into a
new cell (``set_next_input``). It runs only when asked: ``--run sandbox`` (scopebot's sandbox, on a
copy of the image; the result is checked against the plan) or ``--run kernel`` (this kernel, where
it can see your variables; not checked). A numpy array has no pixel size: give it with
``--pixel-size`` (um per pixel) or in the request ("pixel size 0.2 um"), else sizes are in pixels.

IPython reads a line that ends in ``?`` as a help request; the extension registers an input
transformer so ``%scopebot ask ...?`` still reaches the magic, and the cell magic always works.
"""

from __future__ import annotations

import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import Image, Markdown, display

from scopebot.errors import ConfigurationError, ScopebotError, user_message

if TYPE_CHECKING:
    from scopebot.mcp_server.services import ScopebotServices

USAGE = """**scopebot magic**

- `%scopebot ask QUESTION` or `%%scopebot ask` with the question in the cell (`--mode extractive|generative`, `--strict`)
- `%scopebot tools REQUEST` (`--interface gui|code|any`, `--dims 2d|3d|any`, `-k N`)
- `%scopebot search QUERY` (`-k N`, `--kind book|registry|model-zoo|training|forum`)
- `%%scopebot code --image VAR` with the request in the cell (VAR: a numpy array or an image path;
  `--pixel-size UM` for an array; `--insert` puts the code into a new cell; `--run sandbox` or
  `--run kernel` runs it)
"""

#: Options that take a value, and boolean flags, per command.
VALUE_OPTIONS = {"--mode", "--interface", "--dims", "-k", "--k", "--kind", "--image", "--run", "--pixel-size"}
FLAG_OPTIONS = {"--strict", "--insert"}
COMMANDS = ("ask", "tools", "search", "code", "help")
_HELP_END = re.compile(r"^(\s*)%scopebot\s+(.*\?)\s*$")


@dataclass
class Parsed:
    command: str
    text: str
    options: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def parse(line: str, cell: str | None = None) -> Parsed:
    """Split ``line`` into the command, its options (anywhere in the line) and the free text."""
    from scopebot.usertext import clean_text

    line, cell = clean_text(line), (clean_text(cell) if cell is not None else None)
    tokens = line.split()
    if not tokens:
        return Parsed("help", "")
    command, rest = tokens[0].lower(), tokens[1:]
    if command not in COMMANDS:
        raise ConfigurationError(f"unknown %scopebot command {tokens[0]!r}",
                                 hint=f"use one of: {', '.join(COMMANDS)} (e.g. %scopebot ask What is deconvolution)")
    options: dict[str, str] = {}
    flags: set[str] = set()
    words: list[str] = []
    i = 0
    while i < len(rest):
        tok = rest[i]
        if tok in VALUE_OPTIONS:
            if i + 1 >= len(rest):
                raise ConfigurationError(f"{tok} needs a value", hint=f"e.g. {tok} {_example(tok)}")
            options[tok.lstrip("-")] = rest[i + 1]
            i += 2
            continue
        if tok in FLAG_OPTIONS:
            flags.add(tok.lstrip("-"))
        else:
            words.append(tok)
        i += 1
    text = " ".join(words)
    if cell is not None and cell.strip():
        text = (text + "\n" + cell.strip()).strip()
    return Parsed(command, text, options, flags)


def _example(option: str) -> str:
    return {"--mode": "extractive", "--interface": "gui", "--dims": "3d", "-k": "5", "--k": "5",
            "--kind": "book", "--image": "img", "--run": "sandbox", "--pixel-size": "0.2"}.get(option, "VALUE")


def keep_question_marks(lines: list[str]) -> list[str]:
    """Input transformer: ``%scopebot ... ?`` becomes a magic call instead of IPython's help lookup."""
    if len(lines) != 1:
        return lines
    match = _HELP_END.match(lines[0].rstrip("\n"))
    if not match:
        return lines
    indent, arg = match.groups()
    return [f"{indent}get_ipython().run_line_magic('scopebot', {arg!r})\n"]


def array_axes(shape: tuple[int, ...]) -> str:
    """tifffile axes for a numpy image: YX, ZYX, or YXS for an RGB(A) plane ("" when unclear)."""
    if len(shape) == 3 and shape[-1] in (3, 4):
        return "YXS"
    return "ZYX"[-len(shape):] if 2 <= len(shape) <= 3 else ""


def ome_metadata(shape: tuple[int, ...], pixel_size_um: float) -> dict[str, Any]:
    """OME metadata that states the pixel size (um) of an array saved as OME-TIFF."""
    meta: dict[str, Any] = {"PhysicalSizeX": pixel_size_um, "PhysicalSizeY": pixel_size_um,
                            "PhysicalSizeXUnit": "µm", "PhysicalSizeYUnit": "µm"}
    axes = array_axes(shape)
    if axes:
        meta["axes"] = axes
    return meta


def notebook_code(code: str, variable: str | None, *, pixel_size_um: float | None = None,
                  path_variable: bool = False, shape: tuple[int, ...] = ()) -> str:
    """The code as a notebook cell: IMAGE_PATH is the variable's file, or the array saved as a temporary TIFF.

    With a pixel size the array is saved as an OME-TIFF that states it, the file the sandbox run reads.
    """
    if variable is None:
        return code
    if path_variable:
        head = (f"# scopebot: analysis of the image file named by `{variable}`\n"
                f"IMAGE_PATH = str({variable})\n\n")
        return head + code
    suffix = ".ome.tif" if pixel_size_um else ".tif"
    write = (f"_tifffile.imwrite(IMAGE_PATH, {variable}, ome=True, metadata={ome_metadata(shape, pixel_size_um)!r})\n"
             if pixel_size_um else f"_tifffile.imwrite(IMAGE_PATH, {variable})\n")
    head = (f"# scopebot: analysis of the notebook variable `{variable}` (saved as a temporary TIFF for IMAGE_PATH)\n"
            "import os as _os, tempfile as _tempfile\nimport tifffile as _tifffile\n"
            f"IMAGE_PATH = _os.path.join(_tempfile.mkdtemp(prefix='scopebot-'), '{variable}{suffix}')\n"
            + write + "\n")
    return head + code


def pixel_size_option(raw: str | None) -> float | None:
    """``--pixel-size 0.2`` (or ``0.2um``) as um per pixel."""
    if raw is None:
        return None
    text = raw.strip().lower().replace(",", ".")
    text = re.sub(r"(µm|um|micron|microns)(/px|/pixel)?$", "", text)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1e4:
        raise ConfigurationError(f"--pixel-size needs the size of one pixel in um, not {raw!r}",
                                 hint="e.g. --pixel-size 0.2")
    return value


@magics_class
class ScopebotMagics(Magics):
    """``%scopebot`` (line) and ``%%scopebot`` (cell). ``services`` may be injected (tests, custom settings)."""

    def __init__(self, shell: Any, services: ScopebotServices | None = None) -> None:
        super().__init__(shell)
        self._services = services
        #: The typed result of the last command (AskOutput, ToolsOutput, SearchOutput, AnalysisOutput, ...).
        self.last: Any = None

    @property
    def services(self) -> ScopebotServices:
        if self._services is None:
            from scopebot.mcp_server.services import ScopebotServices
            from scopebot.settings import Settings

            settings = Settings()
            self._services = ScopebotServices(settings, allow_code=settings.allow_code_execution, allowed_paths=[])
        return self._services

    @line_cell_magic
    def scopebot(self, line: str, cell: str | None = None) -> None:
        """Ask scopebot: ask, tools, search, code (see ``%scopebot help``)."""
        try:
            parsed = parse(line, cell)
            handler = getattr(self, f"_do_{parsed.command}")
            handler(parsed)
        except ScopebotError as exc:
            print(user_message(exc), file=sys.stderr)

    # ---------------------------------------------------------------- commands
    def _do_help(self, parsed: Parsed) -> None:
        display(Markdown(USAGE))

    def _do_ask(self, parsed: Parsed) -> None:
        from scopebot.mcp_server.render import ask_markdown

        if not parsed.text:
            raise ConfigurationError("the question is empty", hint="%%scopebot ask, then the question in the cell")
        out, _ = self.services.ask(parsed.text, mode=parsed.options.get("mode"),
                                   strict=True if "strict" in parsed.flags else None)
        self.last = out
        display(Markdown(ask_markdown(out)))

    def _do_tools(self, parsed: Parsed) -> None:
        from scopebot.tools.render import recommendation_markdown

        out, rec = self.services.recommend(parsed.text, interface=parsed.options.get("interface", "any"),
                                           dims=parsed.options.get("dims", "any"), k=self._k(parsed))
        self.last = out
        display(Markdown(recommendation_markdown(rec)))

    def _do_search(self, parsed: Parsed) -> None:
        from scopebot.mcp_server.render import search_markdown

        kind = parsed.options.get("kind")
        out = self.services.search(parsed.text, k=self._k(parsed), kinds=[kind] if kind else None)
        self.last = out
        display(Markdown(search_markdown(out)))

    def _do_code(self, parsed: Parsed) -> None:
        from scopebot.mcp_server.render import analysis_markdown

        variable = parsed.options.get("image")
        run = parsed.options.get("run")
        if run not in (None, "sandbox", "kernel"):
            raise ConfigurationError(f"unknown --run {run!r}", hint="use --run sandbox or --run kernel")
        if not parsed.text.strip():
            raise ConfigurationError("the request is empty",
                                     hint="%%scopebot code --image img, then the request in the cell")
        pixel_size = pixel_size_option(parsed.options.get("pixel-size"))
        value = self._image_value(variable) if variable else None
        is_path = value is not None and not hasattr(value, "shape")
        if is_path and pixel_size is not None:
            raise ConfigurationError("--pixel-size is for numpy arrays; the file states its own calibration",
                                     hint="leave out --pixel-size, or state the pixel size in the request")
        notes: list[str] = []
        if variable is None:
            notes.append("no --image VAR given: the code reads the file named in IMAGE_PATH")
        elif not is_path and pixel_size is None:
            notes.append("a numpy array has no pixel size: pass --pixel-size UM or state it in the request, "
                         "else sizes are in pixels")
        with tempfile.TemporaryDirectory(prefix="scopebot-nb-") as folder:
            image, info = self._image_file(variable, value, pixel_size, Path(folder), notes)
            out = self.services.analyse(parsed.text, image, run=run == "sandbox", notes=notes, image_info=info)
        shape = tuple(value.shape) if value is not None and not is_path else ()
        cell_code = notebook_code(out.code, variable, pixel_size_um=pixel_size, path_variable=is_path, shape=shape)
        out = out.model_copy(update={"code": cell_code})
        self.last = out
        display(Markdown(analysis_markdown(out)))
        for fig in out.figures[:5]:
            display(Image(filename=fig))
        if "insert" in parsed.flags and out.code.strip():
            self.shell.set_next_input(cell_code, replace=False)
        if run == "kernel" and not out.declined and out.code.strip():
            self.shell.run_cell(cell_code, store_history=False)

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _k(parsed: Parsed) -> int:
        raw = parsed.options.get("k", "5")
        if not raw.isdigit() or not 1 <= int(raw) <= 50:
            raise ConfigurationError(f"-k must be a number from 1 to 50, not {raw!r}", hint="e.g. -k 5")
        return int(raw)

    def _image_value(self, name: str) -> Any:
        """The variable's value: a numpy image (2-D or larger) or the path of an image file."""
        import numpy as np

        if not name.isidentifier():
            raise ConfigurationError(f"--image needs a variable name, not {name!r}", hint="e.g. --image img")
        if name not in self.shell.user_ns:
            arrays = sorted(k for k, v in self.shell.user_ns.items()
                            if not k.startswith("_") and isinstance(v, np.ndarray))
            raise ConfigurationError(f"no variable named {name!r} in this notebook",
                                     hint="numpy arrays here: " + (", ".join(arrays) if arrays else "none"))
        value = self.shell.user_ns[name]
        if isinstance(value, str | Path):
            return Path(value).expanduser()
        if not isinstance(value, np.ndarray) or value.ndim < 2 or value.dtype == object:
            raise ConfigurationError(f"{name!r} is not a numpy image (a 2-D or larger array) or an image path",
                                     hint="load the image first, e.g. img = tifffile.imread('cells.tif'), "
                                          "or set path = 'cells.ome.tif' to keep its metadata")
        return value

    @staticmethod
    def _image_file(variable: str | None, value: Any, pixel_size: float | None, folder: Path,
                    notes: list[str]) -> tuple[Path | None, dict[str, Any]]:
        """The checked file the code assistant reads, and what the panel shows about it."""
        import tifffile

        from scopebot.imagefiles import checked_image

        if value is None:
            return None, {}
        if isinstance(value, Path):
            path = checked_image(value, folder, notes=notes)  # OME/ImageJ metadata kept; JPEG -> PNG
            return path, {"variable": variable, "file": str(value)}
        path = folder / f"{variable}{'.ome.tif' if pixel_size else '.tif'}"
        if pixel_size:
            tifffile.imwrite(path, value, ome=True, metadata=ome_metadata(tuple(value.shape), pixel_size))
        else:
            tifffile.imwrite(path, value)
        info: dict[str, Any] = {"variable": variable, "shape": list(value.shape), "dtype": str(value.dtype)}
        if pixel_size:
            info["pixel_size_um"] = pixel_size
        return path, info


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext scopebot``: register the magic and the ``?`` input transformer."""
    ipython.register_magics(ScopebotMagics(ipython))
    cleanup = ipython.input_transformers_cleanup
    if keep_question_marks not in cleanup:
        cleanup.append(keep_question_marks)


def unload_ipython_extension(ipython: Any) -> None:
    cleanup = ipython.input_transformers_cleanup
    if keep_question_marks in cleanup:
        cleanup.remove(keep_question_marks)
