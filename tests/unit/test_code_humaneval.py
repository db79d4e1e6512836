"""pass@k estimator, program assembly and task-file loading for `scopebot eval code`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scopebot.code.humaneval import CodeTask, SampleResult, load_tasks, pass_at_k, program, summarise
from scopebot.errors import ConfigurationError
from scopebot.settings import PROJECT_ROOT

TASK = CodeTask(task_id="t/0", prompt="import math\n\n\ndef area(r):\n    \"\"\"Area of a circle.\"\"\"\n",
                canonical_solution="    return math.pi * r ** 2\n", entry_point="area",
                test="def check(candidate):\n    assert abs(candidate(1) - 3.14159) < 1e-3\n")


def test_pass_at_k_matches_the_closed_form() -> None:
    assert pass_at_k(10, 0, 1) == 0
    assert pass_at_k(10, 10, 5) == 1
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - (7 * 6 * 5 * 4 * 3) / (10 * 9 * 8 * 7 * 6))
    assert pass_at_k(5, 1, 10) == 1.0  # n - c < k


def test_program_with_body_or_whole_function() -> None:
    body = program(TASK, TASK.canonical_solution)
    assert body.startswith("import math") and body.rstrip().endswith("check(area)")
    whole = program(TASK, "def area(r):\n    return 3.14159 * r * r\n")
    assert whole.count("def area") == 1 and "import math" in whole
    ns: dict = {}
    exec(compile(body, "p", "exec"), ns)  # the canonical program passes its own check


def test_summarise_only_reports_k_up_to_the_sample_count() -> None:
    results = {"a": [SampleResult(task_id="a", passed=True), SampleResult(task_id="a", passed=False)],
               "b": [SampleResult(task_id="b", passed=False)] * 2}
    metrics = summarise(results)
    assert metrics == {"pass@1": 0.25}


def test_shipped_suite_is_valid_and_large_enough() -> None:
    tasks = load_tasks(PROJECT_ROOT / "evals" / "datasets" / "code_v1.jsonl")
    assert len(tasks) >= 25
    for t in tasks:
        assert f"def {t.entry_point}(" in t.prompt and "def check(candidate)" in t.test


def test_bad_task_files_are_usage_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"task_id": "x"}) + "\n")
    with pytest.raises(ConfigurationError):
        load_tasks(bad)
    with pytest.raises(ConfigurationError):
        load_tasks(tmp_path / "missing.jsonl")
