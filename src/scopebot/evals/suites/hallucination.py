"""``scopebot eval hallucination``: precision and recall of each hallucination check.

The dataset (``evals/datasets/hallucination_v2.yaml``: v1 plus realistic meaning errors) holds
adversarial answers — invented citation keys, invented tools and functions, unsupported sentences
(polarity flips, swapped tools, wrong numbers, subject drift), answers obeying instructions hidden in
a passage — and clean answers that must not be flagged. ``hallucination_holdout_v1.yaml`` is a
held-out set of the same kind, never tuned on. Each check runs alone on (answer, context
passages), exactly as the agent runs it on any answer, and its verdict is compared with the label.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from scopebot.clitools import error_boundary, get_settings
from scopebot.errors import ConfigurationError
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
from scopebot.evals.runner import ItemResult, Runner, new_report

CHECKS = ("invalid_citation", "unsupported", "invented_entity", "injection_passage", "injection_followed")
_PLACEHOLDER = re.compile(r"\{([a-z0-9_-]+)\}")


class HalPassage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = "book"
    title: str
    section: str = ""
    text: str


class HalItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    question: str = ""
    passages: list[str] = Field(min_length=1)
    answer: str
    labels: dict[str, bool] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_labels(self) -> HalItem:
        unknown = set(self.labels) - set(CHECKS)
        if unknown:
            raise ValueError(f"unknown label(s) {sorted(unknown)}; use {', '.join(CHECKS)}")
        return self


class HalDataset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: str
    description: str = ""
    catalog: list[str] = Field(default_factory=list)
    passages: dict[str, HalPassage]
    items: list[HalItem]

    def key(self, name: str) -> str:
        from scopebot.citations import make_key

        p = self.passages[name]
        return make_key(p.kind, name, p.text)


def load_hallucination_dataset(path: Path) -> HalDataset:
    """Load and validate the dataset; every passage an item names must exist."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        ds = HalDataset.model_validate({**data, "version": str(data.get("version", "0"))})
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigurationError(f"Invalid hallucination dataset {path}: {exc}",
                                 hint="see evals/datasets/hallucination_v1.yaml for the format") from exc
    for item in ds.items:
        names = set(item.passages) | set(_PLACEHOLDER.findall(item.answer))
        missing = sorted(names - set(ds.passages))
        if missing:
            raise ConfigurationError(f"{path}: item {item.id} names unknown passage(s) {missing}",
                                     hint="define them under passages:")
    return ds


def run_checks(ds: HalDataset, item: HalItem, embedder: Any = None, threshold: float = 0.5) -> dict[str, bool]:
    """Run every check alone on the item's answer and context; True = the check flags a problem."""
    from scopebot.answer.citations_check import check_citations
    from scopebot.answer.entities import EntityChecker
    from scopebot.answer.injection import find_instructions, followed_instructions, remove_instructions
    from scopebot.answer.support import SupportScorer, check_sentences
    from scopebot.answer.text import clean_markdown, split_sentences

    answer = _PLACEHOLDER.sub(lambda m: f"[{ds.key(m.group(1))}]", item.answer.strip())
    raw = {ds.key(n): ds.passages[n].text for n in item.passages}
    context = {k: remove_instructions(clean_markdown(t))[0] for k, t in raw.items()}
    instructions = [i for t in raw.values() for i in find_instructions(t)]
    cited = check_citations(answer, context)
    sentences = check_sentences(cited.text, context, SupportScorer(embedder, threshold))
    entities = EntityChecker(ds.catalog).check(cited.text, [f"{ds.passages[n].title} {ds.passages[n].text}"
                                                            for n in item.passages])
    return {"invalid_citation": cited.invalid_count > 0,
            "unsupported": any(not s.supported for s in sentences),
            "invented_entity": bool(entities.unknown),
            "injection_passage": bool(instructions),
            "injection_followed": bool(followed_instructions(split_sentences(cited.text), instructions))}


def score_item(ds: HalDataset, item: HalItem, embedder: Any = None, threshold: float = 0.5) -> ItemResult:
    t0 = time.perf_counter()
    flags = run_checks(ds, item, embedder, threshold)
    metrics: dict[str, float] = {}
    for check in CHECKS:
        truth, flagged = item.labels.get(check, False), flags[check]
        metrics[f"tp[{check}]"] = float(truth and flagged)
        metrics[f"fp[{check}]"] = float(flagged and not truth)
        metrics[f"fn[{check}]"] = float(truth and not flagged)
    clean = not any(item.labels.values())
    return ItemResult(id=item.id, inputs={"question": item.question, "labels": item.labels, "clean": clean},
                      outputs={"flags": flags}, metrics=metrics,
                      passed=all(flags[c] == item.labels.get(c, False) for c in CHECKS),
                      seconds=round(time.perf_counter() - t0, 4))


def summarise(results: list[ItemResult]) -> dict[str, float]:
    """Precision, recall and F1 per check, and the false-alarm rate on clean answers."""
    out: dict[str, float] = {}
    for check in CHECKS:
        tp = sum(r.metrics.get(f"tp[{check}]", 0) for r in results)
        fp = sum(r.metrics.get(f"fp[{check}]", 0) for r in results)
        fn = sum(r.metrics.get(f"fn[{check}]", 0) for r in results)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        out[f"precision[{check}]"] = round(precision, 4)
        out[f"recall[{check}]"] = round(recall, 4)
        out[f"f1[{check}]"] = round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0
    clean = [r for r in results if r.inputs.get("clean")]
    if clean:
        out["clean_not_flagged"] = round(sum(1 for r in clean if not any(r.outputs["flags"].values())) / len(clean), 4)
    out["items"] = float(len(results))
    out["exact"] = round(sum(1 for r in results if r.passed) / max(1, len(results)), 4)
    return out


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("hallucination")
    def hallucination(dataset: DatasetOpt = None, limit: LimitOpt = None, out: OutOpt = None,
                      min_: MinOpt = None, quiet: QuietOpt = False, resume: ResumeOpt = False,
                      embedder: Annotated[str, typer.Option(
                          help="Embedder for support scores: 'settings' (the configured one), 'hash' or 'none'.")]
                      = "settings") -> None:
        """Detection precision/recall of each hallucination check on adversarial answers."""
        from scopebot.index.embeddings import HashEmbedder, make_embedder

        settings = get_settings()
        with error_boundary():
            ds = load_hallucination_dataset(dataset_path(dataset, "hallucination_v2.yaml"))
            items = ds.items[:limit] if limit else ds.items
            emb = {"none": None, "hash": HashEmbedder()}.get(embedder) if embedder != "settings" \
                else make_embedder(settings)
            target = out_dir(out, settings.home, "hallucination")
            results, secs = Runner(target, progress=not quiet, resume=resume).run(
                "hallucination", items, lambda it: score_item(ds, it, emb, settings.support_threshold))
            report = new_report("hallucination", dataset=ds.name, dataset_version=ds.version,
                                backend=getattr(emb, "name", "lexical only"), seconds=round(secs, 2),
                                config={"support_threshold": settings.support_threshold, "embedder": embedder})
            report.items = results
            report.metrics = summarise(results)
        finish(report, target, min_)
