"""The ``%scopebot`` / ``%%scopebot`` magic for IPython and Jupyter (``%load_ext scopebot``).

::

    %scopebot ask How do I denoise images taken at low laser power
    %%scopebot ask
    What is Noise2Void?
    %scopebot tools --interface gui --dims 3d segment nuclei
    %scopebot search -k 3 noise2void
    %%scopebot code --image img [--insert] [--run sandbox|kernel]
    count the nuclei and measure their area

Answers are shown as Markdown with numbered citations and the check report. ``code`` writes
analysis code for a numpy image held in a notebook variable and shows it; ``--insert`` puts it into a
new cell (``set_next_input``); it runs only when asked: ``--run sandbox`` (scopebot's sandbox, on
a copy of the image) or ``--run kernel`` (this kernel, where it can see your variables).

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
- `%%scopebot code --image VAR` with the request in the cell (`--insert` puts the code into a new cell;
  `--run sandbox` or `--run kernel` runs it)
"""

#: Options that take a value, and boolean flags, per command.
VALUE_OPTIONS = {"--mode", "--interface", "--dims", "-k", "--k", "--kind", "--image", "--run"}
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
            "--kind": "book", "--image": "img", "--run": "sandbox"}.get(option, "VALUE")


def keep_question_marks(lines: list[str]) -> list[str]:
    """Input transformer: ``%scopebot ... ?`` becomes a magic call instead of IPython's help lookup."""
    if len(lines) != 1:
        return lines
    match = _HELP_END.match(lines[0].rstrip("\n"))
    if not match:
        return lines
    indent, arg = match.groups()
    return [f"{indent}get_ipython().run_line_magic('scopebot', {arg!r})\n"]


def notebook_code(code: str, variable: str | None) -> str:
    """The code as a notebook cell: it first saves the variable as a temporary TIFF for IMAGE_PATH."""
    if variable is None:
        return code
    head = (f"# scopebot: analysis of the notebook variable `{variable}` (saved as a temporary TIFF for IMAGE_PATH)\n"
            "import os as _os, tempfile as _tempfile\nimport tifffile as _tifffile\n"
            f"IMAGE_PATH = _os.path.join(_tempfile.mkdtemp(prefix='scopebot-'), '{variable}.tif')\n"
            f"_tifffile.imwrite(IMAGE_PATH, {variable})\n\n")
    return head + code


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
        from scopebot.mcp_server.drafting import draft_code
        from scopebot.mcp_server.models import AnalysisOutput
        from scopebot.mcp_server.render import analysis_markdown

        variable = parsed.options.get("image")
        run = parsed.options.get("run")
        if run not in (None, "sandbox", "kernel"):
            raise ConfigurationError(f"unknown --run {run!r}", hint="use --run sandbox or --run kernel")
        array = self._array(variable) if variable else None
        services = self.services
        draft = draft_code(parsed.text, services.model, retriever=services.optional_kb(),
                           prompts_dir=services.settings.prompts_dir)
        cell_code = notebook_code(draft.code, variable)
        notes = list(draft.notes)
        if variable is None:
            notes.append("no --image VAR given: the code reads the file named in IMAGE_PATH")
        info = {"variable": variable, "shape": list(array.shape), "dtype": str(array.dtype)} if array is not None else {}
        out = AnalysisOutput(request=parsed.text, code=cell_code, checks=draft.checks, ran=False, ok=draft.checks.ok,
                             recipe=draft.recipe, image=info, notes=notes)
        self.last = out
        display(Markdown(analysis_markdown(out)))
        if "insert" in parsed.flags:
            self.shell.set_next_input(cell_code, replace=False)
        if run == "kernel":
            self.shell.run_cell(cell_code, store_history=False)
        elif run == "sandbox":
            self._run_sandbox(draft.code, variable, array)

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _k(parsed: Parsed) -> int:
        raw = parsed.options.get("k", "5")
        if not raw.isdigit() or not 1 <= int(raw) <= 50:
            raise ConfigurationError(f"-k must be a number from 1 to 50, not {raw!r}", hint="e.g. -k 5")
        return int(raw)

    def _array(self, name: str) -> Any:
        import numpy as np

        if not name.isidentifier():
            raise ConfigurationError(f"--image needs a variable name, not {name!r}", hint="e.g. --image img")
        if name not in self.shell.user_ns:
            arrays = sorted(k for k, v in self.shell.user_ns.items()
                            if not k.startswith("_") and isinstance(v, np.ndarray))
            raise ConfigurationError(f"no variable named {name!r} in this notebook",
                                     hint="numpy arrays here: " + (", ".join(arrays) if arrays else "none"))
        value = self.shell.user_ns[name]
        if not isinstance(value, np.ndarray) or value.ndim < 2 or value.dtype == object:
            raise ConfigurationError(f"{name!r} is not a numpy image (a 2-D or larger array)",
                                     hint="load the image first, e.g. img = tifffile.imread('cells.tif')")
        return value

    def _run_sandbox(self, code: str, variable: str | None, array: Any) -> None:
        import tifffile

        from scopebot.mcp_server.models import RunOutput
        from scopebot.mcp_server.render import run_markdown

        if variable is None or array is None:
            raise ConfigurationError("--run sandbox needs an image", hint="add --image VAR (a numpy array)")
        with tempfile.TemporaryDirectory(prefix="scopebot-nb-") as folder:
            path = Path(folder) / f"{variable}.tif"
            tifffile.imwrite(path, array)
            result = self.services.sandbox.run(code, files={path.name: path}, globals={"IMAGE_PATH": path.name})
        out = RunOutput(**result.model_dump(include=set(RunOutput.model_fields)), inputs=[path.name])
        display(Markdown(run_markdown(out)))
        for fig in out.figures[:5]:
            display(Image(filename=fig))


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
