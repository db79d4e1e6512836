"""The learned router (features, classifier, decision rules, data split) and the routing eval's helpers.

The unit tests use the hash embedder, for which the router trains its classifier in-process on the
shipped templated set (the same code path that built the shipped MiniLM model), once per process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from test_agent_fakes import make_assistant, small_router

from scopebot.agent.classifier import RouteClassifier
from scopebot.agent.cues import asks_quantity, cue_scores, domain_hits, is_follow_up, names_method
from scopebot.agent.models import ROUTES, Route
from scopebot.agent.route_data import assign_splits, expand, load_templates, nearest_similarity
from scopebot.agent.route_features import CUE_NAMES, FEATURE_VERSION, cue_features
from scopebot.agent.router import (
    EXAMPLES_PATH,
    RouteContext,
    Router,
    context_from_history,
    decide,
    load_examples,
)
from scopebot.agent.state import ToolRequest, extra_words, parse_dims, parse_interface, resolve_tool_request
from scopebot.agent.toolloop import ToolLoop, route_hint
from scopebot.agent.train_router import CARD_PATH, MODEL_PATH, NEAR_DUP, TRAINSET_PATH
from scopebot.errors import ConfigurationError
from scopebot.evals.datasets import load_dataset
from scopebot.evals.runner import ItemResult
from scopebot.evals.suites.routing import (
    confusion,
    confusion_markdown,
    hint_following_model,
    per_label,
    run_routing,
)
from scopebot.index.embeddings import HashEmbedder
from scopebot.llm.scripted import ScriptedModel

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "evals" / "datasets"


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(HashEmbedder())


@pytest.mark.parametrize(("text", "label"), [
    ("Why does my widefield image look blurry compared to confocal?", "question"),
    ("What is the difference between Otsu and triangle thresholding?", "question"),
    ("Write a Python script that labels nuclei and prints their areas", "code"),
    ("Could you give me an ImageJ macro to batch convert my TIFF files", "code"),
    ("Is there a napari plugin for annotating cells?", "tool"),
    ("Which software would you recommend for cell tracking in 3D?", "tool"),
    ("Has anyone on image.sc managed to open Leica LIF files in Python?", "forum"),
    ("hi!", "chitchat"),
    ("What can you do?", "chitchat"),
    ("Who is going to win the football world cup?", "out_of_scope"),
    ("Can you write me a birthday poem for my aunt?", "out_of_scope"),
])
def test_every_route_with_the_in_process_model(router: Router, text: str, label: str) -> None:
    route = router.route(text)
    assert route.label == label, route.reasons
    assert 0.0 < route.confidence <= 1.0 and route.reasons[0].startswith("classifier")
    assert abs(sum(route.scores.values()) - 1.0) < 1e-3


def test_image_flag_is_a_feature_that_moves_analysis_to_code(router: Router) -> None:
    with_image = router.route("how many nuclei are there", has_image=True)
    without = router.route("how many nuclei are there")
    assert with_image.label == "code", with_image.reasons
    assert with_image.scores["code"] > without.scores["code"]


def test_forced_route_overrides_and_unknown_route_is_rejected(router: Router) -> None:
    route = router.route("hello", force="tool")
    assert (route.label, route.confidence, route.forced) == ("tool", 1.0, True)
    with pytest.raises(ConfigurationError):
        router.route("hello", force="poems")


@pytest.mark.parametrize(("previous", "text", "expected"), [
    ("tool", "and in 3D?", "tool"),
    ("code", "now measure their area", "code"),
    ("question", "and why is that?", "question"),
    ("question", "write python code for it", "code"),
])
def test_follow_ups_use_the_previous_route(router: Router, previous: str, text: str, expected: str) -> None:
    ctx = RouteContext(history=[("earlier turn about nuclei segmentation", previous)],
                       has_code_result=previous == "code")
    route = router.route(text, ctx)
    assert route.label == expected, route.reasons
    assert route.inherited == (expected == previous)


# -- decision rules (pure) -------------------------------------------------------------------------
def _probs(**kw: float) -> dict[str, float]:
    base = dict.fromkeys(ROUTES, 0.0)
    base.update(kw)
    return base


def test_question_and_tool_close_serves_both() -> None:
    label, also, why = decide(_probs(question=0.55, tool=0.4, code=0.05), "segment nuclei in 3D")
    assert (label, also) == ("question", ["tool"]) and "tool cards" in why[0]
    assert decide(_probs(tool=0.9, question=0.1), "which plugin stitches tiles")[:2] == ("tool", [])


def test_image_and_quantity_goes_to_code() -> None:
    probs = _probs(question=0.7, code=0.25, tool=0.05)
    assert decide(probs, "what percentage of the cells are positive?", has_image=True)[:2] == ("code", ["question"])
    assert decide(probs, "what percentage of the cells are positive?", has_image=False)[0] == "question"
    assert decide(probs, "what is a point spread function?", has_image=True)[0] == "question"


def test_unsure_out_of_scope_naming_a_method_is_answered_not_refused() -> None:
    text = "practical difference between a rule-based pipeline and a foundation model"
    assert decide(_probs(out_of_scope=0.6, question=0.4), text)[:2] == ("question", ["out_of_scope"])
    assert decide(_probs(out_of_scope=0.95, question=0.05), text)[0] == "out_of_scope"
    assert decide(_probs(out_of_scope=0.6, chitchat=0.4), "plan a trip to Lisbon")[0] == "out_of_scope"


def test_cue_helpers() -> None:
    assert domain_hits("segment nuclei in a confocal z-stack") >= 3
    assert domain_hits("what is the capital of Peru") == 0
    assert is_follow_up("and in 3D?") and is_follow_up("now measure their area")
    assert asks_quantity("what percentage of nuclei are positive") and not asks_quantity("hello there")
    assert names_method("which weight file does apply.py use?") and not names_method("plan a trip to Lisbon")
    scores, reasons = cue_scores("write a script to count spots")
    assert scores["code"] > 0.8 and any("code" in r for r in reasons)


def test_cue_features_layout_and_context() -> None:
    vec = cue_features("and in 3D?", has_image=True, last_route="tool")
    assert vec.shape == (len(CUE_NAMES),)
    named = dict(zip(CUE_NAMES, vec, strict=True))
    assert named["image"] == 1.0 and named["prev:tool"] == 1.0 and named["prev_x_follow:tool"] == 1.0
    assert named["prev:none"] == 0.0 and cue_features("hello")[CUE_NAMES.index("prev:none")] == 1.0


# -- classifier ------------------------------------------------------------------------------------
def _blobs(n: int = 90) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.arange(n) % 3
    x = rng.normal(0, 1, (n, 5)).astype(np.float32) + np.eye(3, 5, dtype=np.float32)[y] * 3
    return x, y


@pytest.mark.parametrize("hidden", [0, 8])
def test_classifier_fits_calibrates_and_round_trips(tmp_path: Path, hidden: int) -> None:
    x, y = _blobs()
    model = RouteClassifier.fit(x, y, ["a", "b", "c"], hidden=hidden, epochs=200, lr=0.05, meta={"version": "t"})
    assert (model.predict_proba(x).argmax(1) == y).mean() > 0.9
    t = model.calibrate(x, y)
    assert 0.25 <= t <= 8.0
    model.save(tmp_path / "m.npz")
    again = RouteClassifier.load(tmp_path / "m.npz")
    assert np.allclose(again.predict_proba(x), model.predict_proba(x), atol=1e-5)
    assert again.meta["version"] == "t" and again.temperature == pytest.approx(t)


def test_corrupt_or_missing_model_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(ConfigurationError):
        RouteClassifier.load(bad)
    with pytest.raises(ConfigurationError):
        Router(HashEmbedder(), model_path=tmp_path / "missing.npz").classifier  # noqa: B018


# -- data and the shipped model ---------------------------------------------------------------------
def test_templates_expand_reproducibly_and_split_by_template() -> None:
    data = load_templates()
    a, b = expand(data), expand(data)
    assert [t.text for t in a] == [t.text for t in b]
    assign_splits(a)
    where: dict[str, set[str]] = {}
    for t in a:
        where.setdefault(t.template, set()).add(t.split)
    assert all(len(s) == 1 for s in where.values())
    for label in ROUTES:
        splits = {t.split for t in a if t.label == label}
        assert splits == {"train", "calib", "test"}, label
        assert sum(1 for t in a if t.label == label) >= 100, label


def test_bad_templates_are_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text(yaml.safe_dump({"slots": {}, "families": [{"id": "x", "label": "poetry", "templates": ["{nope}"]}]}))
    with pytest.raises(ConfigurationError):
        load_templates(bad)


def test_shipped_model_matches_the_features_and_its_card() -> None:
    model = RouteClassifier.load(MODEL_PATH)
    card = json.loads(CARD_PATH.read_text())
    assert model.meta["feature_version"] == FEATURE_VERSION and model.meta["cue_features"] == list(CUE_NAMES)
    assert model.meta["version"] == card["version"] and model.meta["data_sha256"] == card["data_sha256"]
    assert "minilm" in model.meta["embedder"].lower() and model.labels == list(ROUTES)
    assert card["test_nearest_train_similarity"]["max"] < NEAR_DUP and card["test_accuracy"] >= 0.9


def test_no_eval_turn_is_copied_into_the_training_set() -> None:
    rows = [json.loads(line) for line in TRAINSET_PATH.read_text().splitlines() if line.strip()]
    train = {r["text"].strip().lower() for r in rows if r["split"] == "train"}
    for name in ("routing_v1", "routing_holdout_v1", "routing_elsewhere_v1", "routing_issue17_v1"):
        texts = {it.text.strip().lower() for it in load_dataset(DATASETS / f"{name}.yaml", "routing").items}
        if name in ("routing_elsewhere_v1", "routing_issue17_v1"):
            assert not texts & train, name
        else:  # only generic turns of up to four words ("who are you?") coincide; `--dedupe` drops them
            assert all(len(t.split()) <= 4 for t in texts & train), texts & train
    assert all(r["nearest_train_similarity"] < NEAR_DUP for r in rows if r["split"] == "test")


def test_nearest_similarity() -> None:
    ref = np.eye(3, dtype=np.float32)
    sims, idx = nearest_similarity(np.array([[0, 1, 0], [0.6, 0.8, 0]], np.float32), ref)
    assert list(idx) == [1, 1] and sims[0] == pytest.approx(1.0) and sims[1] == pytest.approx(0.8)


def test_shipped_examples_load_and_bad_files_are_rejected(tmp_path: Path) -> None:
    assert EXAMPLES_PATH.is_file() and {e.label for e in load_examples()} == set(ROUTES)
    bad = tmp_path / "ex.yaml"
    bad.write_text(yaml.safe_dump({"examples": {"poetry": ["a poem"]}}), encoding="utf-8")
    with pytest.raises(ConfigurationError):
        load_examples(bad)
    with pytest.raises(ConfigurationError):
        Router(HashEmbedder(), [])


def test_context_from_eval_history() -> None:
    ctx = context_from_history([{"user": "count the cells", "route": "code"}])
    assert ctx.last_route == "code" and ctx.has_code_result


def test_follow_up_resolution_helpers() -> None:
    assert parse_dims("and in 3D?") == "3d" and parse_dims("for single planes") == "2d" and parse_dims("ok") is None
    assert parse_interface("something without coding") == "gui" and parse_interface("a python library") == "code"
    assert extra_words("what about for EM?") == "EM"
    last = ToolRequest("segment nuclei", "any", "2d")
    assert resolve_tool_request("and in 3D?", last, follow_up=True) == ToolRequest("segment nuclei", "any", "3d")


# -- the agent: both routes, the tool-loop hint ----------------------------------------------------
class _FixedRouter:
    def __init__(self, route: Route) -> None:
        self.fixed = route

    def route(self, text: str, context: Any = None, *, force: str | None = None, has_image: bool = False) -> Route:
        return Route(label=force, confidence=1.0, forced=True) if force else self.fixed  # type: ignore[arg-type]


def test_unsure_question_and_tool_gives_an_answer_and_tool_cards() -> None:
    route = Route(label="question", confidence=0.55, also=["tool"])
    assistant, fakes = make_assistant(router=_FixedRouter(route))
    result = assistant.turn("segment nuclei in 3D without code")
    assert result.kind == "answer" and result.also == ["tool"]
    assert fakes["answerer"].calls and fakes["recommender"].calls
    assert "StitchTool" in result.markdown and result.extras["tools"].results[0].name == "StitchTool"
    assert "tools" in result.model_dump(mode="json")["extras"]
    forced = assistant.turn("segment nuclei in 3D without code", force_route="question")
    assert forced.extras == {} and len(fakes["recommender"].calls) == 1


def test_tool_first_when_close_also_answers() -> None:
    assistant, fakes = make_assistant(router=_FixedRouter(Route(label="tool", confidence=0.6, also=["question"])))
    result = assistant.turn("stitch tiles")
    assert result.kind == "tools" and "answer" in result.extras and fakes["answerer"].calls


def test_tool_loop_gets_the_router_verdict_as_a_hint() -> None:
    model = ScriptedModel(["The PSF is the image of a point."])
    ToolLoop(model, hint=route_hint("tool", 0.7, ["question"])).run("which plugin stitches tiles?")
    system = [m.content for m in model.calls[0].messages if m.role == "system"]
    assert any("Routing hint" in s and "recommend_tools" in s and "search_knowledge" in s for s in system)


# -- eval helpers ----------------------------------------------------------------------------------
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


def test_run_routing_scores_both_paths(tmp_path: Path, router: Router) -> None:
    data = {"name": "routing-mini", "version": 1, "items": [
        {"id": "a", "text": "Which plugin can register EM sections?", "label": "tool"},
        {"id": "b", "text": "hello!", "label": "chitchat"},
        {"id": "c", "text": "how many cells are in here?", "label": "code", "image": True},
        {"id": "d", "text": "and in 3D?", "label": "tool",
         "history": [{"user": "which tool segments nuclei?", "route": "tool"}]},
    ]}
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    items = load_dataset(path, "routing").items
    results, metrics, matrix, _ = run_routing(items, router, tmp_path / "out", loop_model=hint_following_model())
    assert metrics["accuracy"] == 1.0 and metrics["follow_up_accuracy"] == 1.0, [r.outputs for r in results]
    assert metrics["served_accuracy"] == 1.0 and metrics["tool_loop_accuracy"] == 1.0
    assert matrix["tool"]["tool"] == 2 and results[3].outputs["inherited"] is True
    assert results[2].inputs["image"] is True and results[0].outputs["tool_loop_route"] == "tool"


def test_small_router_with_extra_examples_still_routes() -> None:
    assert small_router().route("which plugin can stitch tiles").label == "tool"


def test_ui_shows_tool_cards_beside_an_unsure_answer(tmp_path: Path) -> None:
    from scopebot.settings import Settings
    from scopebot.ui.demo import DemoServices
    from scopebot.ui.history import FeedbackStore
    from scopebot.ui.services import SessionSettings
    from scopebot.ui.session import ChatSession

    assistant, _ = make_assistant(router=_FixedRouter(Route(label="question", confidence=0.55, also=["tool"])))

    class Services(DemoServices):
        def make_assistant(self, settings: Any) -> Any:
            return assistant

    settings = Settings(home=tmp_path / "home")
    session = ChatSession(Services(settings), FeedbackStore(settings.feedback_path), SessionSettings(),
                          stream_interval_s=0.0)
    final = list(session.ask("segment nuclei in 3D without code"))[-1]
    assert final.tab == "sources" and "sb-card" in final.tools and "StitchTool" in final.chat[-1]["content"]


def test_hint_following_double_calls_the_first_hinted_tool() -> None:
    from scopebot.evals.suites.routing import first_tool_route

    item = load_dataset(DATASETS / "routing_issue17_v1.yaml", "routing").items[0]
    model = hint_following_model()
    assert first_tool_route(model, item, Route(label="tool", confidence=0.6, also=["question"])) == "tool"
    assert first_tool_route(model, item, Route(label="question", confidence=0.6, also=["tool"])) == "question"
    assert first_tool_route(model, item, Route(label="chitchat", confidence=0.9)) == "chitchat"
    assert len(model.calls) == 2  # chit-chat never reaches the model


def test_expected_calibration_error() -> None:
    from scopebot.agent.train_router import expected_calibration_error

    y = np.array([0, 1, 0, 1])
    sure_right = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(sure_right, y) == pytest.approx(0.0)
    half_wrong = np.array([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]])  # 90 % sure, 50 % right
    assert expected_calibration_error(half_wrong, y) == pytest.approx(0.4)


def test_a_message_that_sets_a_scene_is_routed_on_what_it_asks(router: Router) -> None:
    """Conversational messages (context sentences, then the question) were sent to tool lists or code
    because of the scene's words; the route is now the asking sentence's."""
    asked = "What does overfitting mean when training a segmentation network?"
    message = "Our lab images fixed HeLa cells on a widefield scope with a new camera. " + asked
    told, plain = router.route(message), router.route(asked)
    assert told.label == plain.label and told.scores == plain.scores
    assert any("routed on what is asked" in r for r in told.reasons)
    assert not any("routed on what is asked" in r for r in plain.reasons)
