"""Tryout 17's wrong-but-ok code answers, end to end in the real sandbox: beads stacked in z, a plain-TIFF movie."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scopebot.code.assistant import CodeAssistant
from scopebot.llm.scripted import ScriptedModel
from scopebot.sandbox.models import SandboxLimits
from scopebot.sandbox.runner import Sandbox
from tests.unit.test_code_projection import (
    SPOT_AREA_PX,
    moving_spot,
    overlap_stack,
    write_ome_zyx,
    write_plain,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(SandboxLimits(timeout_s=60), workers=1, output_dir=tmp_path_factory.mktemp("runs")) as sb:
        yield sb


def run(sandbox: Sandbox, request: str, image: Path):  # noqa: ANN201 - a CodeResult
    return CodeAssistant(ScriptedModel(["x"], is_small=True), sandbox, None).run(request, image)


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
