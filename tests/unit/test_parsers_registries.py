"""Registry-style parsers: BIII Turtle, Model Zoo JSON, NFDI4BIOIMAGE YAML, notebooks JSONL, awesome list."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scopebot.sources.base import ParseReport, get_parser
from scopebot.sources.models import Section, SourceSpec
from scopebot.sources.parsers.biii import edam_label
from scopebot.sources.parsers.biii_infer import infer_interface

FIX = Path(__file__).parent / "fixtures" / "sources"


def run(parser: str, root: Path, kind: str = "registry", **options: object) -> tuple[list[Section], ParseReport]:
    spec = SourceSpec(id=f"test-{parser}", title="Test", kind=kind, license="CC0-1.0", attribution="us",
                      url="https://example.org/list", subpath="x", parser=parser, options=options)
    report = ParseReport(spec.id)
    return list(get_parser(parser)(root, spec, report)), report


def named(sections: list[Section], name: str) -> Section:
    return next(s for s in sections if s.metadata.get("name") == name)


# --- BIII -----------------------------------------------------------------------------------------------

def test_biii_old_dump_fields_edam_labels_and_html() -> None:
    sections, report = run("biii-turtle", FIX / "biii", files=["old-style.ttl"], edam_table="edam.tsv")
    assert report.problems == []
    assert [s.metadata["name"] for s in sections] == ["Spot Counter", "ImageJ", "Lonely Title"]
    spot = named(sections, "Spot Counter")
    assert spot.url == "https://biii.eu/node/501"
    assert spot.metadata["description"] == "Counts bright spots in 2D images.\n\nWorks on many files."
    assert spot.metadata["edam_operations"] == ["Object counting", "Spot detection"]  # table + derived label
    assert spot.metadata["edam_topics"] == ["Fluorescence microscopy"]
    assert spot.metadata["requires"] == ["ImageJ"]
    assert (spot.metadata["interface"], spot.metadata["platform"]) == ("plugin", "Fiji")
    assert spot.metadata["tool_type"] == "software"
    assert "https://doi.org/10.1234/fake.5678" in spot.metadata["publications"]
    assert "Tester G. (2020) Counting spots for fun" in spot.metadata["publications"]
    assert spot.metadata["authors"] == ["Grace Tester"]
    assert "picture.png" not in spot.text and "<p>" not in spot.text and "&nbsp;" not in spot.text
    for piece in ("Spot Counter", "Counts bright spots", "Object counting", "Fluorescence microscopy", "Fiji"):
        assert piece in spot.text
    lonely = named(sections, "Lonely Title")
    assert lonely.text.startswith("Lonely Title") and lonely.url == "https://biii.eu/node/503"
    assert named(sections, "ImageJ").metadata["interface"] == "gui"  # the host application itself


def test_biii_new_dump_format_is_accepted() -> None:
    sections, report = run("biii-turtle", FIX / "biii", files=["new-style.ttl"], edam_table="edam.tsv")
    assert report.problems == []
    tracer = named(sections, "Membrane Tracer")
    assert tracer.url == "https://biii.eu/membrane-tracer"
    assert tracer.metadata["license"] == "MIT"
    assert tracer.metadata["homepage"] == "https://example.org/membrane-tracer"
    assert tracer.metadata["urls"] == ["https://example.org/membrane-tracer", "https://example.org/membrane-tracer/docs"]
    assert tracer.metadata["edam_operations"] == ["Image segmentation"]
    assert tracer.metadata["description"] == "A napari plugin that traces cell membranes.\n\nSecond paragraph."
    assert tracer.metadata["requires"] == []  # the required node is not in this dump
    assert (tracer.metadata["interface"], tracer.metadata["platform"]) == ("plugin", "napari")
    assert "License: MIT." in tracer.text


def test_biii_broken_entry_reported_with_line_others_parsed() -> None:
    sections, report = run("biii-turtle", FIX / "biii", files=["broken.ttl", "old-style.ttl"],
                           edam_table="edam.tsv")
    names = [s.metadata["name"] for s in sections]
    assert "Survivor Tool" in names and "Another Survivor" in names and "Spot Counter" in names
    assert "Broken Tool" not in " ".join(names)
    skipped = [p for p in report.problems if "skipped broken entry" in p.message]
    assert len(skipped) == 1 and skipped[0].path.endswith("broken.ttl") and skipped[0].line == 9  # the line with the unclosed string


def test_edam_label_derivation() -> None:
    assert edam_label("http://edamontology.org/operation_Image_registration", {}) == "Image registration"
    assert edam_label("http://edamontology.org/operation__R9Vc5BV3ZMcLHEL6WEceXbY", {}) == ""
    assert edam_label("http://edamontology.org/operation_3443", {}) == ""
    assert edam_label("http://x/t", {"http://x/t": "Known"}) == "Known"


@pytest.mark.parametrize(("name", "desc", "requires", "expected"), [
    ("Nucleus macro", "An ImageJ macro that counts nuclei.", ["Fiji"], ("script", "Fiji")),
    ("QuantTool", "A QuPath extension for cells.", [], ("plugin", "QuPath")),
    ("Toolbox", "A Python library for filters.", [], ("library", "")),
    ("Viewer", "A web-based viewer running in the browser.", [], ("web", "")),
    ("Desk", "Stand-alone application for annotation.", [], ("gui", "")),
    ("rmObjects", "", ["EBImage"], ("library", "")),
])
def test_interface_inference(name: str, desc: str, requires: list[str], expected: tuple[str, str]) -> None:
    assert infer_interface(name, desc, requires) == expected


# --- Model Zoo --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zoo() -> tuple[list[Section], ParseReport]:
    return run("bioimage-model-zoo", FIX / "zoo", kind="model-zoo", catalog="catalog.json", legacy="legacy.json")


def test_zoo_null_and_unsupported_entries_are_reported(zoo: tuple[list[Section], ParseReport]) -> None:
    _, report = zoo
    paths = [p.path for p in report.problems]
    assert "reports/bioimage-io/empty-entry/v0/summary.json" in paths
    assert any("unsupported type 'collection'" in p.message for p in report.problems)


def test_zoo_model_metadata(zoo: tuple[list[Section], ParseReport]) -> None:
    sections, _ = zoo
    model = named(sections, "Toy Nucleus Segmenter")
    assert model.url == "https://bioimage.io/#/artifacts/sleepy-otter"  # nickname for DOI ids
    m = model.metadata
    assert m["resource_type"] == "model" and m["bioimageio_id"] == "10.5281/zenodo.111/222"
    assert m["authors"] == ["Ada Example"] and m["license"] == "CC-BY-4.0"
    assert m["validation"] == "passed" and m["status"] == "passed"
    assert m["consumers"] == ["bioimageio.core", "deepImageJ", "ilastik"]
    assert m["dimensionality"] == ["2d"] and m["frameworks"] == ["PyTorch"]
    assert "Segments toy nuclei" in model.text and "Example et al. 2024 (doi:10.1/xyz)" in model.text


def test_zoo_failed_validation_and_license_check(zoo: tuple[list[Section], ParseReport]) -> None:
    sections, _ = zoo
    broken = named(sections, "Broken Parrot")
    assert broken.url == "https://bioimage.io/#/artifacts/broken-parrot"
    assert broken.metadata["validation"].startswith("failed: metadata format, core compatibility")
    if broken.metadata.get("license_valid") is not None:  # bioimageio.spec installed
        assert broken.metadata["license_valid"] is False
        assert named(sections, "Toy Nucleus Segmenter").metadata["license_valid"] is True


def test_zoo_versions_and_legacy_merge_are_deduplicated(zoo: tuple[list[Section], ParseReport]) -> None:
    sections, _ = zoo
    apps = [s for s in sections if s.metadata["name"] == "Widget App"]
    assert len(apps) == 1 and apps[0].metadata["description"] == "An app, newer report."
    assert apps[0].url == "https://bioimage.io/#/artifacts/demo/widget-app"
    assert len([s for s in sections if s.metadata["name"] == "Toy Nucleus Segmenter"]) == 1
    legacy = named(sections, "Legacy Only Dataset")
    assert legacy.metadata["catalog"] == "legacy" and legacy.url.endswith("/dusty-mole")
    assert legacy.metadata["validation"] == "unknown"


def test_zoo_corrupt_catalog_reports_line(tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_text('{"items": [\n  {"id": "a",\n  oops\n]}', encoding="utf-8")
    shutil.copy(FIX / "zoo" / "legacy.json", tmp_path / "legacy.json")
    sections, report = run("bioimage-model-zoo", tmp_path, kind="model-zoo", catalog="catalog.json",
                           legacy="legacy.json")
    assert report.problems[0].path.endswith("catalog.json") and report.problems[0].line == 3
    assert {s.metadata["name"] for s in sections} == {"Toy Nucleus Segmenter", "Legacy Only Dataset"}


# --- NFDI4BIOIMAGE ----------------------------------------------------------------------------------------

def test_nfdi_resources() -> None:
    sections, report = run("nfdi4bioimage-yaml", FIX / "nfdi")
    assert report.problems == []
    intro, advanced = sections
    assert intro.url == "https://doi.org/10.5281/zenodo.1234567"
    assert intro.metadata["doi"] == "10.5281/zenodo.1234567"
    assert intro.metadata["tags"] == ["Widgets"]  # catalog-curation tags dropped
    assert intro.metadata["proficiency_level"] == "novice" and intro.metadata["resource_type"] == ["Slides"]
    assert "A short course on imaging widgets." in intro.text and "Ada Example" in intro.text
    assert advanced.url == "https://example.org/advanced" and advanced.metadata["license"] == "MIT"
    assert advanced.metadata["authors"] == ["Bob Example"]


def test_nfdi_corrupt_yaml_recovers_other_entries(tmp_path: Path) -> None:
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "index.yml").write_text(
        "resources:\n- name: Good One\n  url: https://example.org/1\n- name: [broken\n  url: https://x\n"
        "- name: Good Two\n  url: https://example.org/2\n", encoding="utf-8")
    sections, report = run("nfdi4bioimage-yaml", tmp_path)
    assert [s.metadata["name"] for s in sections] == ["Good One", "Good Two"]
    assert any(p.line == 4 and p.path.endswith("index.yml") for p in report.problems)


# --- notebooks and awesome list ----------------------------------------------------------------------------

def test_notebooks_jsonl() -> None:
    sections, report = run("notebooks-jsonl", FIX / "notebooks", kind="training", file="cells.jsonl",
                           base_url="https://nb.example.org")
    assert [(p.line, p.path.endswith("cells.jsonl")) for p in report.problems] == [(5, True)]
    assert not any("Code of conduct" in s.doc_title or "Outside" in s.doc_title for s in sections)
    blobs = [s for s in sections if s.doc_title == "Counting blobs"]
    assert [s.path for s in blobs] == [["Counting blobs"], ["Counting blobs", "Thresholding first"],
                                       ["Counting blobs", "Labeling"]]
    assert blobs[1].url == "https://nb.example.org/20_counting/01_count_blobs.html#thresholding-first"
    readme = next(s for s in sections if s.doc_title == "Counting chapter")
    assert readme.url == "https://nb.example.org/20_counting/readme.html"


def test_awesome_list_entries() -> None:
    sections, report = run("awesome-list", FIX / "awesome", list_url="https://github.com/x/awesome")
    assert report.problems == []
    assert [s.metadata["name"] for s in sections] == ["BlobSeg", "EdgeKit", "TrackIt"]
    blob = sections[0]
    assert blob.path == ["Segmentation", "BlobSeg"] and blob.metadata["category"] == "Segmentation"
    assert blob.metadata["homepage"] == "https://example.org/blobseg"
    assert blob.url == "https://github.com/x/awesome#segmentation"
    assert "Segments blobs with a tiny network." in blob.text
    assert sections[1].metadata["description"] == "Finds edges; see docs."
    assert sections[2].url.endswith("#tracking--motion")
