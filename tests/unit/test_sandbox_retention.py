"""The runs folder keeps under its size cap, oldest first, never losing the run just written."""

from __future__ import annotations

import os
from pathlib import Path

from scopebot.sandbox.retention import prune_runs


def _run(folder: Path, name: str, size: int, age: int) -> Path:
    run = folder / name
    run.mkdir()
    (run / "figure_1.png").write_bytes(b"x" * size)
    os.utime(run, (1_000_000 + age, 1_000_000 + age))
    return run


def test_oldest_runs_go_first_until_the_rest_fits(tmp_path: Path) -> None:
    old, mid, new = _run(tmp_path, "a", 400, 1), _run(tmp_path, "b", 400, 2), _run(tmp_path, "c", 400, 3)
    (tmp_path / "notes.txt").write_text("mine")  # files beside the runs are not runs
    removed = prune_runs(tmp_path, 900, protect=new)
    assert removed == [old]
    assert not old.exists() and mid.exists() and new.exists() and (tmp_path / "notes.txt").exists()


def test_the_protected_run_stays_even_over_the_cap(tmp_path: Path) -> None:
    old, new = _run(tmp_path, "a", 10, 1), _run(tmp_path, "b", 5000, 2)
    assert prune_runs(tmp_path, 0, protect=new) == [old]
    assert new.exists() and (new / "figure_1.png").stat().st_size == 5000


def test_a_missing_folder_is_not_an_error(tmp_path: Path) -> None:
    assert prune_runs(tmp_path / "nope", 0) == []
