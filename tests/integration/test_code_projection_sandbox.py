"""Tryout 17's wrong-but-ok code answers, end to end in the real sandbox: beads stacked in z, a plain-TIFF movie."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopebot.sandbox.runner import Sandbox
from tests.integration.code_runs import module_sandbox, run
from tests.unit.test_code_projection import (
    SPOT_AREA_PX,
    moving_spot,
    overlap_stack,
    write_ome_zyx,
    write_plain,
)

pytestmark = pytest.mark.integration


sandbox = pytest.fixture(scope="module", name="sandbox")(module_sandbox)


def test_beads_stacked_in_z_are_counted_in_3d(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run(sandbox, "how many beads are in this z-stack?", write_ome_zyx(tmp_path / "o.ome.tif", overlap_stack()))
    assert result.ok, (result.problems, result.stdout[-400:])
    assert result.values["count"]["value"] == 3 and result.plan is not None and result.plan.is_3d
    assert len(result.rounds) == 2  # the projection's run, then the 3-D run


def test_a_plain_tiff_movie_is_measured_in_the_frame_the_plan_names(sandbox: Sandbox, tmp_path: Path) -> None:
    image = write_plain(tmp_path / "movie.tif", moving_spot())
    declined = run(sandbox, "This is a time-lapse, 0.4 um per pixel. How big is the spot in um2?", image)
    assert not declined.ok and any("which time point" in p for p in declined.problems)
    result = run(sandbox, "This is a time-lapse, 0.4 um per pixel. How big is the spot in frame 1, in um2?", image)
    assert result.ok, (result.problems, result.stdout[-400:])
    assert result.values["mean_area"]["value"] == pytest.approx(SPOT_AREA_PX * 0.16, rel=0.25)
    unnamed = run(sandbox, "0.4 um pixels. What is the area of the spot?", image)
    assert not unnamed.ok and any("different x/y" in p for p in unnamed.problems)
