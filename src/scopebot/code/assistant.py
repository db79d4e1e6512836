"""The code assistant: request -> typed plan -> code from tested blocks -> sandbox -> result check.

Strategy (``auto``):

* **plan**: the request and the image's metadata become an :class:`~scopebot.code.plan.AnalysisPlan`
  (a capable model fills its JSON schema; small models and failed replies use the deterministic
  vocabulary planner). The plan compiles to a readable script made of unit-tested blocks, which
  runs in the sandbox; afterwards every quantity the plan promised must be in the output with its
  unit, else ``ok`` is False.
* **beyond the vocabulary**: words the planner cannot map, or inputs the plan needs and nobody
  gave, are reported with the closest plan and what it would and would not answer
  (``declined``). A capable model instead writes free code (static checks, sandbox, repair with
  the traceback), and the same result check applies to the quantities it promised.
* ``generate``: always free code (the old path), checked the same way.

Without an image, the code runs on a synthetic image chosen to fit the plan, with known contents;
when the plan counts objects the count is compared with the truth (``verified``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from scopebot.code.checks import CodeCheckReport, check_code
from scopebot.code.compile import compile_plan
from scopebot.code.inputs import image_meta, planes_named, read_unnamed_as_time, synthetic_input, unnamed_axis
from scopebot.code.library import RecipeLibrary
from scopebot.code.model_plan import PlanReply, model_plan
from scopebot.code.nuclear_channel import use_nuclear_channel
from scopebot.code.plan import AnalysisPlan, ImageMeta, Promise
from scopebot.code.planner import Planner
from scopebot.code.verify import (
    ResultCheck,
    answer_context,
    check_promises,
    nothing_found_hint,
    positivity_problems,
    projection_counts,
    projection_problems,
)
from scopebot.errors import ConfigurationError
from scopebot.index.protocols import Retriever
from scopebot.llm.base import ChatModel, Message
from scopebot.prompts import PromptLibrary, PromptTemplate
from scopebot.sandbox.models import RunResult
from scopebot.sandbox.runner import Sandbox
from scopebot.settings import PROJECT_ROOT

IMAGE_SUFFIXES = (".tif", ".tiff", ".png")
_FENCE_RE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)
RESULT_INSTRUCTION = ("\n\nEnd the script by printing one line 'SCOPEBOT_RESULT ' followed by JSON "
                      '{{"summary": {{name: {{"value": number, "unit": text}}}}, "columns": {{}}}}'
                      " holding every number that answers the request: {promised}.")


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
    source: Literal["model", "repair", "plan"]
    code: str
    checks: CodeCheckReport
    run: RunResult | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.run is not None and self.run.ok


class CodeResult(BaseModel):
    """The answer to a code request (the JSON of ``scopebot code --json`` plus details).

    ``ok`` means the request was answered: the code ran and printed every promised quantity with
    its unit. ``declined`` means scopebot said honestly that it cannot answer (see ``notes``).
    """

    request: str
    code: str
    ran: bool
    ok: bool
    declined: bool = False
    stdout: str = ""
    stderr: str = ""
    error: str | None = None
    figures: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    rounds: list[Round] = Field(default_factory=list)
    checks: CodeCheckReport | None = None
    plan: AnalysisPlan | None = None
    plan_text: str | None = Field(default=None, description="The plan as a checklist.")
    answer: list[str] = Field(default_factory=list, description="Promised quantities found, with units.")
    problems: list[str] = Field(default_factory=list, description="Promises not kept / why not answered.")
    values: dict[str, dict] = Field(default_factory=dict, description="Summary numbers {name: {value, unit}}.")
    columns: dict[str, list] = Field(default_factory=dict, description="Table columns of the result.")
    fallback_recipe: str | None = None
    strategy: Literal["plan", "generate"] = "plan"
    image: str | None = None
    synthetic: str | None = Field(default=None, description="Description of the synthetic input, if used.")
    verified: bool | None = Field(default=None, description="Result matched the synthetic image's truth.")
    notes: list[str] = Field(default_factory=list)

    def to_json(self) -> dict:
        """The CLI's JSON shape."""
        data = self.model_dump(mode="json", exclude={"plan"})
        data["plan"] = self.plan.model_dump(mode="json") if self.plan else None
        data["rounds"] = [{"index": r.index, "source": r.source, "code": r.code, "checks": r.checks.to_text(),
                           "ok": r.ok, "error": r.error} for r in self.rounds]
        data["checks"] = self.checks.model_dump(mode="json") if self.checks else None
        return data


class CodeAssistant:
    """Plans, compiles, runs and checks analysis code; capable models may write free code."""

    def __init__(self, model: ChatModel, sandbox: Sandbox, retriever: Retriever | None = None,
                 recipes: RecipeLibrary | None = None, *, prompts_dir: Path | None = None, max_rounds: int = 2,
                 strategy: Literal["auto", "generate", "plan"] = "auto", max_tokens: int = 700,
                 planner: Planner | None = None) -> None:
        self.model = model
        self.sandbox = sandbox
        self.retriever = retriever
        self.recipes = recipes or RecipeLibrary()
        self.max_rounds = max(0, max_rounds)
        self.strategy = strategy
        self.max_tokens = max_tokens
        self.prompts_dir = prompts_dir
        self.planner = planner or Planner()
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

    def _attempt(self, index: int, source: Literal["model", "repair", "plan"], code: str,
                 files: dict[str, Path], globals_: dict[str, str]) -> Round:
        report = check_code(code)
        blocking = [i for i in report.issues if i.kind != "absolute_path"]
        if blocking:
            return Round(index=index, source=source, code=code, checks=report,
                         error="static checks failed:\n" + report.to_text())
        run = self.sandbox.run(code, files=files, globals=globals_)
        error = None if run.ok else "\n".join(filter(None, [run.error, run.traceback]))
        return Round(index=index, source=source, code=code, checks=report, run=run, error=error)

    def make_plan(self, request: str, meta: object) -> tuple[AnalysisPlan, list[str]]:
        """The plan for ``request``: from a capable model (validated), else the vocabulary planner; a file
        that does not name the axis of its planes has them read as the request says (:meth:`_read_planes`)."""
        plan, notes = self._plan_once(request, meta)
        if isinstance(meta, ImageMeta) and unnamed_axis(meta) is not None:
            plan, notes = self._read_planes(request, meta, plan, notes)
        return plan, notes

    def _plan_once(self, request: str, meta: object) -> tuple[AnalysisPlan, list[str]]:
        notes: list[str] = []
        if not self.model.is_small and self.strategy == "auto":
            reply, error = model_plan(self.model, request, meta, prompts_dir=self.prompts_dir)  # type: ignore[arg-type]
            if reply is not None:
                notes.append(f"plan filled by {self.model.name} (JSON schema, validated)")
                return reply, notes
            notes.append(f"{self.model.name} gave no valid plan ({(error or '')[:120]}); "
                         "used the vocabulary planner")
        plan = self.planner.plan(request, meta)  # type: ignore[arg-type]
        stains = [s for s, role in self.planner.vocab.stain_roles.items() if role == "objects"]
        return use_nuclear_channel(plan, request, stains), notes

    # --- main -----------------------------------------------------------------------------------
    def run(self, request: str, image: Path | None = None, plan: AnalysisPlan | None = None) -> CodeResult:
        """Answer ``request`` with code run on ``image`` (or a synthetic image); ``plan`` skips planning."""
        if not request.strip() and plan is None:
            raise ConfigurationError("empty request", hint="describe the analysis you want")
        tmp = Path(tempfile.mkdtemp(prefix="scopebot-code-"))
        try:
            notes: list[str] = []
            synthetic = truth = None
            if image is not None:
                image = validate_image(image)
                suffix = ".ome.tif" if image.name.lower().endswith((".ome.tif", ".ome.tiff")) else image.suffix.lower()
                path = image
                meta = image_meta(image)
            if plan is None:
                if image is None:  # plan once for the scene, then again on the scene's metadata
                    rough = self.planner.plan(request)
                    path, scene, synthetic = synthetic_input(rough, tmp)
                    truth, suffix, meta = scene.truth, ".ome.tif", image_meta(path)
                plan, plan_notes = self.make_plan(request, meta)
                notes += plan_notes
            elif image is None:
                path, scene, synthetic = synthetic_input(plan, tmp)
                truth, suffix = scene.truth, ".ome.tif"
            input_name = "image" + suffix
            files, globals_ = {input_name: path}, {"IMAGE_PATH": input_name}
            free = self.strategy == "generate" or (
                not self.model.is_small and isinstance(plan, PlanReply) and plan.beyond_vocabulary)
            if free:
                result = self._free_code(request, plan, files, globals_)
            else:
                result = self._planned(request, plan, files, globals_)
            result.notes = notes + result.notes
            result.image, result.synthetic = (str(image) if image else None), synthetic
            if truth is not None and result.ok:
                self._verify(result, truth)
            return result
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _read_planes(self, request: str, meta: ImageMeta, plan: AnalysisPlan,
                     notes: list[str]) -> tuple[AnalysisPlan, list[str]]:
        """A file that does not name the axis of its planes (read as z): the planes are time points when the
        request says so (time-lapse words, tracking, results per frame); asked when it says both."""
        said = planes_named(request)
        if "tracking" in plan.kinds() or plan.outputs.per_frame:
            said.add("T")
        if said == {"T"}:
            timed = read_unnamed_as_time(meta)
            plan, notes = self._plan_once(request, timed)
            plan.meta.axes = timed.axes  # (a model's plan keeps the file's axes otherwise)
            plan.meta.stated = list(dict.fromkeys([*plan.meta.stated, "axes"]))
            plan.understood.append(f"the file does not name the axis of its {meta.z} planes; the request says they "
                                   f"are time points -> {meta.z} frames (axes {timed.axes})")
            return plan, [*notes, f"The file does not name its axes: its {meta.z} planes are read as time points, "
                                  "as the request says."]
        if said == {"T", "Z"}:
            plan.missing.append(f"whether the file's {meta.z} planes are z or time points (the file does not say "
                                "and the request names both): say 'z-stack' or 'time-lapse'")
        else:
            plan.understood.append(f"the file does not name the axis of its {meta.z} planes -> read as z (say "
                                   "'time-lapse' if they are time points)")
        return plan, notes

    @staticmethod
    def _verify(result: CodeResult, truth: dict) -> None:
        """Compare summary numbers that the synthetic scene knows (same name) with its truth."""
        checked = [(name, entry.get("value"), truth[name]) for name, entry in result.values.items()
                   if name in truth and isinstance(truth[name], (int, float))]
        if not checked:
            return
        ok = [abs(float(got) - float(want)) <= 0.05 * abs(float(want)) + 1e-9 for _, got, want in checked]
        result.verified = all(ok)
        result.notes.append("on the synthetic image: " + "; ".join(
            f"{name} {got:g} (truth {want:g}{'' if good else ', MISMATCH'})"
            for (name, got, want), good in zip(checked, ok, strict=True)) + (" (verified)" if all(ok) else ""))
        if not result.verified:  # the known truth disagrees: this is not an answer
            result.ok = False
            result.problems.append("the result disagrees with the synthetic image's known contents")
            result.error = "Not answered: the result disagrees with the synthetic image's known contents"

    def _planned(self, request: str, plan: AnalysisPlan, files: dict[str, Path],
                 globals_: dict[str, str]) -> CodeResult:
        code = compile_plan(plan)
        problems: list[str] = []
        if plan.not_understood:
            problems.append("not understood: " + ", ".join(f"'{w}'" for w in plan.not_understood))
            hints = {w: self.planner.suggestions(w) for w in plan.not_understood if " " not in w}
            hints = {w: h for w, h in hints.items() if h}
            if hints:
                problems.append("did you mean: " + "; ".join(f"'{w}' -> {' or '.join(repr(x) for x in h)}"
                                                            for w, h in hints.items()))
        problems += [f"missing input: {m}" for m in plan.missing]
        if not plan.measurements and plan.outputs.figure != "histogram":
            problems.append("no measurement or figure in the request maps to the plan vocabulary")
        if problems:
            return self._declined(request, plan, code, problems)
        rnd = self._attempt(0, "plan", code, files, globals_)
        result = self._finish(request, plan, [rnd], plan.promised(), "plan")
        return self._in_3d(request, plan, result, files, globals_) or result

    #: Measurements the compiled 3-D plan gives with the same names and units as the projected one.
    SAME_IN_3D = frozenset({"count", "intensity"})

    def _in_3d(self, request: str, plan: AnalysisPlan, result: CodeResult, files: dict[str, Path],
               globals_: dict[str, str]) -> CodeResult | None:
        """The same plan in 3-D, when its projection merged objects lying at different depths and what it
        measures means the same in 3-D (a count, intensities); None otherwise."""
        stacked, _ = projection_counts(result.values)
        if result.ok or not stacked or plan.segmentation is None or not plan.kinds() <= self.SAME_IN_3D \
                or plan.inputs.z == "range" or plan.outputs.per_frame or plan.outputs.figure == "histogram":
            return None
        plan3d = plan.model_copy(deep=True)
        plan3d.inputs.z = "3d"
        plan3d.segmentation.min_size_px = max(plan3d.segmentation.min_size_px, 20)  # type: ignore[union-attr]
        first = result.values.get("count", {}).get("value")
        why = (f"the {plan.inputs.z} projection merged {stacked} object(s) lying at different depths"
               + (f" (it gave a count of {first:g})" if isinstance(first, (int, float)) else ""))
        plan3d.understood.append(f"{why} -> measured in 3-D")
        rnd = self._attempt(1, "plan", compile_plan(plan3d), files, globals_)
        again = self._finish(request, plan3d, [*result.rounds, rnd], plan3d.promised(), "plan")
        again.notes.insert(0, f"Measured in 3-D: {why}.")
        return again

    def _declined(self, request: str, plan: AnalysisPlan, code: str, problems: list[str]) -> CodeResult:
        promised = plan.promised()
        would = ", ".join(f"{p.name} ({p.unit})" if p.unit else p.name for p in promised) or "nothing"
        notes = ["I cannot answer this request as asked, so I did not run anything.",
                 *problems,
                 # with nothing promised there is no usable plan to show (the UI hides it)
                 f"The closest plan (below) would answer: {would}." if promised
                 else "No plan in the vocabulary comes close to this request.",
                 "It would not answer: " + ("the part about " + " ".join(plan.not_understood)
                                            if plan.not_understood else "the request until the missing "
                                                                        "inputs are given") + ".",
                 "Rephrase with the plan's words, edit the plan, or use a stronger backend (free code)."]
        return CodeResult(request=request, code=code, ran=False, ok=False, declined=True, plan=plan,
                          plan_text=plan.describe(), problems=problems, strategy="plan", notes=notes,
                          error="Not answered (nothing was run): " + "; ".join(problems)
                          + f". The closest plan would answer: {would}.")

    def _free_code(self, request: str, plan: AnalysisPlan, files: dict[str, Path],
                   globals_: dict[str, str]) -> CodeResult:
        extra = list(plan.promised_extra) if isinstance(plan, PlanReply) else []
        promises = extra or plan.promised() or [Promise(name="result", unit="")]
        wanted = ", ".join(f"{p.name} ({p.unit or 'no unit'})" for p in promises if p.where == "summary")
        recipe = self.recipes.best(request)
        example = self.recipes.script(recipe.name) if recipe else "# (no close example)"
        asked = request + RESULT_INSTRUCTION.format(promised=wanted or "the answer")
        prompt = self.generate_template.render(request=asked, context=self._context(request), example=example)
        rounds = [self._attempt(0, "model", self._ask(prompt), files, globals_)]
        while not rounds[-1].ok and len(rounds) <= self.max_rounds:
            last = rounds[-1]
            prompt = self.repair_template.render(request=asked, code=last.code, error=(last.error or "")[-3000:])
            rounds.append(self._attempt(len(rounds), "repair", self._ask(prompt), files, globals_))
        return self._finish(request, plan, rounds, promises, "generate")

    def _finish(self, request: str, plan: AnalysisPlan, rounds: list[Round], promises: list[Promise],
                strategy: Literal["plan", "generate"]) -> CodeResult:
        final = rounds[-1]
        run = final.run
        check = check_promises(promises, run.stdout, run.figures, run.files, nothing_found_hint(plan)) \
            if run is not None and run.ok else \
            ResultCheck(ok=False, problems=["the code did not run to the end"])
        merged = [*projection_problems(plan, check.summary), *positivity_problems(plan, check.summary)] \
            if strategy == "plan" else []
        if merged:  # every promise printed, but the projection merged objects: not the answer
            check = check.model_copy(update={"ok": False, "problems": [*check.problems, *merged]})
        if check.ok:
            check.kept += answer_context(plan, check.summary)
        plan_line = "Plan: " + "; ".join(line.removeprefix("- ") for line in plan.describe().splitlines())
        notes = [plan_line, "Answer, checked against the plan: " + "; ".join(check.kept)] if check.ok else [
            plan_line, ("The run printed every number the plan promised, but they do not answer the request: "
                        if merged and len(check.problems) == len(merged) else
                        "The run did not keep every promise of the plan, so this is not an answer: ")
            + "; ".join(check.problems)]
        return CodeResult(
            request=request, code=final.code, ran=run is not None, ok=bool(run and run.ok and check.ok),
            stdout=run.stdout if run else "", stderr=run.stderr if run else "",
            error=None if check.ok else (final.error if not (run and run.ok) else
                                         "Not answered: the result does not keep the plan's promises: "
                                         + "; ".join(check.problems)),
            figures=run.figures if run else [],
            files=run.files if run else [], rounds=rounds, checks=final.checks, plan=plan,
            plan_text=plan.describe(), answer=check.kept, problems=check.problems, values=check.summary,
            columns=check.columns, strategy=strategy, notes=notes)
