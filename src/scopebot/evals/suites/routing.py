"""``scopebot eval routing``: accuracy of the turn router on labelled turns (with follow-up history).

Every item is routed with the real router (the learned classifier over the packaged MiniLM embedder
by default) in the context of its ``history`` and with its ``image`` flag. The report gives accuracy
(the route taken), ``served_accuracy`` (the expected route was taken or served beside it when the
router was unsure), per-label precision/recall/F1 and the confusion matrix (``report.json``
``config.confusion`` and ``confusion.md`` beside it).

``--dedupe`` (default) first measures each item's cosine similarity to its nearest training turn and
leaves out items at or above the near-duplicate threshold; the report lists them and the max/mean
nearest similarity of the items kept. ``--tool-loop`` adds the second path of strong backends: the
chat model gets the router's verdict as a hint and the first tool it calls is scored as its route.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from scopebot.agent.models import ROUTES
from scopebot.agent.router import Router, context_from_history
from scopebot.clitools import error_boundary, get_settings
from scopebot.evals.common import (
    DatasetOpt,
    LimitOpt,
    MinOpt,
    OutOpt,
    QuietOpt,
    ResumeOpt,
    dataset_path,
    finish,
    out_dir,
)
from scopebot.evals.runner import ItemResult, Runner, mean_metrics, new_report


def score_item(router: Router, item: Any, loop_model: Any = None) -> ItemResult:
    """Route one item in the context of its history and compare with its label."""
    t0 = time.perf_counter()
    image = bool(getattr(item, "image", False))
    route = router.route(item.text, context_from_history(getattr(item, "history", []) or []), has_image=image)
    secs = time.perf_counter() - t0
    ok = route.label == item.label
    served = ok or item.label in route.also
    outputs: dict[str, Any] = {"route": route.label, "also": list(route.also), "confidence": route.confidence,
                               "inherited": route.inherited, "reasons": route.reasons[:4]}
    metrics = {"accuracy": float(ok), "served_accuracy": float(served)}
    if loop_model is not None:
        choice = first_tool_route(loop_model, item, route)
        outputs["tool_loop_route"] = choice
        metrics["tool_loop_accuracy"] = float(choice == item.label)
    return ItemResult(id=str(item.id), inputs={"text": item.text, "label": item.label, "image": image,
                                               "history": len(getattr(item, "history", []) or [])},
                      outputs=outputs, metrics=metrics, passed=ok, seconds=round(secs, 4))


#: The route a tool-calling model took, read from its first tool call (no call: it answered directly).
TOOL_ROUTES = {"search_knowledge": "question", "recommend_tools": "tool", "write_and_run_code": "code",
               "inspect_image": "code", "search_forum": "forum"}


def first_tool_route(model: Any, item: Any, route: Any) -> str:
    """Ask the tool-calling ``model`` for its first step on ``item`` with the router's hint; map it to a route.

    As in the assistant, chit-chat and out-of-scope verdicts never reach the model (their route stands)."""
    from scopebot.agent.assistant import LOOP_ROUTES
    from scopebot.agent.toolloop import TOOL_SPECS, route_hint
    from scopebot.llm.base import Message

    if route.label not in LOOP_ROUTES:
        return str(route.label)

    image = bool(getattr(item, "image", False))
    note = "The user uploaded an image (cells.tif)." if image else "No image has been uploaded."
    messages = [Message(role="system", content="You are scopebot, an assistant for microscopy and bioimage analysis. "
                        "Use the tools when they help; for greetings or requests outside microscopy reply "
                        f"without tools. {note}"),
                Message(role="system", content=route_hint(route.label, route.confidence, route.also))]
    for h in getattr(item, "history", []) or []:
        messages.append(Message(role="user", content=str(getattr(h, "user", "") or "")))
        messages.append(Message(role="assistant", content="(answered)"))
    messages.append(Message(role="user", content=item.text))
    response = model.complete(messages, tools=TOOL_SPECS)
    if not response.tool_calls:
        return "none"
    return TOOL_ROUTES.get(response.tool_calls[0].name, "none")


def hint_following_model() -> Any:
    """A scripted stand-in for a tool-calling model that calls the first tool the router's hint names. It
    measures that the hint reaches the model and names the right tool, not a real model's choices."""
    from scopebot.llm.base import ChatResponse, ToolCall
    from scopebot.llm.scripted import ScriptedModel

    def reply(messages: Any, tools: Any) -> ChatResponse:
        hint = next((m.content for m in messages if m.role == "system" and "Routing hint" in m.content), "")
        named = sorted((hint.find(name), name) for name in TOOL_ROUTES if name in hint)
        if named:
            return ChatResponse(text="", tool_calls=[ToolCall(id="c1", name=named[0][1], arguments={})])
        return ChatResponse(text="(direct reply)", finish_reason="stop")

    return ScriptedModel(reply, name="scripted-hint-follower")


def near_duplicates(items: Sequence[Any], embedder: Any, threshold: float) -> tuple[list[Any], list[dict[str, Any]],
                                                                                     dict[str, float]]:
    """Items kept (nearest training-turn similarity below ``threshold``), those left out, and similarity stats."""
    from scopebot.agent.route_data import nearest_similarity
    from scopebot.agent.train_router import training_texts

    train = training_texts()
    sims, idx = nearest_similarity(embedder.embed([it.text for it in items]), embedder.embed(train))
    kept = [it for it, s in zip(items, sims, strict=True) if s < threshold]
    dropped = [{"id": str(it.id), "text": it.text, "similarity": round(float(s), 4), "nearest": train[int(j)]}
               for it, s, j in zip(items, sims, idx, strict=True) if s >= threshold]
    kept_sims = np.array([s for s in sims if s < threshold]) if kept else np.zeros(1)
    stats = {"near_dup_threshold": threshold, "items_left_out": len(dropped),
             "nearest_train_similarity_max": round(float(kept_sims.max()), 4),
             "nearest_train_similarity_mean": round(float(kept_sims.mean()), 4)}
    return kept, dropped, stats


def confusion(results: Sequence[ItemResult]) -> dict[str, dict[str, int]]:
    """``matrix[expected][predicted]`` counts over the routes."""
    matrix = {e: dict.fromkeys(ROUTES, 0) for e in ROUTES}
    for r in results:
        expected, predicted = r.inputs.get("label"), r.outputs.get("route")
        if expected in matrix and predicted in matrix[expected]:
            matrix[expected][predicted] += 1
    return matrix


def per_label(matrix: dict[str, dict[str, int]]) -> dict[str, float]:
    """Precision, recall and F1 of each route that occurs in the data or the predictions."""
    out: dict[str, float] = {}
    for label in ROUTES:
        tp = matrix[label][label]
        support = sum(matrix[label].values())
        predicted = sum(matrix[e][label] for e in ROUTES)
        if not support and not predicted:
            continue
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        out[f"precision:{label}"] = round(p, 4)
        out[f"recall:{label}"] = round(r, 4)
        out[f"f1:{label}"] = round(2 * p * r / (p + r), 4) if p + r else 0.0
    return out


def confusion_markdown(matrix: dict[str, dict[str, int]]) -> str:
    """The confusion matrix as a markdown table (rows: expected, columns: predicted)."""
    lines = ["| expected \\ predicted | " + " | ".join(ROUTES) + " |",
             "|---|" + "---|" * len(ROUTES)]
    lines += [f"| {e} | " + " | ".join(str(matrix[e][p]) for p in ROUTES) + " |" for e in ROUTES]
    return "\n".join(lines) + "\n"


def run_routing(items: Sequence[Any], router: Router, target: Path, *, progress: bool = False,
                resume: bool = False, loop_model: Any = None,
                ) -> tuple[list[ItemResult], dict[str, float], dict[str, dict[str, int]], float]:
    """Score ``items``; return the results, the metrics, the confusion matrix and the seconds taken."""
    results, secs = Runner(target, progress=progress, resume=resume).run(
        "routing", items, lambda it: score_item(router, it, loop_model))
    matrix = confusion(results)
    metrics = mean_metrics(results, ["accuracy", "served_accuracy"]
                           + (["tool_loop_accuracy"] if loop_model is not None else []))
    metrics.update(per_label(matrix))
    metrics["follow_up_accuracy"] = round(
        sum(r.metrics.get("accuracy", 0.0) for r in results if r.inputs.get("history"))
        / max(1, sum(1 for r in results if r.inputs.get("history"))), 4)
    return results, metrics, matrix, secs


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("routing")
    def routing(dataset: DatasetOpt = None, limit: LimitOpt = None, out: OutOpt = None,
                min_: MinOpt = None, quiet: QuietOpt = False, resume: ResumeOpt = False,
                embedder: Annotated[str | None, typer.Option(
                    help="Embedder for the router: minilm (default), hash, or a model folder.")] = None,
                dedupe: Annotated[bool, typer.Option(
                    "--dedupe/--no-dedupe", help="Leave out items that near-duplicate a training turn.")] = True,
                tool_loop: Annotated[str | None, typer.Option(
                    help="Also score a tool-calling model's first tool choice given the router's hint: "
                         "'scripted' (a hint-following double) or a backend name (openai, gguf).")] = None,
                ) -> None:
        """Route accuracy, per-label precision/recall and the confusion matrix on routing_v1."""
        from scopebot.agent.train_router import NEAR_DUP
        from scopebot.evals.datasets import load_dataset
        from scopebot.index.embeddings import make_embedder

        settings = get_settings(embedding_model=embedder)
        with error_boundary():
            ds = load_dataset(dataset_path(dataset, "routing_v1.yaml"), "routing")
            items = ds.items[:limit] if limit else ds.items
            emb = make_embedder(settings)
            router = Router(emb)
            config: dict[str, Any] = {"embedder": emb.name, "router": router.classifier.meta.get("version"),
                                      "items_total": len(items)}
            if dedupe:
                items, dropped, stats = near_duplicates(items, emb, NEAR_DUP)
                config.update(stats, left_out=dropped)
            loop_model = None
            if tool_loop == "scripted":
                loop_model = hint_following_model()
            elif tool_loop:
                from scopebot.llm import make_chat_model

                loop_model = make_chat_model(get_settings(llm_backend=tool_loop, embedding_model=embedder))
            if loop_model is not None:
                config["tool_loop_model"] = getattr(loop_model, "name", str(tool_loop))
            target = out_dir(out, settings.home, "routing")
            results, metrics, matrix, secs = run_routing(items, router, target, progress=not quiet, resume=resume,
                                                         loop_model=loop_model)
            report = new_report("routing", dataset=ds.name, dataset_version=ds.version,
                                backend=f"learned router + {emb.name}", seconds=round(secs, 2),
                                config={**config, "confusion": matrix})
            report.items = results
            report.metrics = metrics
            target.mkdir(parents=True, exist_ok=True)
            (target / "confusion.md").write_text(confusion_markdown(matrix), encoding="utf-8")
            if not quiet:
                if dedupe:
                    typer.echo(f"left out {stats['items_left_out']} near-duplicate item(s) (similarity >= {NEAR_DUP}); "
                               f"nearest training turn of the rest: max {stats['nearest_train_similarity_max']}, "
                               f"mean {stats['nearest_train_similarity_mean']}")
                typer.echo(confusion_markdown(matrix))
        finish(report, target, min_)
