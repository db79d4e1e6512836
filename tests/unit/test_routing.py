"""The router (rules + example similarity + context) and the routing eval's scoring helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_agent_fakes import small_router

from scopebot.agent.cues import cue_scores, domain_hits, is_follow_up
from scopebot.agent.models import ROUTES
from scopebot.agent.router import EXAMPLES_PATH, RouteContext, Router, context_from_history, load_examples
from scopebot.agent.state import ToolRequest, extra_words, parse_dims, parse_interface, resolve_tool_request
from scopebot.errors import ConfigurationError
from scopebot.evals.datasets import load_dataset
from scopebot.evals.runner import ItemResult
from scopebot.evals.suites.routing import confusion, confusion_markdown, per_label, run_routing
from scopebot.index.embeddings import HashEmbedder

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "label"), [
    ("Why does my widefield image look blurry compared to confocal?", "question"),
    ("What is the difference between Otsu and triangle thresholding?", "question"),
    ("Write a Python script that labels nuclei and prints their areas", "code"),
    ("Could you give me an ImageJ macro to batch convert my TIFF files", "code"),
    ("Is there a napari plugin for annotating cells?", "tool"),
    ("Which software would you recommend for cell tracking in 3D?", "tool"),
    ("Has anyone on image.sc managed to open Leica LIF files in Python?", "forum"),
    ("What does the community think about Cellpose 3?", "forum"),
    ("hi!", "chitchat"),
    ("What can you do?", "chitchat"),
    ("Who is going to win the football world cup?", "out_of_scope"),
    ("Can you write me a birthday poem for my aunt?", "out_of_scope"),
])
def test_every_route_from_cues(text: str, label: str) -> None:
    route = small_router().route(text)
    assert route.label == label, route.reasons
    assert 0.0 < route.confidence <= 1.0 and route.reasons


def test_image_with_analysis_verb_is_code() -> None:
    router = small_router()
    with_image = router.route("measure the nuclei", has_image=True)
    assert with_image.label == "code" and any("on an image" in r for r in with_image.reasons)
    assert router.route("measure the nuclei").scores["code"] < with_image.scores["code"]


def test_forced_route_overrides_and_unknown_route_is_rejected() -> None:
    route = small_router().route("hello", force="tool")
    assert (route.label, route.confidence, route.forced) == ("tool", 1.0, True)
    with pytest.raises(ConfigurationError):
        small_router().route("hello", force="poems")


@pytest.mark.parametrize(("previous", "text", "expected"), [
    ("tool", "and in 3D?", "tool"),
    ("question", "what about for EM?", "question"),
    ("code", "now measure their area", "code"),
    ("question", "and why is that?", "question"),
    ("tool", "has anyone on the forum used it?", "forum"),      # its own strong cue wins
    ("question", "write python code for it", "code"),
    ("tool", "and what's the weather tomorrow?", "out_of_scope"),
])
def test_follow_ups_inherit_unless_they_carry_their_own_cue(previous: str, text: str, expected: str) -> None:
    ctx = RouteContext(history=[("earlier turn about nuclei segmentation", previous)],
                       has_code_result=previous == "code")
    route = small_router().route(text, ctx)
    assert route.label == expected, route.reasons
    assert route.inherited == (expected == previous)


def test_follow_up_after_chitchat_is_not_inherited() -> None:
    ctx = RouteContext(history=[("hello", "chitchat")])
    assert small_router().route("and in 3D?", ctx).label != "chitchat"


def test_code_follow_up_needs_the_code_result() -> None:
    ctx = RouteContext(history=[("what is a watershed?", "question")], has_code_result=True)
    assert small_router().route("now plot it", ctx).label == "code"


def test_cue_helpers() -> None:
    assert domain_hits("segment nuclei in a confocal z-stack") >= 3
    assert domain_hits("what is the capital of Peru") == 0
    assert is_follow_up("and in 3D?") and is_follow_up("now measure their area")
    assert not is_follow_up("How do I choose an objective for deep tissue imaging with two-photon light?")
    scores, reasons = cue_scores("write a script to count spots")
    assert scores["code"] > 0.8 and any("code" in r for r in reasons)


def test_follow_up_resolution_helpers() -> None:
    assert parse_dims("and in 3D?") == "3d" and parse_dims("for single planes") == "2d" and parse_dims("ok") is None
    assert parse_interface("something without coding") == "gui" and parse_interface("a python library") == "code"
    assert extra_words("what about for EM?") == "EM"
    last = ToolRequest("segment nuclei", "any", "2d")
    assert resolve_tool_request("and in 3D?", last, follow_up=True) == ToolRequest("segment nuclei", "any", "3d")
    assert resolve_tool_request("what about for EM?", last, follow_up=True).request == "segment nuclei EM"
    assert resolve_tool_request("a GUI tool to stitch tiles", last, follow_up=False).interface == "gui"


def test_shipped_examples_cover_every_route_and_differ_from_the_eval_set() -> None:
    examples = load_examples()
    counts = {label: sum(1 for e in examples if e.label == label) for label in ROUTES}
    assert all(n >= 15 for n in counts.values()), counts
    eval_path = REPO / "evals" / "datasets" / "routing_v1.yaml"
    if eval_path.is_file():
        eval_texts = {it.text.strip().lower() for it in load_dataset(eval_path, "routing").items}
        assert not eval_texts & {e.text.lower() for e in examples}


def test_bad_examples_file_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "ex.yaml"
    bad.write_text(yaml.safe_dump({"examples": {"poetry": ["a poem"]}}), encoding="utf-8")
    with pytest.raises(ConfigurationError):
        load_examples(bad)
    with pytest.raises(ConfigurationError):
        Router(HashEmbedder(), [])
    assert EXAMPLES_PATH.is_file()


def test_context_from_eval_history() -> None:
    ctx = context_from_history([{"user": "count the cells", "route": "code"}])
    assert ctx.last_route == "code" and ctx.has_code_result


def _result(i: int, expected: str, predicted: str) -> ItemResult:
    return ItemResult(id=str(i), inputs={"label": expected}, outputs={"route": predicted},
                      metrics={"accuracy": float(expected == predicted)})


def test_confusion_and_per_label_metrics() -> None:
    results = [_result(1, "code", "code"), _result(2, "code", "question"), _result(3, "question", "question"),
               _result(4, "tool", "tool")]
    matrix = confusion(results)
    assert matrix["code"]["question"] == 1 and matrix["code"]["code"] == 1
    metrics = per_label(matrix)
    assert metrics["recall:code"] == 0.5 and metrics["precision:question"] == 0.5
    assert metrics["precision:code"] == 1.0 and "recall:forum" not in metrics
    assert "| code | 1 | 1 | 0 |" in confusion_markdown(matrix)


def test_run_routing_on_a_small_dataset(tmp_path: Path) -> None:
    data = {"name": "routing-mini", "version": 1, "items": [
        {"id": "a", "text": "Which plugin can register EM sections?", "label": "tool"},
        {"id": "b", "text": "hello!", "label": "chitchat"},
        {"id": "c", "text": "and in 3D?", "label": "tool",
         "history": [{"user": "which tool segments nuclei?", "route": "tool"}]},
    ]}
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    items = load_dataset(path, "routing").items
    results, metrics, matrix, _ = run_routing(items, small_router(), tmp_path / "out")
    assert metrics["accuracy"] == 1.0 and metrics["follow_up_accuracy"] == 1.0
    assert matrix["tool"]["tool"] == 2 and results[2].outputs["inherited"] is True
