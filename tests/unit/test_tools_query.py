"""Request understanding: tasks, objects, modalities, dims, interface and constraints."""

from __future__ import annotations

import pytest

from scopebot.errors import ConfigurationError
from scopebot.tools.query import is_tool_question, parse_request


@pytest.mark.parametrize(
    ("text", "task", "operation"),
    [
        ("I need to denoise my movies", "denoising", "Image denoising"),
        ("segment every nucleus", "segmentation", "Image segmentation"),
        ("follow cells over time and build lineages", "tracking", "Cell tracking"),
        ("align two volumes acquired on different days", "registration", "Image registration"),
        ("deconvolve widefield stacks with a measured PSF", "deconvolution", "Image deconvolution"),
        ("count FISH spots per cell", "detection", "Spot detection"),
        ("stitch tiles of a large mosaic", "stitching", "Image stitching"),
    ],
)
def test_tasks_map_to_edam_operations(text: str, task: str, operation: str) -> None:
    parsed = parse_request(text)
    assert task in parsed.tasks
    assert operation in parsed.operations


def test_objects_and_modalities() -> None:
    parsed = parse_request("find nuclei and mitochondria in electron microscopy and brightfield images")
    assert {"nuclei", "organelles"} <= set(parsed.objects)
    assert {"electron-microscopy", "brightfield"} <= set(parsed.modalities)
    assert "Electron microscopy" in parsed.topics
    assert parse_request("nucleus outlines in EM").modalities == ["electron-microscopy"]


@pytest.mark.parametrize(
    ("text", "interface"),
    [
        ("segment cells, I have no coding experience", "gui"),
        ("a tool I can use without programming", "gui"),
        ("something with a GUI", "gui"),
        ("a python library for tracking", "code"),
        ("I want to script the registration", "code"),
        ("track cells", "any"),
    ],
)
def test_interface_from_text(text: str, interface: str) -> None:
    assert parse_request(text).interface == interface


@pytest.mark.parametrize(
    ("text", "dims"),
    [("segment nuclei in 3D", "3d"), ("cells in a z-stack", "3d"), ("a volume of neurons", "3d"),
     ("2D slides of tissue", "2d"), ("segment nuclei", "any")],
)
def test_dims_from_text(text: str, dims: str) -> None:
    assert parse_request(text).dims == dims


def test_explicit_options_override_text() -> None:
    parsed = parse_request("segment nuclei in 3D with python", interface="gui", dims="2d")
    assert parsed.interface == "gui"
    assert parsed.dims == "2d"


def test_constraints_and_platforms() -> None:
    parsed = parse_request("an open-source Fiji plugin to classify pixels with deep learning")
    assert parsed.open_source
    assert parsed.platforms == ["Fiji"]
    assert parsed.deep_learning
    assert "classification" in parsed.tasks
    assert not parse_request("classify pixels").open_source


@pytest.mark.parametrize("text", ["", "   ", "?!...", "---"])
def test_empty_request_is_a_configuration_error(text: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_request(text)
    assert info.value.hint


def test_keywords_drop_stop_words() -> None:
    parsed = parse_request("Which tool should I use for segmenting yeast?")
    assert "which" not in parsed.keywords and "tool" not in parsed.keywords
    assert "yeast" in parsed.keywords


def test_tool_question_detection() -> None:
    assert is_tool_question("Which software should I use to track bacteria?")
    assert is_tool_question("Is there a plugin for stitching?")
    assert is_tool_question("tools for deconvolution")
    assert not is_tool_question("What is the Nyquist sampling criterion?")
