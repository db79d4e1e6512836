"""Parser for BioImage Model Zoo catalogs (bioimage.io): one Section per model/dataset/application/notebook.

Reads the catalog JSON (``items``: the ``rdf_content`` of each resource plus ``_status``,
``_scores`` and ``_report_path``) and, when the ``legacy`` option names it, the pre-2024
``collection.json`` for resources the new catalog lacks (deduplicated by id, concept DOI,
nickname and name). License ids are checked with ``bioimageio.spec``'s SPDX types when that
package is installed; nothing here touches the network.

Options: ``catalog`` (default ``bmz-catalog-*.json``, newest), ``legacy`` (optional file name),
``base_url`` (default ``https://bioimage.io/#/artifacts``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from scopebot.sources.base import ParseReport, register
from scopebot.sources.models import Section, SourceSpec
from scopebot.sources.parsers.common import author_names
from scopebot.sources.text import clean_inline, normalize_ws, read_text

RESOURCE_TYPES = ("model", "dataset", "application", "notebook")
#: Software that can consume a resource, keyed by the lowercase word that reveals it.
CONSUMERS = {"deepimagej": "deepImageJ", "ilastik": "ilastik", "qupath": "QuPath",
             "bioimageio.core": "bioimageio.core", "stardist": "StarDist", "cellpose": "Cellpose",
             "biapy": "BiaPy", "careamics": "CAREamics", "zerocostdl4mic": "ZeroCostDL4Mic", "icy": "Icy",
             "imjoy": "ImJoy", "fiji": "Fiji", "napari": "napari", "dl4miceverywhere": "DL4MicEverywhere"}
FRAMEWORKS = {"pytorch": "PyTorch", "torchscript": "TorchScript", "tensorflow": "TensorFlow", "keras": "Keras",
              "onnx": "ONNX"}
_NICKNAME_RE = re.compile(r"^[a-z]+(?:-[a-z]+)+$")


@lru_cache(maxsize=256)
def check_license(value: str) -> bool | None:
    """Whether ``value`` is a known SPDX id per bioimageio.spec (None when the package is missing)."""
    try:
        from bioimageio.spec.generic.v0_3 import DeprecatedLicenseId, LicenseId
    except ImportError:  # optional: never required for parsing
        return None
    for kind in (LicenseId, DeprecatedLicenseId):
        try:
            kind(value)
            return True
        except Exception:  # pydantic ValidationError
            continue
    return False


def nickname(item: dict[str, Any]) -> str:
    """The animal nickname (``affable-shark``) from config or the report path, else ""."""
    nick = ((item.get("config") or {}).get("bioimageio") or {}).get("nickname") or item.get("nickname")
    if nick:
        return str(nick)
    parts = str(item.get("_report_path") or "").split("/")
    seg = parts[2] if len(parts) > 2 else ""
    return seg if _NICKNAME_RE.match(seg) else ""


def artifact_id(item: dict[str, Any]) -> str:
    """The id used in bioimage.io URLs: the nickname for DOI-identified resources, else the id."""
    rid = str(item.get("id") or "")
    nick = nickname(item)
    if nick and (not rid or rid.startswith("10.")):
        return nick
    return rid or nick


def validation_of(item: dict[str, Any]) -> str:
    """``passed`` / ``failed: <which scores are zero>`` / ``unknown`` from ``_status`` and ``_scores``."""
    status = str(item.get("_status") or "unknown")
    if status != "failed":
        return status
    scores = item.get("_scores") or {}
    zero = [k.replace("_", " ") for k in ("metadata_format", "core_compatibility", "metadata_completeness")
            if isinstance(scores.get(k), (int, float)) and scores[k] == 0]
    return "failed: " + (", ".join(zero) + " checks scored 0" if zero else "validation did not pass")


def consumers_of(item: dict[str, Any]) -> list[str]:
    """Software that can run/use the resource: tags, links, config and tool-compatibility scores."""
    words = " ".join(str(x).lower() for x in (item.get("tags") or []) + (item.get("links") or []))
    words += " " + json.dumps(item.get("config") or {}).lower()
    found = {label for key, label in CONSUMERS.items() if key in words}
    compat = (item.get("_scores") or {}).get("tool_compatibility") or {} if item.get("type") == "model" else {}
    for tool, score in compat.items():
        if isinstance(score, (int, float)) and score >= 0.5:
            found.add(CONSUMERS.get(tool.lower(), tool))
    return sorted(found)


def resource_section(spec: SourceSpec, item: dict[str, Any], base_url: str, origin: str) -> Section:
    rtype = str(item.get("type"))
    name = normalize_ws(str(item.get("name") or item.get("id")))
    description = normalize_ws(clean_inline(str(item.get("description") or "")))
    tags = [str(t) for t in (item.get("tags") or []) if t is not None]
    lic = str(item.get("license") or "")
    authors = author_names(item.get("authors"))
    links = [str(x) for x in (item.get("links") or [])]
    cite = [" ".join(x for x in (str(c.get("text") or ""), f"(doi:{c['doi']})" if c.get("doi") else
                                 str(c.get("url") or "")) if x).strip()
            for c in (item.get("cite") or []) if isinstance(c, dict)]
    aid = artifact_id(item)
    validation = validation_of(item)
    consumers = consumers_of(item)
    low_tags = {t.lower() for t in tags}
    meta: dict[str, Any] = {
        "name": name, "description": description, "resource_type": rtype, "tags": tags, "license": lic,
        "authors": authors, "links": links, "git_repo": str(item.get("git_repo") or ""),
        "documentation": str(item.get("documentation") or ""), "status": str(item.get("_status") or "unknown"),
        "validation": validation, "bioimageio_id": str(item.get("id") or aid), "nickname": nickname(item),
        "consumers": consumers, "catalog": origin, "tool_type": rtype,
        "citations": [str(c) for c in cite if c],
    }
    if lic:
        meta["license_valid"] = check_license(lic)
    scores = item.get("_scores") or {}
    if isinstance(scores.get("tool_compatibility"), dict):
        meta["tool_compatibility"] = {str(k): float(v) for k, v in scores["tool_compatibility"].items()
                                      if isinstance(v, (int, float))}
    if rtype == "model":
        meta["dimensionality"] = sorted(d for d in ("2d", "3d") if d in low_tags)
        meta["frameworks"] = sorted(label for key, label in FRAMEWORKS.items() if key in low_tags)
        meta["format_version"] = str(item.get("format_version") or "")
        training = item.get("training_data")
        meta["training_data"] = str(training.get("id", "")) if isinstance(training, dict) else ""
    lines = [f"{name} ({rtype} in the BioImage Model Zoo)" + (f": {description}" if description else ".")]
    if tags:
        lines.append("Tags: " + ", ".join(tags) + ".")
    if consumers:
        lines.append("Can be used with: " + ", ".join(consumers) + ".")
    if rtype == "model" and (meta["dimensionality"] or meta["frameworks"]):
        lines.append("Model: " + ", ".join(d.upper() for d in meta["dimensionality"]) +
                     (" " if meta["dimensionality"] and meta["frameworks"] else "") +
                     ", ".join(meta["frameworks"]) + ".")
    if lic:
        lines.append(f"License: {lic}.")
    if authors:
        lines.append("Authors: " + ", ".join(authors) + ".")
    if meta["citations"]:
        lines.append("Cite: " + " | ".join(meta["citations"]))
    lines.append(f"Validation: {validation}.")
    return Section(source_id=spec.id, kind=spec.kind, doc_title=name, path=[name], anchor="",
                   url=f"{base_url.rstrip('/')}/{aid}", text="\n".join(lines), metadata=meta)


def _load_json(path: Path, report: ParseReport) -> Any:
    try:
        data = json.loads(read_text(path))
    except OSError as exc:
        report.problem(f"cannot read catalog: {exc}", path=path)
        return None
    except json.JSONDecodeError as exc:
        report.problem(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno)
        return None
    report.files_read += 1
    return data


def _report_version(item: Any) -> int:
    m = re.search(r"/v(\d+)/", str(item.get("_report_path", ""))) if isinstance(item, dict) else None
    return int(m.group(1)) if m else -1


def _latest_versions(items: list[Any]) -> list[Any]:
    """Items with one entry per resource id: the one from the newest report version, in first-seen order."""
    best: dict[str, int] = {}
    for n, item in enumerate(items):
        rid = str(item.get("id") or "") if isinstance(item, dict) else ""
        if rid and (rid not in best or _report_version(item) > _report_version(items[best[rid]])):
            best[rid] = n
    keep = set(best.values())
    return [item for n, item in enumerate(items)
            if n in keep or not (isinstance(item, dict) and item.get("id"))]


def _keys(item: dict[str, Any]) -> set[str]:
    rid = str(item.get("id") or "")
    keys = {rid, "/".join(rid.split("/")[:2]) if rid.startswith("10.") else rid, nickname(item),
            str(item.get("name") or "").strip().lower()}
    return {k for k in keys if k}


@register("bioimage-model-zoo")
def parse_model_zoo(root: Path, spec: SourceSpec, report: ParseReport) -> Iterator[Section]:
    opts = spec.options
    base = str(opts.get("base_url", "https://bioimage.io/#/artifacts"))
    catalog = opts.get("catalog") or (sorted(p.name for p in root.glob("bmz-catalog-*.json")) or [""])[-1]
    seen: set[str] = set()
    sources = [(root / str(catalog), "catalog")] if catalog else []
    if not sources:
        report.problem("no bmz-catalog-*.json found", path=root)
    if opts.get("legacy"):
        sources.append((root / str(opts["legacy"]), "legacy"))
    for path, origin in sources:
        data = _load_json(path, report)
        if data is None:
            continue
        items = data.get("items") if isinstance(data, dict) and "items" in data else \
            data.get("collection") if isinstance(data, dict) else data
        if not isinstance(items, list):
            report.problem("catalog has no 'items' (or legacy 'collection') list", path=path)
            continue
        for n, item in enumerate(_latest_versions(items)):
            where = f"{path.name} item {n}"
            if not isinstance(item, dict) or not (item.get("id") or item.get("name")):
                rp = item.get("_report_path", "") if isinstance(item, dict) else ""
                report.problem(f"empty catalog entry ({where})", path=rp or path,
                               hint="the resource's validation summary has no content; re-run the collection "
                                    "export or ignore it")
                continue
            if item.get("type") not in RESOURCE_TYPES:
                report.problem(f"skipped {item.get('id')!r}: unsupported type {item.get('type')!r}", path=path)
                continue
            keys = _keys(item)
            if origin == "legacy" and keys & seen:
                continue
            seen |= keys
            yield resource_section(spec, item, base, origin)
