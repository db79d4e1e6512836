"""HumanEval-format code tasks run in the sandbox, scored with the unbiased pass@k estimator.

A task has ``task_id``, ``prompt`` (imports + signature + docstring), ``canonical_solution`` (the
body), ``entry_point`` and ``test`` (a ``check(candidate)`` function). A sample is ``task_id`` +
``completion``. The program run is ``prompt + completion + test + check(entry_point)``; when the
completion already contains the whole function, the prompt's imports are kept and its stub dropped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from scopebot.errors import ConfigurationError
from scopebot.sandbox.runner import Sandbox


class CodeTask(BaseModel):
    task_id: str
    prompt: str
    canonical_solution: str
    entry_point: str
    test: str
    tags: list[str] = Field(default_factory=list)


class CodeSample(BaseModel):
    task_id: str
    completion: str


class SampleResult(BaseModel):
    task_id: str
    passed: bool
    error: str | None = None
    limit_hit: str | None = None
    duration_s: float = 0.0


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k), computed stably."""
    if n <= 0:
        return 0.0
    if n - c < k:
        return 1.0
    return 1.0 - math.prod((1.0 - k / i) for i in range(n - c + 1, n + 1))


def _read_jsonl(path: Path, model: type[BaseModel]) -> list:
    if not path.is_file():
        raise ConfigurationError(f"file not found: {path}", hint="check the path")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(model.model_validate(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            raise ConfigurationError(f"{path}:{number}: not a valid {model.__name__}: {exc}".splitlines()[0],
                                     hint="each line must be one JSON object with the HumanEval fields") from None
    if not out:
        raise ConfigurationError(f"{path} holds no items", hint="add one JSON object per line")
    return out


def load_tasks(path: Path) -> list[CodeTask]:
    tasks = _read_jsonl(path, CodeTask)
    ids = [t.task_id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ConfigurationError(f"duplicate task_id in {path}", hint="task ids must be unique")
    return tasks


def load_samples(path: Path) -> list[CodeSample]:
    return _read_jsonl(path, CodeSample)


def program(task: CodeTask, completion: str) -> str:
    """The full script that checks ``completion`` against ``task``."""
    if f"def {task.entry_point}(" in completion:
        header = "\n".join(line for line in task.prompt.splitlines()
                           if line.startswith(("import ", "from ")))
        body = header + "\n\n" + completion
    else:
        body = task.prompt + completion
    return f"{body}\n\n{task.test}\n\ncheck({task.entry_point})\n"


def data_files(data_dir: Path | None) -> dict[str, Path]:
    """Files and sub-folders of ``data_dir`` to copy into each task's working directory (folders whole)."""
    if data_dir is None:
        return {}
    if not data_dir.is_dir():
        raise ConfigurationError(f"data directory not found: {data_dir}", hint="check --data-dir")
    return {p.name: p for p in sorted(data_dir.iterdir())
            if (p.is_file() or p.is_dir()) and not p.name.startswith(".")}


def run_sample(sandbox: Sandbox, task: CodeTask, completion: str, *, files: dict[str, Path],
               timeout: float | None = None) -> SampleResult:
    """Run one completion; passed when the checks ran to the end."""
    result = sandbox.run(program(task, completion), files=files, timeout=timeout, filename="task.py")
    return SampleResult(task_id=task.task_id, passed=result.ok, error=result.error, limit_hit=result.limit_hit,
                        duration_s=result.duration_s)


def summarise(results: dict[str, list[SampleResult]], ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """pass@k for every k not larger than the fewest samples of any task."""
    metrics: dict[str, float] = {}
    if not results:
        return metrics
    fewest = min(len(v) for v in results.values())
    for k in ks:
        if k <= fewest:
            scores = [pass_at_k(len(v), sum(r.passed for r in v), k) for v in results.values()]
            metrics[f"pass@{k}"] = round(sum(scores) / len(scores), 4)
    return metrics
