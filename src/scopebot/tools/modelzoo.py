"""The BioImage Model Zoo catalog file: offline validation with ``bioimageio.spec`` and run options.

The catalog snapshot (``bioimage-model-zoo/bmz-catalog-<date>.json``) holds each resource's
description without the bulky parts (inputs/outputs/weights and test logs). We:

* validate every entry with ``bioimageio.spec.build_description`` under a
  ``ValidationContext(perform_io_checks=False)`` so nothing is downloaded. Errors that only say that
  a field the snapshot leaves out is missing are not held against the entry (the validation is then
  "valid" with ``validation_scope="metadata"``); any other error, or a collection status "failed",
  makes it "invalid: <reason>". Invalid entries stay listed and are marked.
* read the model's inputs (axes, test inputs) when the full description is present, otherwise the
  modality and dimensionality its tags state and its cover images;
* list how to run it: the partner tools whose compatibility score is high, and bioimageio.core.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from scopebot.errors import SourceError
from scopebot.tools.models import ModelInputs, ToolRecord

CATALOG_GLOB = "bmz-catalog-*.json"
#: Fields the catalog snapshot drops; a "missing" error about them says nothing about the entry.
SNAPSHOT_DROPPED = frozenset({"inputs", "outputs", "weights", "test_inputs", "test_outputs", "source",
                              "sample_inputs", "sample_outputs", "timestamp"})
RUNNERS = {
    "bioimageio.core": "bioimageio.core (Python: bioimageio predict / bioimageio.core.predict)",
    "deepimagej": "deepImageJ (Fiji plugin, no code)",
    "ilastik": "ilastik (Neural Network Classification workflow, no code)",
    "biapy": "BiaPy (Python / notebooks)",
    "careamics": "CAREamics (Python, napari)",
}
_LINK_RUNNERS = {"deepimagej": "deepimagej", "ilastik": "ilastik", "biapy": "biapy", "careamics": "careamics",
                 "zero": "ZeroCostDL4Mic (Colab notebooks)", "imjoy": "ImJoy (web)"}
MODALITY_TAGS = {"fluorescence": "fluorescence", "electron": "electron-microscopy", "brightfield": "brightfield",
                 "bright-field": "brightfield", "phase-contrast": "brightfield", "histolog": "histology",
                 "light-sheet": "light-sheet", "confocal": "fluorescence", "super-resolution": "super-resolution"}


def bioimageio_url(resource_id: str) -> str:
    """The resource's page on bioimage.io."""
    return f"https://bioimage.io/#/?id={resource_id}"


class ModelZooCatalog:
    """Raw Model Zoo entries by id and by name, with cached offline validation."""

    def __init__(self, entries: Iterable[dict[str, Any]], *, validate: bool = True) -> None:
        self.entries: list[dict[str, Any]] = [e for e in entries if isinstance(e, dict)]
        self.validate_entries = validate
        self._by_id = {str(e["id"]): e for e in self.entries if e.get("id")}
        self._by_name = {str(e["name"]).strip().lower(): e for e in self.entries if e.get("name")}
        self._validation: dict[int, tuple[str, str, Any]] = {}
        #: Results of :meth:`checked_table` computed earlier (e.g. kept beside the index build).
        self._checked: dict[str, dict[str, Any]] = {}
        #: Changes whenever the entries change (part of the key of a stored :meth:`checked_table`).
        self.fingerprint = hashlib.sha256(json.dumps(self.entries, sort_keys=True, default=str)
                                          .encode()).hexdigest()[:10]

    @classmethod
    def load(cls, path: str | Path, *, validate: bool = True) -> ModelZooCatalog:
        """Load a catalog file (or the newest ``bmz-catalog-*.json`` in a directory)."""
        path = Path(path)
        if path.is_dir():
            found = sorted(path.glob(CATALOG_GLOB))
            if not found:
                raise SourceError("No Model Zoo catalog file found", source_id="bioimage-model-zoo",
                                  path=str(path), hint="check Settings.sources_dir/bioimage-model-zoo")
            path = found[-1]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SourceError(f"Cannot read the Model Zoo catalog: {exc}", source_id="bioimage-model-zoo",
                              path=str(path), hint="restore the file from the knowledge-sources copy") from exc
        items = data.get("items", data) if isinstance(data, dict) else data
        return cls(items if isinstance(items, list) else [], validate=validate)

    @classmethod
    def from_sources_dir(cls, sources_dir: str | Path, *, validate: bool = True) -> ModelZooCatalog | None:
        """The catalog under ``sources_dir/bioimage-model-zoo``, or None when it is absent."""
        folder = Path(sources_dir) / "bioimage-model-zoo"
        if not folder.is_dir() or not any(folder.glob(CATALOG_GLOB)):
            return None
        return cls.load(folder, validate=validate)

    def find(self, resource_id: str = "", name: str = "") -> dict[str, Any] | None:
        if resource_id and resource_id in self._by_id:
            return self._by_id[resource_id]
        return self._by_name.get(name.strip().lower()) if name else None

    # ---- validation -------------------------------------------------------------------------------
    def validate(self, entry: dict[str, Any]) -> tuple[str, str, Any]:
        """``(validation, scope, description_or_None)`` for one entry, computed offline and cached."""
        cached = self._validation.get(id(entry))
        if cached is not None:
            return cached
        result = self._validate(entry)
        self._validation[id(entry)] = result
        return result

    def _validate(self, entry: dict[str, Any]) -> tuple[str, str, Any]:
        status = str(entry.get("_status") or entry.get("status") or "")
        content = {k: v for k, v in entry.items() if not k.startswith("_") and v is not None}
        descr: Any = None
        problems: list[str] = []
        scope = "collection status"
        if self.validate_entries:
            try:
                from bioimageio.spec import ValidationContext, build_description
            except ImportError:  # pragma: no cover - bioimageio.spec is a dependency
                problems_scope = "not validated (bioimageio.spec missing)"
                return ("invalid: marked failed by the bioimage.io collection" if status == "failed"
                        else "valid", problems_scope, None)
            ctx = ValidationContext(perform_io_checks=False, disable_cache=True, log_warnings=False)
            try:
                with ctx:
                    built = build_description(content, context=ctx)
            except Exception as exc:  # noqa: BLE001 - a broken entry must not stop the catalog
                problems.append(f"{type(exc).__name__}: {exc}")
                built = None
            dropped_only = True
            if built is not None and type(built).__name__ == "InvalidDescr":
                summary = built.validation_summary
                for detail in summary.details:
                    for err in detail.errors:
                        loc = tuple(str(p) for p in err.loc)
                        if loc and loc[0] in SNAPSHOT_DROPPED and "required" in err.msg.lower():
                            continue
                        dropped_only = False
                        msg = err.msg if len(err.msg) <= 140 else err.msg[:137] + "..."
                        problems.append(f"{'.'.join(loc[:2]) or 'entry'}: {msg}")
                scope = "metadata (the catalog snapshot has no inputs/outputs/weights)" if dropped_only \
                    else "bioimageio.spec"
            elif built is not None:
                descr = built
                scope = "full (bioimageio.spec, no I/O checks)"
        if status == "failed":
            problems.insert(0, "marked failed by the bioimage.io collection")
        if problems:
            return "invalid: " + "; ".join(problems[:3]), scope, descr
        return "valid", scope, descr

    def checked_table(self) -> dict[str, dict[str, Any]]:
        """Validation, scope and inputs of every entry with an id, as JSON (to keep beside the index)."""
        table: dict[str, dict[str, Any]] = {}
        for rid, entry in self._by_id.items():
            validation, scope, descr = self.validate(entry)
            table[rid] = {"validation": validation, "scope": scope,
                          "inputs": model_inputs(entry, descr).model_dump(mode="json")}
        return table

    def use_checked(self, table: dict[str, dict[str, Any]]) -> None:
        """Use a :meth:`checked_table` computed before instead of validating again (seconds per start)."""
        self._checked = dict(table)

    def checks_version(self) -> str:
        """Key of a stored :meth:`checked_table`: this module's code, bioimageio.spec's version, the entries."""
        from importlib.metadata import PackageNotFoundError, version

        from scopebot.index.derived import code_version

        try:
            spec = version("bioimageio.spec").replace("+", "-").lower()
        except PackageNotFoundError:  # pragma: no cover - a dependency
            spec = "none"
        return f"{code_version(ModelZooCatalog)}-{spec}-{self.fingerprint}"[:80]

    # ---- enrichment -------------------------------------------------------------------------------
    def enrich(self, records: Iterable[ToolRecord]) -> None:
        """Fill validation, inputs, run options and links of Model Zoo records in place."""
        for rec in records:
            if not rec.is_model_zoo:
                continue
            entry = self.find(rec.bioimageio_id, rec.name)
            if entry is None:
                if not rec.validation.startswith(("valid", "invalid")):
                    rec.validation = "not validated: not in the offline catalog snapshot (legacy entry)"
                continue
            rid = str(entry.get("id") or rec.bioimageio_id)
            stored = self._checked.get(rid) if self.validate_entries else None
            if stored is not None:
                validation, scope, descr = stored["validation"], stored["scope"], None
            else:
                validation, scope, descr = self.validate(entry)
            rec.validation, rec.validation_scope = validation, scope
            rec.status = rec.status or str(entry.get("_status") or "")
            if rid:
                rec.bioimageio_id = rid
                rec.links["bioimage.io"] = rec.links.get("bioimage.io") or bioimageio_url(rid)
            rec.license = rec.license or str(entry.get("license") or "")
            for tag in entry.get("tags") or []:
                if isinstance(tag, str) and tag.lower() not in rec.tags:
                    rec.tags.append(tag.lower())
            git_repo = entry.get("git_repo")
            if isinstance(git_repo, str) and git_repo.startswith("http"):
                rec.links.setdefault("git_repo", git_repo)
            if rec.kind == "model":
                rec.inputs = (ModelInputs.model_validate(stored["inputs"]) if stored is not None
                              else model_inputs(entry, descr))
                rec.run_with = run_options(entry)
                if rec.inputs.dims:
                    rec.dims = sorted(set(rec.dims) | set(rec.inputs.dims))


def model_inputs(entry: dict[str, Any], descr: Any = None) -> ModelInputs:
    """Inputs of a model: from the validated description when it has them, else tags and covers."""
    tags = [str(t).lower() for t in entry.get("tags") or [] if isinstance(t, str)]
    modality = sorted({m for tag in tags for key, m in MODALITY_TAGS.items() if key in tag})
    dims = sorted({t for t in tags if t in ("2d", "3d")})
    axes: list[str] = []
    tests: list[str] = []
    note = ""
    inputs = getattr(descr, "inputs", None) if descr is not None else None
    if inputs:
        for tensor in inputs:
            raw_axes = getattr(tensor, "axes", "")
            if isinstance(raw_axes, str):
                axes.append(raw_axes)
            else:
                axes.append("".join(str(getattr(a, "id", a))[:1] for a in raw_axes))
            test = getattr(tensor, "test_tensor", None)
            src = getattr(test, "source", None) if test is not None else None
            if src is not None:
                tests.append(str(src))
        for test in getattr(descr, "test_inputs", None) or []:
            tests.append(str(test))
        for a in axes:
            if "z" in a:
                dims = sorted(set(dims) | {"3d"})
            elif "y" in a and "x" in a:
                dims = sorted(set(dims) | {"2d"})
    else:
        raw_inputs = entry.get("inputs")
        if isinstance(raw_inputs, list):
            for tensor in raw_inputs:
                if isinstance(tensor, dict) and isinstance(tensor.get("axes"), str):
                    axes.append(tensor["axes"])
        note = "input axes are not in the offline catalog snapshot; open the bioimage.io page for them"
    if not tests:
        tests = [str(c) for c in entry.get("covers") or [] if isinstance(c, str)]
    return ModelInputs(axes=axes, modality=modality, dims=dims, test_images=tests, note=note)


def run_options(entry: dict[str, Any]) -> list[str]:
    """How to run a model: partner tools with a good compatibility score, then linked tools."""
    scores = (entry.get("_scores") or {}).get("tool_compatibility") or {}
    found: list[str] = []
    for tool, score in sorted(scores.items(), key=lambda kv: -float(kv[1] or 0)):
        if float(score or 0) >= 0.5 and tool in RUNNERS:
            found.append(RUNNERS[tool])
    for link in entry.get("links") or []:
        if not isinstance(link, str):
            continue
        head = link.split("/", 1)[0].lower()
        runner = _LINK_RUNNERS.get(head)
        label = RUNNERS.get(runner, runner) if runner else None
        if label and label not in found and not any(f.startswith(label) for f in found):
            found.append(f"{label} - linked by the authors, not confirmed by the collection's tests")
    if not found:
        found.append(RUNNERS["bioimageio.core"])
    return found
