"""``scopebot eval code``: HumanEval-format tasks run in the sandbox, pass@1/5/10 with timings.

Three sources of code: ``--canonical`` (the tasks' own solutions, a check of the suite itself),
``--samples FILE`` (given completions, several per task allowed) and ``--generate N`` (the
configured model is asked N times per task). pass@k uses the unbiased estimator.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Annotated

import typer

from scopebot.clitools import error_boundary, get_settings
from scopebot.code.humaneval import (
    CodeTask,
    SampleResult,
    data_files,
    load_samples,
    load_tasks,
    run_sample,
    summarise,
)
from scopebot.errors import ConfigurationError
from scopebot.evals.common import DATASETS_DIR, MinOpt, OutOpt, QuietOpt, ResumeOpt, finish, out_dir
from scopebot.evals.runner import ItemResult, Runner, new_report

GENERATE_PROMPT = ("Complete this Python function. Answer with the whole function in one ```python block.\n\n"
                   "```python\n{prompt}```\n")


def _completions(tasks: list[CodeTask], samples: Path | None, generate: int | None,
                 canonical: bool) -> tuple[dict[str, list[str]], str]:
    chosen = sum(bool(x) for x in (samples, generate, canonical))
    if chosen != 1:
        raise ConfigurationError("choose exactly one of --canonical, --samples FILE or --generate N",
                                 hint="e.g. scopebot eval code --canonical")
    by_task: dict[str, list[str]] = defaultdict(list)
    if canonical:
        for t in tasks:
            by_task[t.task_id].append(t.canonical_solution)
        return by_task, "canonical"
    if samples is not None:
        known = {t.task_id for t in tasks}
        for s in load_samples(samples):
            if s.task_id not in known:
                raise ConfigurationError(f"sample for unknown task {s.task_id!r}", hint="check the suite/samples pair")
            by_task[s.task_id].append(s.completion)
        return by_task, f"samples:{samples.name}"
    from scopebot.code.assistant import extract_code
    from scopebot.llm import make_chat_model
    from scopebot.llm.base import Message

    model = make_chat_model(get_settings())
    for t in tasks:
        for _ in range(generate or 0):
            reply = model.complete([Message(role="user", content=GENERATE_PROMPT.format(prompt=t.prompt))],
                                   temperature=0.8 if (generate or 0) > 1 else None)
            by_task[t.task_id].append(extract_code(reply.text))
    return by_task, f"model:{model.name}"


def register(eval_app: typer.Typer) -> None:
    from scopebot.evals.suites.analysis import register as register_analysis

    register_analysis(eval_app)

    @eval_app.command("code")
    def code(suite: Annotated[Path | None, typer.Option("--suite", help="Tasks JSONL (HumanEval format).")] = None,
             samples: Annotated[Path | None, typer.Option("--samples", help="Completions JSONL to score.")] = None,
             generate: Annotated[int | None, typer.Option("--generate", min=1,
                                                          help="Ask the model N times per task.")] = None,
             canonical: Annotated[bool, typer.Option("--canonical", help="Score the canonical solutions.")] = False,
             data_dir: Annotated[Path | None, typer.Option("--data-dir",
                                                           help="Copied into every task's folder.")] = None,
             timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per sample.")] = 20.0,
             out: OutOpt = None, min_: MinOpt = None, quiet: QuietOpt = False, resume: ResumeOpt = False) -> None:
        """pass@1/5/10 of code completions on HumanEval-format tasks, run in the sandbox."""
        from scopebot.sandbox import Sandbox

        settings = get_settings()
        with error_boundary():
            suite_path = suite or DATASETS_DIR / "code_v1.jsonl"
            tasks = load_tasks(suite_path)
            files = data_files(data_dir)
            by_task, source = _completions(tasks, samples, generate, canonical)
            target = out_dir(out, settings.home, "code")
            per_task: dict[str, list[SampleResult]] = {}
            with Sandbox.from_settings(settings, output_dir=target / "runs",
                                       workers=max(1, settings.sandbox_workers)) as sandbox:
                def score(task: CodeTask) -> ItemResult:
                    runs = [run_sample(sandbox, task, c, files=files, timeout=timeout)
                            for c in by_task.get(task.task_id, [])]
                    per_task[task.task_id] = runs
                    passed = sum(r.passed for r in runs)
                    return ItemResult(id=task.task_id, inputs={"tags": task.tags},
                                      outputs={"samples": len(runs), "passed": passed,
                                               "errors": [r.error for r in runs if r.error][:3],
                                               "limits": [r.limit_hit for r in runs if r.limit_hit]},
                                      metrics={"pass_rate": passed / len(runs) if runs else 0.0,
                                               "run_s": sum(r.duration_s for r in runs)},
                                      passed=bool(runs) and passed == len(runs))

                scored = [t for t in tasks if by_task.get(t.task_id)]
                results, secs = Runner(target, progress=not quiet, resume=resume).run(
                    "code", scored, score, item_id=lambda t: t.task_id)
            for r in results:  # resumed items: rebuild counts from their outputs
                if r.id not in per_task:
                    n, c = int(r.outputs.get("samples", 0)), int(r.outputs.get("passed", 0))
                    per_task[r.id] = [SampleResult(task_id=r.id, passed=i < c) for i in range(n)]
            report = new_report("code", dataset=suite_path.name, dataset_version=suite_path.stem,
                                backend=source, seconds=round(secs, 2),
                                config={"timeout_s": timeout, "data_dir": str(data_dir) if data_dir else None,
                                        "isolation": sandbox.isolation.layers()})
            report.items = results
            report.metrics = summarise(per_task)
            report.metrics["tasks"] = float(len(results))
            report.metrics["tasks_without_samples"] = float(len(tasks) - len(scored))
            report.metrics["mean_run_s"] = round(sum(r.metrics.get("run_s", 0.0) for r in results)
                                                 / max(1, len(results)), 4)
        finish(report, target, min_)
