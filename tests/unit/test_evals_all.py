"""``scopebot eval all``: suites run in-process into OUT/<suite>/, combined summary, gates' exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from scopebot.errors import ConfigurationError
from scopebot.evals.suites import all as all_suite
from scopebot.evals.suites import hallucination, quiz, retrieval
from scopebot.index.builder import IndexBuilder
from scopebot.index.embeddings import HashEmbedder
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec

BOOK = SourceSpec(id="testbook", title="Test Book", kind="book", license="BSD-3", attribution="us",
                  url="https://example.org/book", subpath="book", parser="markdown", options={"label": "Book"})


def _sec(title: str, text: str) -> Section:
    return Section(source_id="testbook", kind="book", doc_title="2 Restoration", path=["2 Restoration", title],
                   anchor=title.lower(), url="https://example.org/2.html", text=text)


DATASET = """name: tiny-retrieval
version: "1"
items:
- id: t1
  question: remove shot noise without clean ground truth
  expected: [{source: testbook, section: Denoising}]
- id: t2
  question: undo the blur of the point spread function
  expected: [{source: testbook, section: Deconvolution}]
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    settings = Settings(home=home, embedding_model="hash")
    IndexBuilder(settings, HashEmbedder()).ingest_sections(BOOK, [
        _sec("Denoising", "Self-supervised denoising learns to remove shot noise without clean ground truth."),
        _sec("Deconvolution", "Deconvolution reverses the blur of the point spread function iteratively."),
    ])
    (tmp_path / "tiny.yaml").write_text(DATASET)
    return {"SCOPEBOT_HOME": str(home), "SCOPEBOT_EMBEDDING_MODEL": "hash",
            "SCOPEBOT_SOURCES_DIR": str(tmp_path / "no-sources")}


def _app() -> typer.Typer:
    app = typer.Typer()
    for module in (retrieval, hallucination, quiz, all_suite):
        module.register(app)
    return app


def _run(tmp_path: Path, env: dict[str, str], *extra: str) -> tuple[int, dict]:
    out = tmp_path / "out"
    args = ["all", "--out", str(out), "--quiet", "--limit", "4", "--skip", "answers,tools", "--skip", "code",
            "--skip", "routing", "--dataset", f"retrieval={tmp_path / 'tiny.yaml'}", *extra]
    res = CliRunner().invoke(_app(), args, env=env)
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").is_file() else {}
    return res.exit_code, summary


def test_all_runs_each_suite_into_its_folder_and_summarises(tmp_path: Path, env: dict[str, str]) -> None:
    code, summary = _run(tmp_path, env, "--min", "retrieval.recall@5=0.5")
    assert code == 0, summary
    runs = {r["suite"]: r for r in summary["suites"]}
    assert runs["retrieval"]["status"] == "ok" and runs["retrieval"]["headline"]["recall@5"] == 1.0
    assert runs["retrieval"]["gates"][0]["metric"] == "recall@5" and runs["retrieval"]["gates"][0]["ok"]
    assert runs["hallucination"]["status"] == "ok" and runs["hallucination"]["metrics"]["items"] == 4.0
    assert runs["quiz"]["status"] == "skipped" and "no lesson sources" in runs["quiz"]["reason"]
    assert runs["answers"]["status"] == runs["code"]["status"] == "skipped"
    assert runs["tools"]["reason"] == "--skip/--only"
    out = tmp_path / "out"
    assert (out / "retrieval" / "report.json").is_file() and (out / "hallucination" / "report.md").is_file()
    assert (out / "scores.png").stat().st_size > 0
    assert "| retrieval | ok |" in (out / "summary.md").read_text()
    assert [r["suite"] for r in summary["suites"]] == list(all_suite.ORDER)


def test_a_failed_gate_fails_the_run_after_all_suites_ran(tmp_path: Path, env: dict[str, str]) -> None:
    code, summary = _run(tmp_path, env, "--min", "retrieval.recall@5=1.01")
    assert code == 1
    runs = {r["suite"]: r for r in summary["suites"]}
    assert runs["retrieval"]["status"] == "gate_failed" and "recall@5" in runs["retrieval"]["reason"]
    assert runs["hallucination"]["status"] == "ok"
    assert summary["ok"] is False


def test_bad_gate_or_suite_names_are_usage_errors(tmp_path: Path, env: dict[str, str]) -> None:
    code, _ = _run(tmp_path, env, "--min", "recall@5=0.9")
    assert code == 2
    code, _ = _run(tmp_path, env, "--skip", "nosuch")
    assert code == 2


def test_plan_builds_each_suites_arguments(tmp_path: Path) -> None:
    runs = dict(all_suite.plan(tmp_path, skip=["quiz"], limit=3, backend="scripted",
                               gates={"tools": ["hit@5=0.8"]}, datasets={"answers": "a.yaml"}, code_generate=2))
    assert list(runs) == ["retrieval", "answers", "hallucination", "tools", "code", "code-generate", "routing"]
    assert runs["code"] == ["code", "--out", str(tmp_path / "code"), "--canonical"]
    assert runs["code-generate"][:4] == ["code", "--out", str(tmp_path / "code-generate"), "--generate"]
    assert runs["answers"] == ["answers", "--out", str(tmp_path / "answers"), "--limit", "3", "--dataset", "a.yaml",
                               "--backend", "scripted"]
    assert runs["tools"][-2:] == ["--min", "hit@5=0.8"] and "--backend" not in runs["tools"]


def test_gate_and_dataset_specs_are_validated() -> None:
    assert all_suite.split_gates(["tools.hit@5=0.8", "tools.mrr=0.5"], all_suite.ORDER) == {
        "tools": ["hit@5=0.8", "mrr=0.5"]}
    with pytest.raises(ConfigurationError):
        all_suite.split_gates(["nosuch.x=1"], all_suite.ORDER)
    with pytest.raises(ConfigurationError):
        all_suite.split_pairs(["answers"], ["answers"], "--dataset")


def test_a_crashing_suite_is_recorded_as_an_error(tmp_path: Path) -> None:
    def boom(argv: list[str]) -> int:
        raise RuntimeError("index exploded")

    run = all_suite.run_suite(boom, "tools", ["tools"], tmp_path)
    assert run.status == "error" and "index exploded" in run.reason
    assert all_suite.run_suite(lambda argv: 0, "tools", ["tools"], tmp_path).status == "error"  # no report
