"""Model Zoo catalog: offline bioimageio.spec validation, inputs, run options; eval scoring; CLI errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from scopebot.evals.datasets import ToolItem
from scopebot.evals.suites.tools import hit_rank, score_item
from scopebot.index.protocols import InMemoryRetriever
from scopebot.tools.catalog import ToolCatalog, core_name, normalise_name
from scopebot.tools.cli import register
from scopebot.tools.modelzoo import ModelZooCatalog, model_inputs, run_options
from scopebot.tools.recommend import Recommender


def entry(**overrides: Any) -> dict[str, Any]:
    """An invented, metadata-only model description like the catalog snapshot's entries."""
    base: dict[str, Any] = {
        "id": "made-up-lynx", "type": "model", "format_version": "0.5.3", "name": "Made-up vesicle finder",
        "description": "Invented model that marks vesicles in 2D fluorescence images.",
        "tags": ["segmentation", "2d", "fluorescence-light-microscopy", "vesicles"], "license": "MIT",
        "authors": [{"name": "C. Nobody"}], "cite": [{"text": "Invented", "doi": "10.1234/wxyz"}],
        "documentation": "README.md", "covers": ["cover.png"], "links": ["deepimagej/deepimagej"],
        "_status": "passed",
        "_scores": {"tool_compatibility": {"bioimageio.core": 1.0, "deepimagej": 0.0, "ilastik": 1.0}},
    }
    base.update(overrides)
    return base


def test_metadata_only_model_is_valid_but_scoped() -> None:
    zoo = ModelZooCatalog([entry()])
    validation, scope, _ = zoo.validate(zoo.entries[0])
    assert validation == "valid"
    assert scope.startswith("metadata")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [({"_status": "failed"}, "marked failed by the bioimage.io collection"),
     ({"license": "no such licence"}, "license"),
     ({"type": None, "format_version": None}, "type")],
)
def test_invalid_entries_get_a_reason(overrides: dict[str, Any], reason: str) -> None:
    zoo = ModelZooCatalog([entry(**overrides)])
    validation, _, _ = zoo.validate(zoo.entries[0])
    assert validation.startswith("invalid: ")
    assert reason in validation
    assert len(validation) < 600  # long pydantic messages are shortened


def test_inputs_and_run_options_from_the_description() -> None:
    inputs = model_inputs(entry())
    assert inputs.dims == ["2d"] and inputs.modality == ["fluorescence"]
    assert inputs.test_images == ["cover.png"] and inputs.note
    runners = run_options(entry())
    assert runners[0].startswith("bioimageio.core") and runners[1].startswith("ilastik")
    assert any(r.startswith("deepImageJ") and "not confirmed" in r for r in runners)


def test_catalog_file_loading(tmp_path: Path) -> None:
    folder = tmp_path / "bioimage-model-zoo"
    folder.mkdir()
    (folder / "bmz-catalog-2000-01-01.json").write_text(json.dumps({"items": [entry()]}), encoding="utf-8")
    zoo = ModelZooCatalog.from_sources_dir(tmp_path)
    assert zoo is not None and zoo.find("made-up-lynx") is not None
    assert zoo.find(name="made-up VESICLE finder") is not None
    assert ModelZooCatalog.from_sources_dir(tmp_path / "nowhere") is None


def test_stored_checks_give_the_same_records_without_validating_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from scopebot.tools.models import ToolRecord

    def record() -> ToolRecord:
        return ToolRecord(id="bmz:made-up-lynx", name="made-up VESICLE finder", kind="model",
                          bioimageio_id="made-up-lynx")

    zoo = ModelZooCatalog([entry()])
    fresh = record()
    zoo.enrich([fresh])
    table = json.loads(json.dumps(zoo.checked_table()))  # as kept beside the index build
    again = ModelZooCatalog([entry()])
    again.use_checked(table)
    monkeypatch.setattr(again, "validate", lambda e: pytest.fail("validated although stored"))
    stored = record()
    again.enrich([stored])
    assert stored.model_dump() == fresh.model_dump() and stored.validation == "valid"
    assert again.checks_version() == zoo.checks_version()
    assert ModelZooCatalog([entry(license="CC-BY-4.0")]).checks_version() != zoo.checks_version()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("propagate (EBImage)", "propagate"), ("Cell-ACDC", "cellacdc"), ("  Fiji ", "fiji"), ("Ångström Tool", "angstromtool")],
)
def test_normalise_name(name: str, expected: str) -> None:
    assert normalise_name(name) == expected


def test_core_name() -> None:
    assert core_name("Noise2Void (2D) - ZeroCostDL4Mic") == "Noise2Void"
    assert core_name("Plain") == "Plain"


def test_hit_rank_uses_normalised_names() -> None:
    assert hit_rank(["Alpha", "propagate", "Gamma"], ["PROPAGATE (EBImage)"]) == 2
    assert hit_rank(["Alpha"], ["Beta"]) is None


def test_score_item_reports_hits_and_missing_names() -> None:
    from scopebot.citations import make_key
    from scopebot.index.models import Chunk

    chunks = [Chunk(key=make_key("registry", "biii", n), source_id="biii", kind="registry", title=n, section=n,
                    breadcrumb=f"BIII › {n}", url=f"https://biii.example/{n}", text=f"BIII › {n}\n{d}",
                    metadata={"name": n, "description": d, "edam_operations": ops})
              for n, d, ops in [("SpotCounter", "Counts spots in fluorescence images.", ["Spot detection"]),
                                ("Stitchy", "Stitches tiles into a mosaic.", ["Image stitching"])]]
    retriever = InMemoryRetriever(chunks)
    rec = Recommender(retriever, ToolCatalog.from_retriever(retriever))
    item = ToolItem(id="t1", request="count spots", acceptable=["spotcounter", "Imaginary"])
    result = score_item(rec, item)
    assert result.metrics == {"hit@1": 1.0, "hit@5": 1.0, "mrr": 1.0}
    assert result.outputs["acceptable_not_in_index"] == ["Imaginary"]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["recommend", "   "], "The request is empty"),
     (["recommend", "segment nuclei", "--interface", "mouse"], "Unknown interface"),
     (["recommend", "segment nuclei", "--dims", "4d"], "Unknown dimensionality")],
)
def test_cli_bad_input_exits_2(args: list[str], message: str, tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keep 'recommend' as a sub-command
        """Test app."""

    result = CliRunner().invoke(app, args, env={"SCOPEBOT_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"request": " "}, "empty"), ({"interface": "touch"}, "Unknown interface"),
     ({"dims": "4d"}, "Unknown dimensionality"), ({"k": 0}, "between 1 and 50"), ({"k": 51}, "between 1 and 50")],
)
def test_one_argument_check_for_every_front_end(kwargs: dict, message: str) -> None:
    from scopebot.errors import ConfigurationError
    from scopebot.tools.query import check_arguments

    args = {"request": "segment nuclei", "interface": "any", "dims": "any", "k": 5} | kwargs
    with pytest.raises(ConfigurationError, match=message):
        check_arguments(**args)
    retriever = InMemoryRetriever([])
    with pytest.raises(ConfigurationError, match=message):  # the recommender itself refuses too (UI, MCP)
        Recommender(retriever, ToolCatalog.from_retriever(retriever)).recommend(**args)
