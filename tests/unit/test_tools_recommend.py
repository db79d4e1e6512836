"""Catalog building and ranking on a small invented catalog (tool names and texts are made up)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scopebot.citations import make_key
from scopebot.errors import ConfigurationError
from scopebot.index.models import Chunk
from scopebot.index.protocols import InMemoryRetriever
from scopebot.tools.catalog import ToolCatalog, normalise_name
from scopebot.tools.modelzoo import ModelZooCatalog
from scopebot.tools.recommend import Recommender
from scopebot.tools.render import recommendation_markdown


def chunk(source_id: str, kind: str, name: str, text: str, url: str = "", **meta: Any) -> Chunk:
    crumb = f"{source_id} › {name}"
    return Chunk(key=make_key(kind, source_id, name, text), source_id=source_id, kind=kind, title=name,
                 section=name, breadcrumb=crumb, url=url or f"https://example.org/{normalise_name(name)}",
                 text=f"{crumb}\n{text}", metadata={"name": name, "description": text, **meta})


def biii(name: str, text: str, **meta: Any) -> Chunk:
    return chunk("biii", "registry", name, text, url=f"https://biii.example/{normalise_name(name)}", **meta)


CHUNKS = [
    biii("NucleoView3D", "Desktop application with a point-and-click interface that segments nuclei in 3D "
         "fluorescence stacks.", interface="gui", edam_operations=["Image segmentation", "Cell segmentation"],
         edam_topics=["Fluorescence microscopy"], license="GPL-3.0", homepage="https://nucleoview.example"),
    biii("flatnuc", "Python library that segments nuclei in 2D fluorescence images.", interface="library",
         edam_operations=["Image segmentation"], license="BSD-3-Clause"),
    biii("MembraneMapper", "Fiji plugin for membrane segmentation of cells in confocal images.",
         interface="plugin", platform="Fiji", requires=["Fiji"], edam_operations=["Image segmentation"]),
    biii("TrackLine", "Follows cells and particles over time in 2D time-lapse movies and exports tracks.",
         interface="plugin", platform="Fiji", edam_operations=["Object tracking", "Cell tracking"]),
    biii("QuietPix", "Python package for denoising noisy fluorescence images with self-supervised networks.",
         interface="library", edam_operations=["Image denoising"], license="MIT"),
    biii("AlignIt (toolkit)", "Aligns image volumes and corrects drift.", interface="library",
         edam_operations=["Image registration"]),
    chunk("awesome-bioimage", "registry", "AlignIt", "Registration toolkit for microscopy volumes.",
          url="https://alignit.example", homepage="https://alignit.example", category="Registration"),
    chunk("bioimage-model-zoo", "model-zoo", "EM nucleus segmenter", "A 3D U-Net that segments nuclei in "
          "electron microscopy volumes.", resource_type="model", bioimageio_id="invented-otter",
          tags=["segmentation", "3d", "electron-microscopy", "nuclei"], license="CC-BY-4.0"),
    chunk("bioimage-model-zoo", "model-zoo", "Grainy denoiser", "A network that removes noise from "
          "fluorescence images.", resource_type="model", bioimageio_id="invented-heron",
          tags=["denoising", "2d", "fluorescence-light-microscopy"], license="MIT"),
    chunk("bioimage-model-zoo", "model-zoo", "Nucleus annotations", "A collection of nuclei masks for "
          "segmentation training.", resource_type="dataset", bioimageio_id="invented-data",
          tags=["nuclei", "segmentation"], license="CC0-1.0"),
    chunk("nfdi4bioimage", "registry", "Segmentation course", "A course on segmenting nuclei in 3D."),
    chunk("some-book", "book", "Tracking chapter", "TrackLine is a simple way to follow cells over time."),
]

ZOO_ENTRIES = [
    {"id": "invented-otter", "type": "model", "format_version": "0.5.3", "name": "EM nucleus segmenter",
     "description": "A 3D U-Net that segments nuclei in electron microscopy volumes.",
     "tags": ["segmentation", "3d", "electron-microscopy", "nuclei"], "license": "CC-BY-4.0",
     "authors": [{"name": "A. Inventor"}], "cite": [{"text": "Invented", "doi": "10.1234/abcd"}],
     "documentation": "README.md", "covers": ["cover.png"], "links": ["ilastik/ilastik"],
     "_status": "passed", "_scores": {"tool_compatibility": {"bioimageio.core": 1.0, "ilastik": 1.0}}},
    {"id": "invented-heron", "type": "model", "format_version": "0.5.3", "name": "Grainy denoiser",
     "description": "A network that removes noise from fluorescence images.",
     "tags": ["denoising", "2d"], "license": "MIT", "authors": [{"name": "B. Inventor"}],
     "cite": [{"text": "Invented", "doi": "10.1234/efgh"}], "documentation": "README.md",
     "covers": ["cover.png"], "_status": "failed", "_scores": {}},
]


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    retriever = InMemoryRetriever(CHUNKS)
    zoo = ModelZooCatalog(ZOO_ENTRIES)
    return Recommender(retriever, ToolCatalog.from_retriever(retriever, model_zoo=zoo), candidates=20)


def test_catalog_merges_registries_and_skips_training_index(recommender: Recommender) -> None:
    catalog = recommender.catalog
    align = catalog.by_name("AlignIt")
    assert align is not None and catalog.by_name("alignit (toolkit)") is align
    assert set(align.sources) == {"biii", "awesome-bioimage"}
    assert align.links["biii"].startswith("https://biii.example") and align.links["homepage"] == "https://alignit.example"
    assert catalog.by_name("Segmentation course") is None
    assert catalog.by_name("Tracking chapter") is None
    assert catalog.by_name("MembraneMapper").platform == "Fiji"  # type: ignore[union-attr]


def test_3d_nuclei_gui_request_prefers_the_gui_3d_nuclei_tool(recommender: Recommender) -> None:
    rec = recommender.recommend("segment nuclei in 3D stacks without coding")
    assert rec.results[0].name == "NucleoView3D"
    assert any("EDAM Image segmentation" in w for w in rec.results[0].why)
    assert "handles 3D" in rec.results[0].why


def test_interface_filter_is_respected(recommender: Recommender) -> None:
    names = [r.name for r in recommender.recommend("segment nuclei", interface="gui", k=10).results]
    assert "flatnuc" not in names and "NucleoView3D" in names
    code = [r.name for r in recommender.recommend("segment nuclei", interface="code", k=10).results]
    assert "NucleoView3D" not in code and "flatnuc" in code


def test_dims_are_respected(recommender: Recommender) -> None:
    flat = [r.name for r in recommender.recommend("segment nuclei in fluorescence", dims="2d").results]
    deep = [r.name for r in recommender.recommend("segment nuclei in fluorescence", dims="3d").results]
    assert flat.index("flatnuc") < flat.index("NucleoView3D")
    assert deep.index("NucleoView3D") < deep.index("flatnuc")


def test_only_catalog_names_are_recommended(recommender: Recommender) -> None:
    names = recommender.catalog.names()
    for request in ("track particles", "denoise fluorescence images", "segment cells", "align volumes",
                    "segment nuclei in EM"):
        rec = recommender.recommend(request, k=10)
        assert rec.results
        assert all(r.name in names for r in rec.results + rec.nearest)


def test_datasets_are_not_tools_unless_asked(recommender: Recommender) -> None:
    names = [r.name for r in recommender.recommend("segment nuclei", k=4).results]
    assert "Nucleus annotations" not in names
    asked = [r.name for r in recommender.recommend("a dataset of nuclei for segmentation training", k=3).results]
    assert "Nucleus annotations" in asked


def test_model_zoo_records_carry_validation_inputs_and_runners(recommender: Recommender) -> None:
    em = recommender.catalog.by_name("EM nucleus segmenter")
    assert em is not None and em.validation == "valid"
    assert em.inputs is not None and em.inputs.dims == ["3d"] and em.inputs.test_images == ["cover.png"]
    assert em.links["bioimage.io"].endswith("invented-otter")
    assert any(r.startswith("ilastik") for r in em.run_with)
    rec = recommender.recommend("segment nuclei in electron microscopy volumes")
    assert rec.results[0].name == "EM nucleus segmenter"


def test_invalid_model_zoo_entries_are_listed_and_marked(recommender: Recommender) -> None:
    rec = recommender.recommend("remove noise from fluorescence images", k=5)
    bad = next(r for r in rec.results if r.name == "Grainy denoiser")
    assert bad.validation.startswith("invalid: marked failed")
    assert any("validation" in w for w in bad.why)
    assert "invalid Model Zoo entry" in recommendation_markdown(rec)


def test_citations_come_from_book_passages_naming_the_tool(recommender: Recommender) -> None:
    rec = recommender.recommend("track cells over time")
    top = rec.results[0]
    assert top.name == "TrackLine"
    assert [c.title for c in top.citations] == ["Tracking chapter"]


@pytest.mark.parametrize("text", ["", "  ", "???", "qwzx blorft vrrkle"])
def test_empty_or_nonsense_requests_raise(recommender: Recommender, text: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        recommender.recommend(text)
    assert info.value.hint


def test_real_but_unmatched_request_says_nothing_fits(recommender: Recommender) -> None:
    rec = recommender.recommend("stitch tiles of a mosaic")
    assert rec.nothing_fits and not rec.results
    assert rec.nearest and "No tool in the index fits" in rec.message


def test_json_shape(recommender: Recommender) -> None:
    data = json.loads(json.dumps(recommender.recommend("denoise fluorescence images", k=3).to_json()))
    assert data["query"] == "denoise fluorescence images"
    assert 1 <= len(data["results"]) <= 3
    for item in data["results"]:
        assert {"name", "kind", "score", "why", "interface", "license", "links", "citations"} <= set(item)
        assert isinstance(item["links"], dict) and isinstance(item["why"], list)
    scores = [item["score"] for item in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_no_code_requests_list_applications_before_zoo_models(recommender: Recommender) -> None:
    rec = recommender.recommend("segment nuclei in 3D without coding", k=5)
    kinds = [r.kind for r in rec.results]
    assert "model" in kinds and kinds[0] != "model"
    first_model = kinds.index("model")
    assert all(k == "model" for k in kinds[first_model:])


def test_a_request_naming_an_unknown_tool_gets_no_cards(recommender: Recommender) -> None:
    # the answer route's name check, injected: `scopebot recommend`, MCP and Jupyter turn it on
    seen: list[str] = []

    def check(text: str) -> list[str]:
        seen.append(text)
        return ["DeepBlobby3D"] if "DeepBlobby3D" in text else []

    checked = Recommender(recommender.retriever, recommender.catalog, candidates=20, name_check=check)
    rec = checked.recommend("the DeepBlobby3D plugin to segment nuclei in 3D", k=3)
    assert rec.nothing_fits and not rec.results and "'DeepBlobby3D'" in rec.message
    ok = checked.recommend("segment nuclei in 3D", k=3)
    assert ok.results and not ok.nothing_fits
    assert seen == ["the DeepBlobby3D plugin to segment nuclei in 3D", "segment nuclei in 3D"]


def test_a_refusal_prints_its_reason_without_an_empty_table(recommender: Recommender) -> None:
    from rich.console import Console

    from scopebot.tools.render import print_recommendation

    checked = Recommender(recommender.retriever, recommender.catalog, candidates=20,
                          name_check=lambda text: ["DeepBlobby3D"])
    console = Console(record=True, width=100)
    print_recommendation(console, checked.recommend("the DeepBlobby3D plugin", k=3))
    out = console.export_text()
    assert "'DeepBlobby3D'" in out and "Tool" not in out and "┃" not in out
