"""Parser for BIII (biii.eu) registry dumps in Turtle, using the BISE core ontology.

Accepts both the 2018 dump (``<http://biii.eu/node/N> a <http://biii.eu/node/software>``) and the
newer upstream dump (``<http://biii.eu/<slug>> a <http://biii.eu/software>`` with ``nb:hasLicense``,
``nb:hasLocation``, ``nb:hasDocumentation``...). Predicates are matched by local name, so the odd
``dc: <http://dcterms/>`` prefix of both dumps and proper Dublin Core IRIs both work.

A file that fails to parse as a whole is re-parsed one subject block at a time, so a single broken
entry costs only that entry (reported with its line) instead of the whole registry.

Options: ``files`` (Turtle files, default every ``*.ttl``), ``edam_table`` (EDAM term TSV with
``Class ID`` and ``Preferred Label`` columns).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scopebot.sources.base import ParseReport, register
from scopebot.sources.models import Section, SourceSpec
from scopebot.sources.parsers.biii_infer import infer_interface
from scopebot.sources.text import clean_inline, normalize_ws, read_text, strip_html

BISE = "http://bise-eu.info/core-ontology#"
EDAM = "http://edamontology.org/"
_SUBJECT_START_RE = re.compile(r"^(<[^>\s]+>|[A-Za-z][\w-]*:[\w-]+)\s")

Node = dict[str, list[Any]]  # local predicate name -> objects


def local_name(iri: str) -> str:
    return re.split(r"[#/]", iri.rstrip("/#"))[-1]


def load_edam_labels(path: Path, report: ParseReport) -> dict[str, str]:
    """EDAM IRI -> preferred label from the EDAM(-Bioimaging) TSV; problems are reported."""
    labels: dict[str, str] = {}
    if not path.is_file():
        report.problem("EDAM term table missing: labels will be derived from IRIs", path=path)
        return labels
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, [])
        try:
            id_col, label_col = header.index("Class ID"), header.index("Preferred Label")
        except ValueError:
            report.problem("EDAM table lacks 'Class ID'/'Preferred Label' columns", path=path, line=1)
            return labels
        for row in reader:
            if len(row) > max(id_col, label_col) and row[label_col].strip():
                labels[row[id_col].strip()] = row[label_col].strip()
    report.files_read += 1
    return labels


def edam_label(iri: str, labels: dict[str, str]) -> str:
    """Label of an EDAM term; derived from IRIs like ``operation_Image_registration`` when unknown.

    Opaque identifiers (``operation__R9Vc...``, ``operation_3443``) without a table entry give "".
    """
    if iri in labels:
        return labels[iri]
    name = local_name(iri)
    name = re.sub(r"^(operation|topic|data|format)_", "", name).strip("_")
    if not name or name.isdigit() or re.fullmatch(r"R[A-Za-z0-9]{15,}", name):
        return ""
    return name.replace("_", " ").strip()


def _blocks(text: str) -> tuple[str, list[tuple[int, str]]]:
    """(prefix header, [(first line, block text)]) of a Turtle file, split at top-level subjects."""
    header: list[str] = []
    blocks: list[tuple[int, list[str]]] = []
    prev_blank = True
    for i, line in enumerate(text.split("\n"), 1):
        if re.match(r"^\s*(@prefix|@base|PREFIX|BASE)\b", line, re.I):
            header.append(line)
        elif prev_blank and _SUBJECT_START_RE.match(line):
            blocks.append((i, [line]))
        elif blocks:
            blocks[-1][1].append(line)
        prev_blank = not line.strip()
    return "\n".join(header), [(n, "\n".join(lines)) for n, lines in blocks]


def parse_turtle(path: Path, report: ParseReport) -> Any:
    """An rdflib Graph of the file; broken subject blocks are reported (file and line) and skipped."""
    import rdflib
    from rdflib.plugins.parsers.notation3 import BadSyntax

    text = read_text(path)
    graph = rdflib.Graph()
    try:
        graph.parse(data=text, format="turtle")
        return graph
    except (BadSyntax, ValueError, SyntaxError) as exc:
        m = re.search(r"at line (\d+)", str(exc))
        report.problem(f"Turtle syntax error: {str(exc).splitlines()[-1][:160] if str(exc) else exc!r}; "
                       "re-reading entry by entry", path=path, line=int(m.group(1)) if m else None)
    header, blocks = _blocks(text)
    graph = rdflib.Graph()
    for first, block in blocks:
        try:
            graph.parse(data=header + "\n" + block, format="turtle")
        except (BadSyntax, ValueError, SyntaxError) as exc:
            m = re.search(r"at line (\d+)", str(exc))
            line = first + int(m.group(1)) - header.count("\n") - 2 if m else first
            subject = block.split(None, 1)[0] if block.strip() else "?"
            report.problem(f"skipped broken entry {subject}", path=path, line=max(first, line),
                           hint="fix the Turtle syntax of this entry")
    return graph


def collect_nodes(graph: Any) -> tuple[dict[str, Node], set[str]]:
    """(subject IRI -> predicates, IRIs typed as software) of a graph."""
    from rdflib import RDF

    nodes: dict[str, Node] = defaultdict(lambda: defaultdict(list))
    software: set[str] = set()
    for s, p, o in graph:
        s_str = str(s)
        if p == RDF.type:
            if str(o).rstrip("/").endswith("/software") or local_name(str(o)).lower() == "software":
                software.add(s_str)
            continue
        nodes[s_str][local_name(str(p))].append(o)
    return nodes, software


def _strings(values: list[Any], kind: str = "any") -> list[str]:
    """Sorted unique string forms; ``kind`` 'iri' keeps IRIs only, 'literal' literals only."""
    from rdflib import Literal, URIRef

    out = []
    for v in values:
        if (kind == "iri" and not isinstance(v, URIRef)) or (kind == "literal" and not isinstance(v, Literal)):
            continue
        s = str(v).strip()
        if s:
            out.append(s)
    return sorted(set(out))


def fix_url(url: str) -> str:
    """``http://10.1371/x`` (a DOI pasted as a host) -> ``https://doi.org/10.1371/x``."""
    m = re.match(r"^https?://(10\.\d{4,9}/.+)$", url)
    return f"https://doi.org/{m.group(1)}" if m else url


def page_url(iri: str) -> str:
    return re.sub(r"^http://", "https://", iri)


def _description(values: list[Any]) -> str:
    raw = "\n\n".join(str(v) for v in values)
    text = strip_html(raw)
    text = re.sub(r"^#+\s*", "", text, flags=re.M)
    return normalize_ws(clean_inline(text))


def software_section(spec: SourceSpec, iri: str, node: Node, titles: dict[str, str],
                     labels: dict[str, str]) -> Section:
    """The Section (text + recommender metadata) of one software entry."""
    name = normalize_ws(" ".join(_strings(node.get("title", [])))) or local_name(iri)
    description = _description(node.get("comment", []) + node.get("description", []))
    operations = sorted({lbl for i in _strings(node.get("hasFunction", []), "iri") if (lbl := edam_label(i, labels))})
    topics = sorted({lbl for i in _strings(node.get("hasTopic", []), "iri") if (lbl := edam_label(i, labels))})
    req_iris = _strings(node.get("requires", []), "iri")
    requires = sorted({titles[r] for r in req_iris if r in titles})
    locations = [fix_url(u) for u in _strings(node.get("hasLocation", []), "iri")]
    docs = [fix_url(u) for u in _strings(node.get("hasDocumentation", []), "iri")]
    pubs = [fix_url(u) for u in _strings(node.get("hasReferencePublication", []), "iri")]
    pubs += [p for p in _strings(node.get("hasReferencePublication", []), "literal") if p.lower() != "publication"]
    authors = [normalize_ws(a) for a in _strings(node.get("hasAuthor", []), "literal")]
    lic = "; ".join(_strings(node.get("hasLicense", []) + node.get("license", [])))
    interface, platform = infer_interface(name, description, requires)
    homepage = (locations or docs or [""])[0]
    lines = [f"{name}: {description}" if description else f"{name} (software listed in the BIII registry)."]
    if operations:
        lines.append("Operations: " + ", ".join(operations) + ".")
    if topics:
        lines.append("Topics: " + ", ".join(topics) + ".")
    if platform:
        lines.append(f"Platform: {platform} ({interface}).")
    if requires:
        lines.append("Requires: " + ", ".join(requires) + ".")
    if lic:
        lines.append(f"License: {lic}.")
    if authors:
        lines.append("Authors: " + "; ".join(authors) + ".")
    if homepage:
        lines.append(f"Homepage: {homepage}")
    metadata: dict[str, Any] = {
        "name": name, "description": description, "edam_operations": operations, "edam_topics": topics,
        "license": lic, "homepage": homepage, "urls": sorted(set(locations + docs)), "publications": pubs,
        "requires": requires, "interface": interface, "platform": platform, "tool_type": "software",
        "authors": authors, "biii_id": iri,
    }
    return Section(source_id=spec.id, kind=spec.kind, doc_title=name, path=[name], anchor="",
                   url=page_url(iri), text="\n".join(lines), metadata=metadata)


@register("biii-turtle")
def parse_biii(root: Path, spec: SourceSpec, report: ParseReport) -> Iterator[Section]:
    opts = spec.options
    files = [root / f for f in opts.get("files", [])] or sorted(root.glob("*.ttl"))
    labels = load_edam_labels(root / str(opts.get("edam_table", "EDAM-bioimaging_alpha03.tsv")), report)
    all_nodes: dict[str, Node] = {}
    software: list[str] = []
    for path in files:
        if not path.is_file():
            report.problem("Turtle file missing", path=path)
            continue
        graph = parse_turtle(path, report)
        report.files_read += 1
        nodes, typed = collect_nodes(graph)
        if not typed:  # untyped dump: every titled subject is an entry
            typed = {s for s, n in nodes.items() if n.get("title")}
        for s, n in nodes.items():
            all_nodes.setdefault(s, n)
        software.extend(s for s in sorted(typed, key=lambda x: (len(x), x)) if s not in software)
    titles = {s: normalize_ws(" ".join(_strings(n.get("title", [])))) for s, n in all_nodes.items()
              if n.get("title")}
    seen: set[str] = set()
    for iri in software:
        if iri in seen:
            continue
        seen.add(iri)
        yield software_section(spec, iri, all_nodes.get(iri, {}), titles, labels)
