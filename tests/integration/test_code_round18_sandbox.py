"""Tryout 18's wrong-but-ok code answers, end to end in the real sandbox: nuclei in the DAPI channel named second,
positivity with one very bright cell, elongated nuclei with the word "touching", intensities in a z-stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopebot.sandbox.runner import Sandbox
from tests.integration.code_runs import module_sandbox, run
from tests.unit.test_code_nuclear_channel import write_gfp_first
from tests.unit.test_code_positivity_cutoff import cells, write_ome
from tests.unit.test_code_split_elongated import write_mixed
from tests.unit.test_code_stack_intensity import write_stack

pytestmark = pytest.mark.integration


sandbox = pytest.fixture(scope="module", name="sandbox")(module_sandbox)


def test_nuclei_are_counted_in_the_dapi_channel(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run(sandbox, "count the nuclei", write_gfp_first(tmp_path / "g.ome.tif", three_d=False))
    assert result.ok, (result.problems, result.stdout[-400:])
    assert result.values["count"]["value"] == 6 and "objects found in channel 2 (DAPI)" in result.answer


def test_one_very_bright_cell_does_not_turn_positives_negative(sandbox: Sandbox, tmp_path: Path) -> None:
    _, image = cells([5000] + [400] * 9)
    result = run(sandbox, "what percentage of nuclei are GFP positive?", write_ome(tmp_path / "p.ome.tif", image))
    assert result.ok, (result.problems, result.stdout[-400:])
    assert result.values["positive_percent"]["value"] == pytest.approx(100.0)


def test_elongated_nuclei_are_not_split(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run(sandbox, "count the nuclei, some of them are touching", write_mixed(tmp_path / "m.tif"))
    assert result.ok, (result.problems, result.stdout[-400:])
    assert result.values["count"]["value"] == 12


def test_intensity_in_a_zstack_is_measured_in_3d(sandbox: Sandbox, tmp_path: Path) -> None:
    image, truth = write_stack(tmp_path / "s.ome.tif")
    result = run(sandbox, "measure the mean GFP intensity inside each DAPI nucleus", image)
    assert result.ok, (result.problems, result.stdout[-400:])
    assert result.values["mean_intensity_c1"]["value"] == pytest.approx(truth, rel=0.02)
