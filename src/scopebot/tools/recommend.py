"""Ranking tools for a request: retrieval combined with structured matches.

Every record of the :class:`~scopebot.tools.catalog.ToolCatalog` is scored (a few thousand records at
most), so only tools that are in the index can ever be recommended. The score's parts and their weights
are described in :mod:`scopebot.tools.weights`.

A record *fits* when its score reaches ``floor`` and, if the request names a task, it matches that
task (T > 0), is named, or matches at least half of the request's words. The top ``k`` fitting
records are returned with some variety (Zoo models capped at ``max(2, k-2)`` unless deep learning is
asked for; near-duplicate names/summaries move back). When nothing fits, the recommendation says
so and shows the nearest records.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from scopebot.errors import ConfigurationError
from scopebot.index.protocols import Retriever
from scopebot.tools.catalog import TOOL_KINDS, ToolCatalog, is_open_license, normalise_name
from scopebot.tools.cite import CITATION_KINDS, tool_citations
from scopebot.tools.models import (
    CODE_INTERFACES,
    GUI_INTERFACES,
    Citation,
    Dims,
    Interface,
    ParsedRequest,
    Recommendation,
    ToolRecord,
    ToolResult,
)
from scopebot.tools.query import (
    MODALITY_BY_NAME,
    OBJECT_BY_NAME,
    PATTERNS,
    PLATFORMS,
    TASK_BY_NAME,
    check_arguments,
    normalise_spelling,
    parse_request,
)
from scopebot.tools.weights import RankingWeights

_SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "er", "ed", "es", "ly", "s", "al")
_DATA_WORDS = re.compile(r"\b(?:data ?sets?|training data|ground truth|benchmark)\b", re.IGNORECASE)
#: Prior of records listed only by a curated registry (maintained lists of established tools).
CURATED = {"awesome-bioimage": 0.3}
_DL_RE = re.compile(r"\b(?:deep[- ]learning|neural[- ]net\w*|u-?net|cnn|convolutional|pre-?trained|"
                    r"trained models?|self-supervised|generative)", re.IGNORECASE)



def _match_prefix(word: str) -> str:
    """The prefix a request keyword is searched by in a record's text ("segments" finds "segmentation"). Not a
    stemmer: the one stemmer (:func:`scopebot.answer.text.stem`) maps "nuclei" to "nucleus" and "segments" to
    "seg", which as prefixes would miss "nuclei" and find "segue"."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _interfaces(rec: ToolRecord) -> tuple[bool, bool, bool]:
    """(usable without code, usable from code, known) for a record."""
    if rec.kind == "model":
        gui = any(r.startswith(("deepImageJ", "ilastik")) for r in rec.run_with)
        return gui, True, True
    iface = rec.interface
    if not iface:
        return False, False, False
    gui = iface in GUI_INTERFACES
    code = iface in CODE_INTERFACES or (iface == "plugin" and rec.platform in ("napari", "Python"))
    return gui, code, True


class Recommender:
    """Ranks catalog records for a request; reads citations for them from the book and training."""

    def __init__(self, retriever: Retriever, catalog: ToolCatalog, *, weights: RankingWeights | None = None,
                 candidates: int = 60, name_check: Callable[[str], list[str]] | None = None) -> None:
        #: names in a request that no source, registry or installed package knows (the answer route's
        #: check, :meth:`scopebot.answer.pipeline.AnswerPipeline.retrieve`); None: not checked here
        self.name_check = name_check
        self.retriever = retriever
        self.catalog = catalog
        self.weights = weights or RankingWeights()
        self.candidates = candidates
        self._texts = {rid: normalise_spelling(rec.search_text()) for rid, rec in catalog.records.items()}
        self._name_texts = {rid: normalise_spelling(rec.name) for rid, rec in catalog.records.items()}
        self._names = {rid: normalise_name(rec.name) for rid, rec in catalog.records.items()}
        self._vocab = catalog.vocabulary()
        self._idf_cache: dict[str, float] = {}
        required = catalog.required_by_counts()
        self._mentions: dict[str, list[Any]] | None
        try:
            self._mentions = catalog.mentions(retriever.iter_chunks(CITATION_KINDS))
        except Exception:  # noqa: BLE001 - the prior and the citations are optional
            self._mentions = None
        mentions = self._mentions or {}
        self._prior = {rid: min(1.0, 0.4 * (len(rec.sources) - 1) + CURATED.get(rec.sources[0], 0.0) * (len(rec.sources) == 1)
                                + 0.5 * math.log1p(required.get(rid, 0)) / math.log(30)
                                + 0.5 * math.log1p(len(mentions.get(rid, ()))) / math.log(20))
                       for rid, rec in catalog.records.items()}

    # ---- public -----------------------------------------------------------------------------------
    def recommend(self, request: str, interface: Interface = "any", dims: Dims = "any", k: int = 5,
                  *, with_citations: bool = True) -> Recommendation:
        """Ranked tools for ``request``; raises ConfigurationError for bad arguments or meaningless input.

        The argument checks are :func:`scopebot.tools.query.check_arguments`, one place for every front end.
        """
        check_arguments(request, interface, dims, k)
        unknown = self.name_check(request) if self.name_check is not None else []
        if unknown:  # "the DeepBlobby3D plugin for napari": no card for a tool that may not exist
            return Recommendation(
                query=request, parsed=parse_request(request, interface=interface, dims=dims), nothing_fits=True,
                message=f"The request names {', '.join(repr(n) for n in unknown)}, which none of the sources, "
                        "registries or installed packages mention, so I recommend nothing for it. Check the "
                        "spelling, or describe the task instead (e.g. 'segment nuclei in 3D without coding').")
        parsed = parse_request(request, interface=interface, dims=dims)
        known = [w for w in parsed.keywords if w in self._vocab or _match_prefix(w) in self._vocab]
        if not parsed.understood and not known and not parsed.platforms:
            raise ConfigurationError(
                f"I could not understand the request {request.strip()!r}: none of its words is a known "
                "task, object, modality or word of any tool in the index",
                hint='describe what you want to do with which images, e.g. "track cells in a '
                     'brightfield time-lapse" or "denoise 3D EM volumes"')
        if not len(self.catalog):
            raise ConfigurationError("The index has no tools", hint="run `scopebot ingest` with the BIII, "
                                     "awesome-list and Model Zoo sources enabled")
        retrieval = self._retrieval_scores(parsed)
        scored: list[tuple[float, bool, ToolRecord, dict[str, float], list[str]]] = []
        for rid, rec in self.catalog.records.items():
            parts, why, dropped = self._score(rec, parsed, retrieval.get(rid, 0.0),
                                              strict_interface=interface != "any")
            if dropped:
                continue
            total = sum(parts.values())
            fits = total >= self.weights.floor and (not parsed.tasks or parts["task"] > 0 or parts["name"] > 0
                                                    or parts["lexical"] >= 0.5 * self.weights.lexical)
            scored.append((total, fits, rec, parts, why))
        scored.sort(key=lambda s: (-s[0], s[2].name.lower()))
        fitting = self._select([s for s in scored if s[1]], k, parsed)
        if fitting:
            results = [self._result(rec, total, parts, why, with_citations) for total, _, rec, parts, why in fitting]
            return Recommendation(query=request, parsed=parsed, results=results,
                                  message=f"{len(results)} tool(s) for: {self._summary(parsed)}")
        nearest = [self._result(rec, total, parts, why, False) for total, _, rec, parts, why in scored[:3]]
        constraint = " with the given constraints" if (interface != "any" or dims != "any"
                                                       or parsed.open_source) else ""
        return Recommendation(query=request, parsed=parsed, nothing_fits=True, nearest=nearest,
                              message=f"No tool in the index fits {self._summary(parsed)}{constraint}. "
                                      "The nearest entries are shown, but they may not do what you need.")

    @staticmethod
    def _select(ranked: list[Any], k: int, parsed: ParsedRequest) -> list[Any]:
        """Top ``k`` with some variety: at most ``max(2, k - 2)`` Zoo models unless deep learning was
        asked for, and a record whose name and description opening mostly repeat an already chosen
        one's (token Jaccard >= 0.6, e.g. '2D UNETR for X' after '2D U-Net for X', same summary)
        moves behind the distinct ones. For no-code requests that do not ask for deep learning, Zoo
        models come after the applications within the chosen ``k``."""
        cap = k if parsed.deep_learning else max(2, k - 2)
        out: list[Any] = []
        deferred: list[Any] = []
        chosen_names: list[set[str]] = []
        models = 0
        for entry in ranked:
            if entry[2].kind == "model" and models >= cap:
                continue
            tokens = set(re.findall(r"[a-z0-9]+", f"{entry[2].name} {entry[2].description[:200]}".lower()))
            if any(len(tokens & other) / max(1, len(tokens | other)) >= 0.6 for other in chosen_names):
                deferred.append(entry)
                continue
            models += entry[2].kind == "model"
            chosen_names.append(tokens)
            out.append(entry)
            if len(out) >= k:
                break
        out = (out + deferred)[:k]
        if parsed.interface == "gui" and not parsed.deep_learning:
            # a no-code user is served first by applications they can open; Zoo models need a host
            # (deepImageJ, ilastik), so within the chosen k they follow the tools
            out = [e for e in out if e[2].kind != "model"] + [e for e in out if e[2].kind == "model"]
        return out

    # ---- scoring ----------------------------------------------------------------------------------
    def _retrieval_scores(self, parsed: ParsedRequest) -> dict[str, float]:
        """Best normalised rank of each record among the retriever's tool chunks (two queries)."""
        scores: dict[str, float] = {}
        expansion = " ".join(parsed.operations[:3] + parsed.objects + parsed.topics[:2])
        queries = [parsed.text] + ([f"{parsed.text} {expansion}"] if expansion else [])
        for query in queries:
            try:
                hits = self.retriever.search(query, k=self.candidates, kinds=list(TOOL_KINDS))
            except Exception:  # noqa: BLE001 - ranking still works from the structured matches
                continue
            seen: list[str] = []
            for hit in hits:
                rec = self.catalog.for_chunk(hit.chunk.key)
                if rec is None or rec.id in seen:
                    continue
                seen.append(rec.id)
                value = 1.0 / (1.0 + (len(seen) - 1) / 8.0)
                scores[rec.id] = max(scores.get(rec.id, 0.0), value)
        return scores

    def _idf(self, stem: str) -> float:
        if stem not in self._idf_cache:
            pattern = re.compile(r"\b" + re.escape(stem))
            df = sum(1 for text in self._texts.values() if pattern.search(text))
            self._idf_cache[stem] = math.log((len(self._texts) + 1) / (df + 1)) + 1.0 if df else 0.0
        return self._idf_cache[stem]

    def _score(self, rec: ToolRecord, parsed: ParsedRequest, retrieval: float, *,
               strict_interface: bool) -> tuple[dict[str, float], list[str], bool]:
        w = self.weights
        text = self._texts[rec.id]
        ops = set(rec.edam_operations)
        why: list[str] = []
        parts = dict.fromkeys(("retrieval", "lexical", "name_words", "task", "object", "modality", "dims", "interface",
                               "platform", "open", "deep", "name", "quality", "prior", "invalid",
                               "dataset"), 0.0)
        parts["retrieval"] = w.retrieval * retrieval
        # lexical
        stems = [_match_prefix(word) for word in parsed.keywords]
        total_idf = sum(self._idf(s) for s in stems) or 1.0
        matched = [s for s in stems if re.search(r"\b" + re.escape(s), text)]
        parts["lexical"] = w.lexical * sum(self._idf(s) for s in matched) / total_idf
        name_text = self._name_texts[rec.id]
        in_name = [s for s in matched if re.search(r"\b" + re.escape(s), name_text)]
        parts["name_words"] = w.name_words * sum(self._idf(s) for s in in_name) / total_idf
        # task
        task_scores = []
        for name in parsed.tasks:
            concept = TASK_BY_NAME[name]
            hit_ops = [op for op in concept.edam if op in ops]
            if concept.edam and concept.edam[0] in ops:
                task_scores.append(1.0)
            elif hit_ops:
                task_scores.append(0.8)
            elif PATTERNS[name].search(text) or any(re.search(r"\b" + re.escape(word), text)
                                                    for word in concept.words):
                task_scores.append(0.7)
                hit_ops = [f"'{name}' in description/tags"]
            else:
                task_scores.append(0.0)
            if hit_ops:
                why.append(f"{name}: " + ", ".join(f"EDAM {op}" if not op.startswith("'") else op
                                                   for op in hit_ops[:3]))
        if task_scores:
            parts["task"] = w.task * sum(task_scores) / len(task_scores)
        # object and modality
        obj_hits = [n for n in parsed.objects if PATTERNS[n].search(text)
                    or any(re.search(r"\b" + re.escape(x), text) for x in OBJECT_BY_NAME[n].words)]
        if parsed.objects:
            parts["object"] = w.object * len(obj_hits) / len(parsed.objects)
            if obj_hits:
                why.append("objects: " + ", ".join(obj_hits))
        mod_score = 0.0
        for name in parsed.modalities:
            concept = MODALITY_BY_NAME[name]
            topics = [t for t in concept.edam if t in rec.edam_topics]
            if topics:
                mod_score += 1.0
                why.append(f"modality: EDAM {topics[0]}")
            elif PATTERNS[name].search(text) or any(re.search(r"\b" + re.escape(x), text)
                                                    for x in concept.words):
                mod_score += 0.8
                why.append(f"modality: {name}")
        if parsed.modalities:
            parts["modality"] = w.modality * mod_score / len(parsed.modalities)
        # dims
        if parsed.dims == "3d":
            if "3d" in rec.dims:
                parts["dims"] = w.dims
                why.append("handles 3D")
            elif rec.dims == ["2d"]:
                parts["dims"] = -0.5 * w.dims
        elif parsed.dims == "2d":
            if "2d" in rec.dims:
                parts["dims"] = w.dims * 0.5
            elif rec.dims == ["3d"]:
                parts["dims"] = -0.5 * w.dims
        # interface
        gui, code, known = _interfaces(rec)
        if parsed.interface != "any" and known:
            ok = gui if parsed.interface == "gui" else code
            if not ok and strict_interface:
                return parts, why, True
            parts["interface"] = w.interface * (1.0 if ok else -1.0)
            if ok:
                why.append(f"interface: {rec.interface or 'model'}" + (f" ({rec.platform})" if rec.platform else ""))
        elif parsed.interface != "any" and strict_interface and rec.kind == "dataset":
            return parts, why, True
        # platform
        if parsed.platforms:
            hosts = {rec.platform.lower(), *(r.lower() for r in rec.requires), rec.name.lower()}
            hosts |= {"imagej"} if "fiji" in hosts else set()
            if any(p.lower() in hosts or (p == "Fiji" and "imagej" in hosts) for p in parsed.platforms):
                parts["platform"] = w.platform
                why.append(f"runs in {', '.join(parsed.platforms)}")
        # open source
        if parsed.open_source:
            openness = is_open_license(rec.license)
            if openness is True:
                parts["open"] = w.open
                why.append(f"open licence ({rec.license})")
            elif openness is False:
                parts["open"] = -w.open
        # deep learning
        if parsed.deep_learning:
            if rec.kind == "model":
                parts["deep"] = w.deep
            elif _DL_RE.search(text):
                parts["deep"] = 0.7 * w.deep
        # the tool itself named
        if len(self._names[rec.id]) >= 3 and any(normalise_name(kw) == self._names[rec.id]
                                                  for kw in parsed.keywords):
            # a host named as the place to work ("in Fiji") is not itself the tool asked for
            host = any(PLATFORMS[p].fullmatch(rec.name.strip()) for p in parsed.platforms)
            parts["name"] = w.name * (0.3 if host else 1.0)
            why.insert(0, "named in the request")
        richness = sum([len(rec.description) > 60, bool(rec.edam_operations), bool(rec.links or rec.urls),
                        bool(rec.license)]) / 4
        parts["quality"] = w.quality * richness
        parts["prior"] = w.prior * self._prior.get(rec.id, 0.0)
        if rec.invalid:
            parts["invalid"] = -w.invalid
        if rec.kind == "dataset" and not _DATA_WORDS.search(parsed.text):
            parts["dataset"] = -w.dataset
        words = [word for word, s in zip(parsed.keywords, stems, strict=True) if s in matched]
        if words:
            why.append("description mentions: " + ", ".join(words[:6]))
        return parts, why, False

    # ---- results ----------------------------------------------------------------------------------
    def _result(self, rec: ToolRecord, total: float, parts: dict[str, float], why: list[str],
                with_citations: bool) -> ToolResult:
        why = list(why)
        if rec.invalid:
            why.append(f"Model Zoo validation: {rec.validation}")
        return ToolResult(name=rec.name, kind=rec.kind, score=total, why=why, interface=rec.interface,
                          platform=rec.platform, license=rec.license, links=dict(rec.links),
                          citations=self.citations_for(rec) if with_citations else [],
                          description=rec.description[:400], sources=list(rec.sources),
                          validation=rec.validation, inputs=rec.inputs, run_with=list(rec.run_with),
                          components={k: v for k, v in parts.items() if v})

    def citations_for(self, rec: ToolRecord, limit: int = 2) -> list[Citation]:
        """Book (first) and training passages that mention the tool's distinctive name, found while
        building the prior (generic names such as 'Cell segmentation' are never cited); a retriever
        search is the fallback when the chunks could not be scanned."""
        if self._mentions is None:
            return tool_citations(self.retriever, rec.name, limit=limit)
        ordered = sorted(self._mentions.get(rec.id, []), key=lambda c: (c.kind != "book", c.position))
        out: list[Citation] = []
        seen: set[tuple[str, str]] = set()
        for c in ordered:
            if (c.url, c.section) in seen:
                continue
            seen.add((c.url, c.section))
            out.append(Citation(key=c.key, title=c.title, section=c.section, url=c.url, source=c.source_id))
            if len(out) >= limit:
                break
        return out

    @staticmethod
    def _summary(parsed: ParsedRequest) -> str:
        bits = [", ".join(parsed.tasks) or "your request"]
        if parsed.objects:
            bits.append("of " + ", ".join(parsed.objects))
        if parsed.modalities:
            bits.append("in " + ", ".join(parsed.modalities))
        extras = [x for x in (parsed.dims.upper() if parsed.dims != "any" else "",
                              {"gui": "no coding", "code": "from code"}.get(parsed.interface, ""),
                              "open source" if parsed.open_source else "") if x]
        return " ".join(bits) + (f" ({', '.join(extras)})" if extras else "")


def recommend_names(rec: Recommendation) -> list[str]:
    """Names of the results (for evals)."""
    return [r.name for r in rec.results]
