"""``scopebot eval analysis``: code requests answered end to end by the CodeAssistant, checked by number.

Each item is a request plus a synthetic scene (:mod:`scopebot.code.scenes`) whose true answers are
known. The assistant plans, compiles, runs (in the sandbox) and checks its own result; this suite
then compares the numbers it reported with the truth. Every item lands in exactly one bucket:

* ``right``: ok and every expected number within tolerance (for beyond-vocabulary items: declined);
* ``wrong_claimed_ok``: ok, but a number is wrong or missing (the outcome that must never happen);
* ``declined``: not ok and said so (declined, or the result check refused the run).

Gates: ``honest`` (1 - wrong_claimed_ok / items) = 1.0 and ``right_rate``.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import BaseModel, Field

from scopebot.clitools import error_boundary
from scopebot.errors import ConfigurationError
from scopebot.evals.common import (
    DATASETS_DIR,
    DatasetOpt,
    LimitOpt,
    MinOpt,
    OutOpt,
    QuietOpt,
    ResumeOpt,
    backend_settings,
    finish,
    out_dir,
)
from scopebot.evals.runner import ItemResult, Runner, new_report


class Expect(BaseModel):
    summary: str | None = None
    column: str | None = None
    figure: bool = False
    truth: str | None = Field(default=None, description="Key of the scene's truth dict.")
    value: float | None = None
    unit: str | None = None
    scale: float = Field(default=1.0, description="Multiplies the truth (e.g. px^2 -> um^2 for a stated size).")
    tol: float = Field(default=0.0, description="Relative tolerance.")
    abs_tol: float = 0.0


class SceneSpec(BaseModel):
    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0
    format: str = "ome"


class AnalysisItem(BaseModel):
    id: str
    request: str
    scene: SceneSpec
    expect: list[Expect] = Field(default_factory=list)
    expect_declined: bool = False


def load_items(path: Path) -> list[AnalysisItem]:
    """The items of an analysis dataset file (validated)."""
    if not path.is_file():
        raise ConfigurationError(f"dataset not found: {path}", hint="pass --dataset evals/datasets/analysis_v1.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [AnalysisItem.model_validate(raw) for raw in data.get("items", [])]


def _close(got: Any, want: float, e: Expect) -> bool:
    if not isinstance(got, (int, float)) or isinstance(got, bool) or not math.isfinite(got):
        return False
    return abs(got - want) <= max(e.abs_tol, e.tol * abs(want), 1e-9)


def judge(item: AnalysisItem, result: Any, truth: dict[str, Any]) -> tuple[str, list[str]]:
    """The bucket of one answered item and the reasons (for the report)."""
    if item.expect_declined:
        return ("wrong_claimed_ok", ["answered a request beyond the vocabulary"]) if result.ok else ("right", [])
    if not result.ok:
        return "declined", list(result.problems)[:5]
    wrong: list[str] = []
    for e in item.expect:
        want = e.value if e.value is not None else truth.get(e.truth or "")
        if e.figure:
            if not result.figures:
                wrong.append("no figure")
        elif e.summary is not None:
            entry = result.values.get(e.summary)
            if entry is None:
                wrong.append(f"{e.summary} missing")
            elif not _close(entry.get("value"), float(want) * e.scale, e):
                wrong.append(f"{e.summary} = {entry.get('value')} (truth {want})")
            elif e.unit is not None and entry.get("unit") != e.unit:
                wrong.append(f"{e.summary} in {entry.get('unit')} (wanted {e.unit})")
        elif e.column is not None:
            got = sorted(v for v in result.columns.get(e.column, []) if v is not None)
            want_list = sorted(float(v) * e.scale for v in want)
            if len(got) != len(want_list):
                wrong.append(f"{e.column}: {len(got)} values (truth {len(want_list)})")
            elif not all(_close(g, w, e) for g, w in zip(got, want_list, strict=True)):
                wrong.append(f"{e.column} = {[round(g, 3) for g in got]} (truth {[round(w, 3) for w in want_list]})")
    return ("wrong_claimed_ok", wrong) if wrong else ("right", [])


def summarise(results: list[ItemResult]) -> dict[str, float]:
    n = max(1, len(results))
    buckets = [r.outputs.get("bucket") for r in results]
    wrong = buckets.count("wrong_claimed_ok")
    return {"items": float(len(results)), "right": float(buckets.count("right")),
            "wrong_claimed_ok": float(wrong), "declined": float(buckets.count("declined")),
            "right_rate": round(buckets.count("right") / n, 4), "honest": round(1 - wrong / n, 4),
            "declined_rate": round(buckets.count("declined") / n, 4)}


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("analysis")
    def analysis(dataset: DatasetOpt = None, limit: LimitOpt = None,
                 backend: Annotated[str | None, typer.Option(
                     help="Chat backend: embedded, openai, gguf or scripted (default: settings).")] = None,
                 out: OutOpt = None, min_: MinOpt = None, quiet: QuietOpt = False, resume: ResumeOpt = False) -> None:
        """Code requests answered end to end on synthetic images: right / wrong-but-claimed-ok / declined."""
        from scopebot.code.assistant import CodeAssistant
        from scopebot.code.scenes import make_scene, write_scene
        from scopebot.llm import make_chat_model
        from scopebot.sandbox import Sandbox

        settings = backend_settings(backend)
        with error_boundary():
            path = dataset or DATASETS_DIR / "analysis_v1.yaml"
            items = load_items(path)[:limit]
            target = out_dir(out, settings.home, "analysis")
            model = make_chat_model(settings)
            tmp = Path(tempfile.mkdtemp(prefix="scopebot-eval-analysis-"))
            try:
                with Sandbox.from_settings(settings, output_dir=target / "runs",
                                           workers=max(1, settings.sandbox_workers)) as sandbox:
                    assistant = CodeAssistant(model, sandbox, None, prompts_dir=settings.prompts_dir,
                                              max_rounds=settings.code_repair_rounds)

                    def score(item: AnalysisItem) -> ItemResult:
                        scene = make_scene(item.scene.name, seed=item.scene.seed, **item.scene.params)
                        suffix = ".ome.tif" if item.scene.format == "ome" else ".tif"
                        image = write_scene(scene, tmp / f"{item.id}{suffix}", item.scene.format)  # type: ignore[arg-type]
                        result = assistant.run(item.request, image)
                        bucket, why = judge(item, result, scene.truth)
                        return ItemResult(id=item.id, inputs={"request": item.request, "scene": item.scene.name},
                                          outputs={"bucket": bucket, "why": why, "ok": result.ok,
                                                   "declined": result.declined, "answer": result.answer[:8],
                                                   "problems": result.problems[:5], "plan": result.plan_text},
                                          metrics={"right": float(bucket == "right")}, passed=bucket == "right")

                    results, secs = Runner(target, progress=not quiet, resume=resume).run(
                        "analysis", items, score, item_id=lambda i: i.id)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            report = new_report("analysis", dataset=path.name, dataset_version=path.stem,
                                backend=model.name, seconds=round(secs, 2),
                                config={"isolation": sandbox.isolation.layers()})
            report.items = results
            report.metrics = summarise(results)
        finish(report, target, min_)
