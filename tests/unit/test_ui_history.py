"""Feedback JSONL (append-only) and conversation exports (Markdown, nbformat-4 notebook)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scopebot.ui.demo import demo_answer, demo_code_result, write_demo_figure
from scopebot.ui.history import FeedbackStore, TurnRecord, to_markdown, to_notebook, write_exports


def _turns(tmp_path: Path) -> list[TurnRecord]:
    answer = demo_answer("How do I pick a threshold?")
    code = demo_code_result("count nuclei", write_demo_figure(tmp_path / "fig.png"))
    return [TurnRecord(question="How do I pick a threshold?", route="question", kind="answer",
                       markdown=answer.answer, payload=answer),
            TurnRecord(question="count nuclei", route="code", kind="code", markdown="code below", payload=code)]


def test_feedback_is_appended_with_question_answer_sources_and_checks(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "home" / "feedback.jsonl")
    turn = _turns(tmp_path)[0]
    store.record(turn, "up", " clear answer ", session_id="s1", backend="demo")
    first_bytes = store.path.read_bytes()
    store.record(turn, "down")
    rows = store.read()
    assert [r["rating"] for r in rows] == ["up", "down"]
    assert store.path.read_bytes().startswith(first_bytes)  # append-only: the first line is untouched
    row = rows[0]
    assert row["comment"] == "clear answer" and row["session"] == "s1"
    assert row["question"] == "How do I pick a threshold?"
    assert "[1]" in row["answer"]
    assert [s["key"] for s in row["sources"]] == ["bk-demo0001", "bk-demo0002"]
    assert row["checks"]["unknown_entities"] == ["MagicSegmenter3000"]


def test_feedback_rejects_unknown_rating(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        FeedbackStore(tmp_path / "f.jsonl").record(_turns(tmp_path)[0], "meh")  # type: ignore[arg-type]


def test_markdown_export_has_questions_answers_sources_and_code(tmp_path: Path) -> None:
    md = to_markdown(_turns(tmp_path))
    assert "## 1. How do I pick a threshold?" in md
    assert "## 2. count nuclei" in md
    assert "1. Thresholding — Global thresholds <http://127.0.0.1/demo#bk-demo0001>" in md
    assert "code below" in md


def test_notebook_export_turns_code_answers_into_code_cells(tmp_path: Path) -> None:
    nb = to_notebook(_turns(tmp_path))
    assert nb["nbformat"] == 4 and nb["metadata"]["kernelspec"]["language"] == "python"
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code_cells) == 2  # the IMAGE_PATH cell and the code answer
    source = "".join(code_cells[1]["source"])
    assert "threshold_otsu" in source and "filter." not in source.replace("filters.", "")
    assert code_cells[1]["outputs"][0]["text"] == ["objects: 9\n"]
    markdown = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "How do I pick a threshold?" in markdown and "[1]" in markdown


def test_write_exports_writes_valid_files(tmp_path: Path) -> None:
    md, nb = write_exports(_turns(tmp_path), tmp_path / "out", "conv")
    assert md.name == "conv.md" and nb.name == "conv.ipynb"
    data = json.loads(nb.read_text())
    assert all("id" in cell for cell in data["cells"])
    assert md.read_text().startswith("# scopebot conversation")


def test_notebook_names_the_uploaded_image_of_each_code_answer(tmp_path: Path) -> None:
    code = demo_code_result("count nuclei", write_demo_figure(tmp_path / "fig.png"))
    turns = [TurnRecord(question="count nuclei", route="code", kind="code", markdown="m", payload=code,
                        image="multi.ome.tif"),
             TurnRecord(question="again", route="code", kind="code", markdown="m", payload=code,
                        image="cells 2d.tif", image_note="pixel size 0.5 µm typed in scopebot")]
    nb = to_notebook(turns)
    code_cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells[0].startswith("IMAGE_PATH = 'multi.ome.tif'")
    assert any(c.startswith("IMAGE_PATH = 'cells 2d.tif'") for c in code_cells)  # ran on another upload
    markdown = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "`multi.ome.tif`" in markdown and "pixel size 0.5 µm typed in scopebot" in markdown
    assert "Image: the uploaded file `cells 2d.tif`" in to_markdown(turns)
    synthetic = to_notebook(_turns(tmp_path))
    first = "".join(next(c for c in synthetic["cells"] if c["cell_type"] == "code")["source"])
    assert first.startswith('IMAGE_PATH = "image.tif"') and "synthetic" in first
