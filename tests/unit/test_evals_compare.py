"""``scopebot eval compare``: verdicts by metric direction, regressions first, item changes, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from scopebot.evals import compare
from scopebot.evals.report import write_report
from scopebot.evals.runner import EvalReport, ItemResult


def report(metrics: dict[str, float], items: list[ItemResult], dataset: str = "retrieval") -> EvalReport:
    return EvalReport(suite="retrieval", dataset=dataset, dataset_version="1", metrics=metrics, items=items)


def item(id_: str, passed: bool, **metrics: float) -> ItemResult:
    return ItemResult(id=id_, passed=passed, metrics=metrics, seconds=0.1)


A = report({"recall@5": 0.80, "mrr": 0.60, "latency_p50_s": 0.10, "errors": 0.0, "items": 4.0, "only_a": 1.0},
           [item("q1", True, mrr=1.0), item("q2", True, mrr=0.5), item("q3", False, mrr=0.0),
            item("q4", True, mrr=1.0), item("gone", True, mrr=1.0)])
B = report({"recall@5": 0.85, "mrr": 0.55, "latency_p50_s": 0.30, "errors": 1.0, "items": 5.0, "only_b": 1.0},
           [item("q1", True, mrr=1.0), item("q2", False, mrr=0.0), item("q3", True, mrr=0.5),
            item("q4", True, mrr=0.5), item("new", False, mrr=0.0)])


def test_direction_knows_lower_is_better_metrics() -> None:
    assert compare.direction("recall@5") == "higher"
    assert compare.direction("latency_p95_s") == "lower"
    assert compare.direction("errors") == "lower"
    assert compare.direction("false_abstention") == "lower"
    assert compare.direction("fp[unsupported]") == "lower"
    assert compare.direction("invalid_citations_total") == "lower"
    assert compare.direction("citations_valid") == "higher"
    assert compare.direction("items") == "neutral"


def test_metric_verdicts_respect_direction_and_tolerance() -> None:
    assert compare.metric_verdict("mrr", 0.6, 0.605).verdict == "same"
    assert compare.metric_verdict("mrr", 0.6, 0.5).verdict == "regression"
    assert compare.metric_verdict("errors", 0.0, 1.0).verdict == "regression"
    assert compare.metric_verdict("errors", 2.0, 0.0).verdict == "improvement"
    # timings use a relative tolerance: +10% is noise, +200% is a regression
    assert compare.metric_verdict("latency_p50_s", 0.10, 0.11).verdict == "same"
    assert compare.metric_verdict("latency_p50_s", 0.10, 0.30).verdict == "regression"
    assert compare.metric_verdict("items", 4.0, 5.0).verdict == "changed"


def test_comparison_lists_regressions_first_then_improvements() -> None:
    cmp = compare.compare_reports(A, B)
    verdicts = [(m.metric, m.verdict) for m in cmp.metrics]
    assert [v for _m, v in verdicts] == sorted((v for _m, v in verdicts), key=compare._VERDICT_ORDER.get)
    assert {m.metric for m in cmp.regressions} == {"mrr", "latency_p50_s", "errors"}
    assert verdicts[0][1] == "regression" and ("recall@5", "improvement") in verdicts
    assert cmp.only_in_a == ["only_a"] and cmp.only_in_b == ["only_b"]
    assert not cmp.warnings


def test_item_changes_put_broken_items_first() -> None:
    cmp = compare.compare_reports(A, B)
    changes = [(d.id, d.change) for d in cmp.items]
    assert changes == [("q2", "broke"), ("q3", "fixed"), ("q4", "worse"), ("gone", "only_in_a"), ("new", "only_in_b")]
    assert cmp.items[2].deltas == {"mrr": -0.5}
    assert "q1" not in dict(changes)  # unchanged items are not listed


def test_different_datasets_are_warned_about() -> None:
    cmp = compare.compare_reports(A, report(dict(A.metrics), [], dataset="mine"))
    assert any("different datasets" in w for w in cmp.warnings)
    assert not cmp.regressions


def _app() -> typer.Typer:
    app = typer.Typer()
    compare.register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps `compare` a named sub-command
        pass

    return app


def test_cli_json_output_and_exit_codes(tmp_path: Path) -> None:
    write_report(A, tmp_path / "a", plots=False)
    write_report(B, tmp_path / "b", plots=False)
    runner = CliRunner()
    res = runner.invoke(_app(), ["compare", str(tmp_path / "a"), str(tmp_path / "b" / "report.json"), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["regressions"] == 3 and data["metrics"][0]["verdict"] == "regression"
    assert data["items"][0] == {**data["items"][0], "id": "q2", "change": "broke"}
    res = runner.invoke(_app(), ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--fail-on-regression",
                                 "--markdown", str(tmp_path / "cmp.md")])
    assert res.exit_code == 1
    assert "regression" in res.stdout and "q2" in res.stdout
    md = (tmp_path / "cmp.md").read_text()
    assert md.index("| mrr |") < md.index("| recall@5 |") and "| q2 | broke |" in md
    # comparing a report with itself: nothing regressed, exit 0 even with --fail-on-regression
    res = runner.invoke(_app(), ["compare", str(tmp_path / "a"), str(tmp_path / "a"), "--fail-on-regression"])
    assert res.exit_code == 0 and "0 regression(s)" in res.stdout


def test_cli_missing_report_is_a_usage_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(_app(), ["compare", str(tmp_path / "nope"), str(tmp_path / "nope")])
    assert res.exit_code == 2
    assert "No eval report" in res.output
