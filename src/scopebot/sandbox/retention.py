"""Keep the folder of run outputs (figures, written files) under a size cap, oldest runs first.

Every run copies what it wrote into ``<output_dir>/<run id>/``. Without a cap a long-lived server or a
notebook that plots in a loop fills the disk; with it the oldest run folders go once the total passes
``Settings.sandbox_runs_keep_mb``. The run just finished is never removed, so its figures stay visible.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def _size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder, followlinks=False):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def prune_runs(output_dir: Path, keep_bytes: int, *, protect: Path | None = None) -> list[Path]:
    """Delete the oldest run folders in ``output_dir`` until the rest fits ``keep_bytes``; return them.

    Only direct sub-folders count as runs (files beside them, such as a user's notes, are left alone).
    ``protect`` (the run just written) is never deleted, even when it alone is over the cap.
    """
    try:
        runs = [p for p in output_dir.iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return []
    sized = sorted(((p.stat().st_mtime, p, _size(p)) for p in runs), key=lambda t: t[0])
    total = sum(s for _, _, s in sized)
    removed: list[Path] = []
    for _, path, size in sized:
        if total <= keep_bytes:
            break
        if protect is not None and path.resolve() == protect.resolve():
            continue
        shutil.rmtree(path, ignore_errors=True)
        total -= size
        removed.append(path)
    return removed
