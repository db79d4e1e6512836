"""The eval runner's resume after an interruption, error capture, and gates' exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from scopebot.errors import ConfigurationError
from scopebot.evals.common import finish
from scopebot.evals.runner import EvalReport, ItemResult, Runner, parse_gates


class Item:
    def __init__(self, id_: str) -> None:
        self.id = id_


class Scorer:
    """Scores items, recording which ones it saw; can be told to be interrupted at one item."""

    def __init__(self, interrupt_at: str | None = None, broken: str | None = None) -> None:
        self.seen: list[str] = []
        self.interrupt_at = interrupt_at
        self.broken = broken

    def __call__(self, item: Item) -> ItemResult:
        if item.id == self.interrupt_at:
            raise KeyboardInterrupt
        self.seen.append(item.id)
        if item.id == self.broken:
            raise ValueError("bad input")
        return ItemResult(id=item.id, metrics={"score": 1.0}, passed=True)


ITEMS = [Item("a"), Item("b"), Item("c"), Item("d")]


def test_interrupted_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    first = Scorer(interrupt_at="c")
    with pytest.raises(KeyboardInterrupt):
        Runner(tmp_path, progress=False).run("t", ITEMS, first)
    assert first.seen == ["a", "b"]
    assert len((tmp_path / "partial.jsonl").read_text().splitlines()) == 2
    second = Scorer()
    results, _secs = Runner(tmp_path, progress=False, resume=True).run("t", ITEMS, second)
    assert second.seen == ["c", "d"]  # a and b came from partial.jsonl
    assert [r.id for r in results] == ["a", "b", "c", "d"] and all(r.passed for r in results)


def test_without_resume_every_item_is_scored_again(tmp_path: Path) -> None:
    Runner(tmp_path, progress=False).run("t", ITEMS[:2], Scorer())
    again = Scorer()
    Runner(tmp_path, progress=False, resume=False).run("t", ITEMS[:2], again)
    assert again.seen == ["a", "b"]


def test_a_broken_item_becomes_an_error_result_and_the_run_goes_on(tmp_path: Path) -> None:
    results, _ = Runner(tmp_path, progress=False).run("t", ITEMS, Scorer(broken="b"))
    assert [r.id for r in results] == ["a", "b", "c", "d"]
    assert results[1].error == "ValueError: bad input" and results[1].passed is False
    assert "traceback" in results[1].outputs


def test_gates_exit_non_zero_below_the_threshold(tmp_path: Path) -> None:
    report = EvalReport(suite="t", metrics={"recall@5": 0.8, "mrr": 0.5})
    finish(report, tmp_path / "ok", ["recall@5=0.8", "mrr=0.4"], echo=False)  # at or above: no exit
    assert report.gates_ok and (tmp_path / "ok" / "report.json").is_file()
    with pytest.raises(typer.Exit) as exc:
        finish(report, tmp_path / "bad", ["recall@5=0.9"], echo=False)
    assert exc.value.exit_code == 1
    assert [(g.metric, g.ok) for g in report.gates] == [("recall@5", False)]
    with pytest.raises(ConfigurationError):
        finish(report, tmp_path / "bad", ["nope=1"], echo=False)
    with pytest.raises(ConfigurationError):
        parse_gates(["recall@5"])
