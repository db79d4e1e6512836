"""The code assistant: request → docs and recipes → generate → static checks → run → repair → answer.

Strategy:

* **generate** (capable models): the model writes a script from the request, retrieved docs and
  the closest recipe as an example; static checks run first, then the sandbox; on failure the
  model repairs it with the traceback, for at most ``max_rounds`` rounds (all recorded).
* **recipe-first** (small models, ``model.is_small``): a tested recipe matching the request is run
  directly, because a tiny model's code is almost always wrong; the model is not asked.
* In both cases, when generated code still fails, the matching recipe is the verified fallback and
  the answer says so (``fallback_recipe``).

Without an image, the code runs on a synthetic image with known contents and, where the recipe
reports a count, the result is checked against the truth (``verified``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from scopebot.code.checks import CodeCheckReport, check_code
from scopebot.code.library import RecipeLibrary
from scopebot.code.synthetic import SyntheticTruth, write_synthetic_image
from scopebot.errors import ConfigurationError
from scopebot.index.protocols import Retriever
from scopebot.llm.base import ChatModel, Message
from scopebot.prompts import PromptLibrary, PromptTemplate
from scopebot.sandbox.models import RunResult
from scopebot.sandbox.runner import Sandbox
from scopebot.settings import PROJECT_ROOT

IMAGE_SUFFIXES = (".tif", ".tiff", ".png")
_FENCE_RE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)
_COUNT_RE = re.compile(r"(?:Found|Segmented)\s+(\d+)\s+objects")


def extract_code(reply: str) -> str:
    """The Python code in a model reply: the first ```python fence, else the longest fence, else text."""
    blocks = _FENCE_RE.findall(reply)
    if blocks:
        return blocks[0].strip() + "\n"
    if "```" in reply:  # an unterminated fence
        return reply.split("```", 1)[1].removeprefix("python").strip() + "\n"
    return reply.strip() + "\n"


def load_prompt(name: str, prompts_dir: Path | None = None) -> PromptTemplate:
    """A validated prompt template from ``prompts/<name>.md`` (see :mod:`scopebot.prompts`)."""
    return PromptLibrary(prompts_dir or PROJECT_ROOT / "prompts").get(name)


def validate_image(path: Path) -> Path:
    """Check that ``path`` is an existing TIFF/OME-TIFF/PNG file (by suffix and magic bytes)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"image not found: {path}", hint="check the --image path")
    head = path.read_bytes()[:8]
    is_tiff = head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
    is_png = head == b"\x89PNG\r\n\x1a\n"
    if path.suffix.lower() not in IMAGE_SUFFIXES or not (is_tiff or is_png):
        raise ConfigurationError(f"not a TIFF, OME-TIFF or PNG image: {path}",
                                 hint="pass a .tif/.tiff/.ome.tif or .png file")
    return path


class Round(BaseModel):
    """One attempt: the code, its static checks, and the run (if it ran)."""

    index: int
    source: Literal["model", "repair", "recipe"]
    code: str
    checks: CodeCheckReport
    run: RunResult | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.run is not None and self.run.ok


class CodeResult(BaseModel):
    """The answer to a code request (the JSON of ``scopebot code --json`` plus details)."""

    request: str
    code: str
    ran: bool
    ok: bool
    stdout: str = ""
    stderr: str = ""
    error: str | None = None
    figures: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    rounds: list[Round] = Field(default_factory=list)
    checks: CodeCheckReport | None = None
    fallback_recipe: str | None = None
    strategy: Literal["generate", "recipe-first"] = "generate"
    image: str | None = None
    synthetic: str | None = Field(default=None, description="Description of the synthetic input, if used.")
    verified: bool | None = Field(default=None, description="Result matched the synthetic image's truth.")
    notes: list[str] = Field(default_factory=list)

    def to_json(self) -> dict:
        """The CLI's JSON shape."""
        data = self.model_dump(mode="json")
        data["rounds"] = [{"index": r.index, "source": r.source, "code": r.code, "checks": r.checks.to_text(),
                           "ok": r.ok, "error": r.error} for r in self.rounds]
        data["checks"] = self.checks.model_dump(mode="json") if self.checks else None
        return data


class CodeAssistant:
    """Writes, checks, runs and repairs analysis code; falls back to tested recipes."""

    def __init__(self, model: ChatModel, sandbox: Sandbox, retriever: Retriever | None = None,
                 recipes: RecipeLibrary | None = None, *, prompts_dir: Path | None = None, max_rounds: int = 2,
                 strategy: Literal["auto", "generate", "recipe-first"] = "auto", max_tokens: int = 700) -> None:
        self.model = model
        self.sandbox = sandbox
        self.retriever = retriever
        self.recipes = recipes or RecipeLibrary()
        self.max_rounds = max(0, max_rounds)
        self.strategy = strategy
        self.max_tokens = max_tokens
        self.generate_template = load_prompt("code_generate", prompts_dir)
        self.repair_template = load_prompt("code_repair", prompts_dir)

    # --- helpers --------------------------------------------------------------------------------
    def _context(self, request: str) -> str:
        if self.retriever is None:
            return "(none)"
        try:
            hits = self.retriever.search(request, k=3)
        except Exception:  # noqa: BLE001 - missing docs must not stop code generation
            return "(none)"
        return "\n\n".join(f"[{h.chunk.key}] {h.chunk.breadcrumb}\n{h.chunk.body[:600]}" for h in hits) or "(none)"

    def _ask(self, prompt: str) -> str:
        reply = self.model.complete([Message(role="user", content=prompt)], max_tokens=self.max_tokens)
        return extract_code(reply.text)

    def _attempt(self, index: int, source: Literal["model", "repair", "recipe"], code: str,
                 files: dict[str, Path], globals_: dict[str, str]) -> Round:
        report = check_code(code)
        blocking = [i for i in report.issues if i.kind != "absolute_path"]
        if blocking:
            return Round(index=index, source=source, code=code, checks=report,
                         error="static checks failed:\n" + report.to_text())
        run = self.sandbox.run(code, files=files, globals=globals_)
        error = None if run.ok else "\n".join(filter(None, [run.error, run.traceback]))
        return Round(index=index, source=source, code=code, checks=report, run=run, error=error)

    # --- main -----------------------------------------------------------------------------------
    def run(self, request: str, image: Path | None = None) -> CodeResult:
        """Answer ``request`` with code run on ``image`` (or a synthetic image)."""
        if not request.strip():
            raise ConfigurationError("empty request", hint="describe the analysis you want")
        tmp = Path(tempfile.mkdtemp(prefix="scopebot-code-"))
        try:
            truth: SyntheticTruth | None = None
            if image is not None:
                image = validate_image(image)
                suffix = ".ome.tif" if image.name.lower().endswith((".ome.tif", ".ome.tiff")) else image.suffix.lower()
                input_name = "image" + suffix
                files = {input_name: image}
            else:
                path, truth = write_synthetic_image(tmp)
                input_name = "image.ome.tif"
                files = {input_name: path}
            globals_ = {"IMAGE_PATH": input_name}
            recipe = self.recipes.best(request)
            strategy = self.strategy if self.strategy != "auto" else (
                "recipe-first" if self.model.is_small and recipe is not None else "generate")
            rounds: list[Round] = []
            notes: list[str] = []
            if strategy == "generate":
                example = self.recipes.script(recipe.name) if recipe else "# (no close example)"
                prompt = self.generate_template.render(request=request, context=self._context(request),
                                                       example=example)
                rounds.append(self._attempt(0, "model", self._ask(prompt), files, globals_))
                while not rounds[-1].ok and len(rounds) <= self.max_rounds:
                    last = rounds[-1]
                    prompt = self.repair_template.render(request=request, code=last.code,
                                                         error=(last.error or "")[-3000:])
                    rounds.append(self._attempt(len(rounds), "repair", self._ask(prompt), files, globals_))
            else:
                notes.append(f"small model ({self.model.name}): ran the tested recipe '{recipe.name}' "
                             "directly (recipe-first strategy)" if recipe else "")
            fallback: str | None = None
            if (not rounds or not rounds[-1].ok) and recipe is not None:
                rounds.append(self._attempt(len(rounds), "recipe", self.recipes.script(recipe.name), files,
                                            globals_))
                fallback = recipe.name
                if strategy == "generate":
                    notes.append(f"the generated code still failed after {len(rounds) - 1} round(s); "
                                 f"answered with the verified recipe '{recipe.name}' instead")
            if not rounds:
                raise ConfigurationError("no recipe matches this request and the model was not asked",
                                         hint="rephrase the request or use a larger model (strategy 'generate')")
            return self._result(request, rounds, strategy, fallback, image, truth, [n for n in notes if n])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _result(self, request: str, rounds: list[Round], strategy: Literal["generate", "recipe-first"],
                fallback: str | None, image: Path | None, truth: SyntheticTruth | None,
                notes: list[str]) -> CodeResult:
        final = rounds[-1]
        run = final.run
        verified: bool | None = None
        if truth is not None and run is not None and run.ok:
            match = _COUNT_RE.search(run.stdout)
            if match:
                verified = int(match.group(1)) == truth.count
                notes.append(f"synthetic image has {truth.count} objects; the code found {match.group(1)}"
                             + (" (verified)" if verified else " (MISMATCH)"))
        return CodeResult(
            request=request, code=final.code, ran=run is not None, ok=bool(run and run.ok),
            stdout=run.stdout if run else "", stderr=run.stderr if run else "",
            error=None if run and run.ok else final.error,
            figures=run.figures if run else [], files=run.files if run else [], rounds=rounds,
            checks=final.checks, fallback_recipe=fallback, strategy=strategy,
            image=str(image) if image else None, synthetic=truth.describe() if truth else None,
            verified=verified, notes=notes)
