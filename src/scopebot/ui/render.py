"""Turning turn results into what the page shows: chat markdown, sources, check report, tool cards.

Pure functions over the payload objects (``Answer``, ``CodeResult``, ``Recommendation``,
``RunResult``) read through ``getattr``, so they work on the real models and on test fakes alike.
Every piece of text that came from a source, a model or the user goes through :mod:`scopebot.ui.safety`:
HTML panels escape it (passages render as Markdown with raw HTML escaped), chat Markdown keeps no
raw HTML outside code, and code and program output sit in fences they cannot close. Status words are
text, not emoji, so they read the same without an emoji font.
"""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scopebot.ui.safety import fenced, inline_text, markdown_html, no_raw_html, one_block, safe_url

ROUTE_NAMES = {"question": "question → grounded answer", "code": "code → sandboxed analysis",
               "tool": "tool → recommendations", "forum": "forum → image.sc search",
               "chitchat": "chit-chat", "out_of_scope": "out of scope"}
MAX_TABLE_ROWS = 12
#: What the Sources/Checks panels show when the current turn has no sources (they never keep an older turn's).
NO_SOURCES_HTML = '<div class="sb-sources sb-empty">No sources for this turn.</div>'
NO_CHECKS_HTML = '<div class="sb-checks sb-empty">No checks for this turn.</div>'
#: Prefixes of the progress line (plain words: the page must not depend on an emoji font).
WORKING, DONE, ERROR = "Working:", "Done", "Error:"


def esc(text: Any) -> str:
    return html.escape(str(text or ""), quote=True)


def route_line(result: Any, forced: bool = False) -> str:
    """``Route: code → sandboxed analysis (confidence 0.82, chosen by you)`` for the top of a reply."""
    label = getattr(result, "route", "") or "question"
    conf = getattr(result, "confidence", None)
    extra = [f"confidence {conf:.2f}"] if isinstance(conf, int | float) else []
    if forced:
        extra.append("chosen by you")
    return f"_Route: **{ROUTE_NAMES.get(label, label)}**" + (f" ({', '.join(extra)})" if extra else "") + "_"


#: Progress lines for the answer pipeline's status keys, per answer mode (``None``: any mode). The wait
#: before a generative answer's first word is the model reading the passages, not retrieval.
PIPELINE_STATUS = {
    ("retrieving", None): "retrieving passages from the sources",
    ("generating", "generative"): "the model is reading the sources",
    ("generating", "extractive"): "choosing sentences from the sources",
    ("generating", None): "reading the sources",
    ("verifying", None): "checking the answer against the sources",
}


def status_text(event: Any, mode: str | None = None) -> str:
    """A progress line for a streamed status event (retrieving, generating, running...); ``mode`` is the
    session's answer mode."""
    text = getattr(event, "text", "") or getattr(event, "status", "") or ""
    text = PIPELINE_STATUS.get((text, mode)) or PIPELINE_STATUS.get((text, None)) or text
    return f"{WORKING} {inline_text(text)}…" if text else f"{WORKING} …"


# --------------------------------------------------------------------------------------------------
# chat text
# --------------------------------------------------------------------------------------------------
def reply_markdown(result: Any, forced: bool = False) -> str:
    """The assistant's chat bubble for a finished turn: route line, then the kind's rendering."""
    kind = getattr(result, "kind", "")
    payload = getattr(result, "payload", None)
    body = getattr(result, "markdown", "") or ""
    if kind in ("answer", "abstention") and _is_answer(payload):
        body = answer_body(payload)
    elif kind == "code" and payload is not None and hasattr(payload, "code"):
        body = code_body(payload)
    elif kind == "tools" and payload is not None and hasattr(payload, "results"):
        body = body or tools_summary(payload)
    warnings = [w for w in getattr(result, "warnings", None) or [] if f"**Note:** {w}" not in body]
    notes = "".join(f"**Note:** {inline_text(w)}\n\n" for w in warnings)  # e.g. a name no source knows
    return f"{route_line(result, forced)}\n\n{notes}{no_raw_html(body)}".strip()


def _is_answer(payload: Any) -> bool:
    return payload is not None and hasattr(payload, "answer") and hasattr(payload, "citations")


def answer_body(answer: Any) -> str:
    """Answer text with [n] markers, a one-line check summary, and the abstention reason if any."""
    if getattr(answer, "abstained", False):
        reason = getattr(answer, "abstain_reason", "") or "the sources do not cover this question"
        text = getattr(answer, "answer", "") or ""
        lines = [text, f"**I did not answer:** {reason}"]
        closest = getattr(answer, "closest_sources", []) or []
        if closest:
            lines.append("Closest passages: " + "; ".join(inline_text(c.where) for c in closest[:3]))
        return "\n\n".join(x for x in lines if x)
    return f"{getattr(answer, 'answer', '')}\n\n{checks_line(getattr(answer, 'checks', None))}"


def checks_line(checks: Any) -> str:
    """``Checks passed: 100% of sentences supported · ...`` (``Checks flagged:`` when something is flagged)."""
    if checks is None:
        return ""
    frac = float(getattr(checks, "supported_fraction", 1.0))
    invalid = int(getattr(checks, "invalid_citations", 0))
    unknown = list(getattr(checks, "unknown_entities", []) or [])
    flagged = list(getattr(checks, "unsupported_sentences", []) or [])
    ok = frac >= 0.999 and not invalid and not unknown and not flagged
    parts = [f"{round(frac * 100)}% of sentences supported", f"{invalid} invalid citation(s)",
             f"{len(unknown)} unknown name(s)" + (f" ({', '.join(inline_text(u) for u in unknown[:5])})"
                                                  if unknown else "")]
    return f"**{'Checks passed' if ok else 'Checks flagged'}:** _{' · '.join(parts)}_"


def has_usable_plan(code: Any) -> bool:
    """Whether a code answer's plan would answer anything (a declined request's may promise nothing)."""
    plan = getattr(code, "plan", None)
    promised = getattr(plan, "promised", None)
    return plan is None or not callable(promised) or bool(promised())


ANSWER_NOTE = "Answer, checked against the plan: "


def code_body(code: Any) -> str:
    """A code answer: the answer first (when the run kept the plan's promises), the plan notes, the run's
    outcome and output, then the code in a fenced block.

    A declined request (nothing was run) never invites a Run: its code is shown only when the closest plan
    would answer something, as a starting point for editing the plan."""
    answer = [str(a) for a in getattr(code, "answer", []) or []]
    ok = bool(getattr(code, "ok", False)) and bool(getattr(code, "ran", False))
    lines: list[str] = [f"**Answer:** {inline_text('; '.join(answer))}"] if ok and answer else []
    lines += [f"_{n}_" for n in getattr(code, "notes", []) or [] if not (lines and str(n).startswith(ANSWER_NOTE))]
    if getattr(code, "declined", False):
        if has_usable_plan(code):
            lines.append(fenced(getattr(code, "code", ""), "python"))
            lines.append("**Nothing was run.** To run the closest plan, fix it in *Code → Plan* and press "
                         "**Re-run plan**.")
        else:
            lines.append("**Nothing was run**, and there is no plan to run: rephrase the request.")
        return "\n\n".join(x for x in lines if x)
    if getattr(code, "ran", False):
        run_ok = getattr(code, "ok", not getattr(code, "error", None))
        rounds = len(getattr(code, "rounds", []) or [])
        lines.append(("**Ran in the sandbox**" if run_ok else "**The run failed**") +
                     (f" after {rounds} round(s)" if rounds > 1 else ""))
    else:
        lines.append("_Not run yet — press **Run** to execute it in the sandbox._")
    lines.append(output_markdown(code))
    lines.append("**Code** (also in *Code*, where you can edit and re-run it)\n\n" + fenced(getattr(code, "code", ""),
                                                                                              "python"))
    return "\n\n".join(x for x in lines if x)


def output_markdown(run: Any) -> str:
    """stdout, errors and small CSV tables of a run (``RunResult`` or ``CodeResult``)."""
    parts: list[str] = []
    stdout = (getattr(run, "stdout", "") or "").strip()
    if stdout:
        parts.append(f"**Output**\n{fenced(stdout[-4000:], 'text')}")
    error = getattr(run, "error", None)
    if error:
        tb = getattr(run, "traceback", None) or ""
        parts.append(f"**Error**\n{fenced((tb or error)[-3000:], 'text')}")
    for path in getattr(run, "files", []) or []:
        table = csv_table(Path(path))
        if table:
            parts.append(f"**Table {inline_text(Path(path).name)}**\n\n{table}")
    return no_raw_html("\n\n".join(parts))


def csv_table(path: Path, max_rows: int = MAX_TABLE_ROWS) -> str:
    """A markdown table of the first rows of a CSV/TSV file ('' for other files or errors)."""
    if path.suffix.lower() not in (".csv", ".tsv") or not path.is_file():
        return ""
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            rows = list(csv.reader(fh, delimiter="\t" if path.suffix.lower() == ".tsv" else ","))
    except OSError:
        return ""
    if not rows:
        return ""
    head, body = rows[0], rows[1:]

    def cell(value: str) -> str:
        try:
            number = float(value)
        except ValueError:
            return value.replace("|", "\\|").replace("\n", " ")
        return value if number.is_integer() and "." not in value else f"{number:.4g}"

    lines = ["| " + " | ".join(cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in body[:max_rows]]
    if len(body) > max_rows:
        lines.append(f"\n_{len(body) - max_rows} more row(s) in the file_")
    return "\n".join(lines)


def tools_summary(rec: Any) -> str:
    if getattr(rec, "nothing_fits", False):
        return getattr(rec, "message", "") or "Nothing in the catalog fits this request."
    names = ", ".join(f"**{inline_text(r.name)}**" for r in getattr(rec, "results", [])[:5])
    return f"Recommended: {names}. See the cards on the right." if names else "No recommendations."


# --------------------------------------------------------------------------------------------------
# side panels (HTML)
# --------------------------------------------------------------------------------------------------
def sources_html(answer: Any, lookup: Callable[[str], str | None] | None = None) -> str:
    """One expandable entry per cited passage: number, title, section, breadcrumb, link, text."""
    cites = list(getattr(answer, "citations", []) or []) if answer is not None else []
    if not cites:
        return '<div class="sb-sources sb-empty">No sources cited.</div>'
    items = []
    for c in cites:
        text = (lookup(c.key) if lookup else None) or getattr(c, "text", "") or getattr(c, "snippet", "")
        link = _link(getattr(c, "url", ""), getattr(c, "url", ""))
        items.append(
            f'<details class="sb-source" id="source-{int(c.n)}"><summary><b>[{int(c.n)}]</b> {esc(c.title)}'
            f'{" — " + esc(c.section) if getattr(c, "section", "") else ""}</summary>'
            f'<div class="sb-crumb">{esc(getattr(c, "breadcrumb", ""))}</div>'
            f'<div class="sb-link">{link}</div>'
            f'<div class="sb-key"><code>{esc(c.key)}</code></div>'
            f'<div class="sb-text">{markdown_html(text)}</div></details>')
    return one_block('<div class="sb-sources">' + "".join(items) + "</div>")


def checks_html(answer: Any) -> str:
    """The check report at a glance: supported fraction, flagged sentences, unknown names, abstention."""
    if answer is None:
        return '<div class="sb-checks sb-empty">No checks yet.</div>'
    checks = getattr(answer, "checks", None)
    parts: list[str] = []
    if getattr(answer, "abstained", False):
        parts.append(f'<div class="sb-abstain"><b>Abstained:</b> '
                     f'{esc(getattr(answer, "abstain_reason", "") or "not enough evidence in the sources")}</div>')
    if checks is not None:
        frac = float(getattr(checks, "supported_fraction", 1.0))
        level = "ok" if frac >= 0.999 else ("warn" if frac >= 0.5 else "bad")
        parts.append(f'<div class="sb-frac sb-{level}"><b>{round(frac * 100)}%</b> of sentences supported</div>')
        invalid = int(getattr(checks, "invalid_citations", 0))
        parts.append(f'<div class="sb-invalid">{invalid} invalid citation(s) removed</div>')
        unknown = list(getattr(checks, "unknown_entities", []) or [])
        if unknown:
            names = ", ".join(f'<span class="sb-unknown">{esc(n)}</span>' for n in unknown)
            parts.append(f'<div class="sb-unknowns"><b>Unknown names</b> (not found in any source): {names}</div>')
        flagged = list(getattr(checks, "unsupported_sentences", []) or [])
        removed = list(getattr(checks, "removed_sentences", []) or [])
        if flagged:
            parts.append('<div class="sb-flagged"><b>Flagged sentences</b> (weak support):<ul>' +
                         "".join(f'<li><mark class="sb-flag">{_labelled(s)}</mark></li>' for s in flagged) + "</ul></div>")
        if removed:
            parts.append('<div class="sb-removed"><b>Removed sentences</b>:<ul>' +
                         "".join(f"<li><s>{esc(s)}</s></li>" for s in removed) + "</ul></div>")
    sentences = list(getattr(answer, "sentences", []) or [])
    if sentences:
        spans = "".join(
            f'<span class="{"sb-sup" if getattr(s, "supported", True) else "sb-unsup"}" '
            f'title="support {float(getattr(s, "support", 0)):.2f}">{_labelled(s.text)} </span>' for s in sentences)
        parts.append(f'<div class="sb-annotated"><b>Sentence by sentence</b><p>{spans}</p></div>')
    return one_block('<div class="sb-checks">' + "".join(parts) + "</div>")


def tool_cards_html(rec: Any) -> str:
    """Recommendation cards: name, kind, score, interface, licence, why, links, citations."""
    if rec is None:
        return ""
    results: Sequence[Any] = list(getattr(rec, "results", []) or [])
    heading = ""
    if not results and getattr(rec, "nothing_fits", False):
        heading = f'<div class="sb-nothing">{esc(getattr(rec, "message", "") or "Nothing fits.")} Nearest:</div>'
        results = list(getattr(rec, "nearest", []) or [])
    cards = []
    for r in results:
        links = "".join(_link(url, name, "sb-toollink") + " " for name, url in (getattr(r, "links", {}) or {}).items())
        why = "".join(f"<li>{esc(w)}</li>" for w in (getattr(r, "why", []) or [])[:4])
        meta = " · ".join(esc(x) for x in (getattr(r, "kind", ""), getattr(r, "interface", ""),
                                           getattr(r, "license", "")) if x)
        cites = "".join(f"<li>{_link(c.url, c.title)}{' — ' + esc(c.section) if c.section else ''}</li>"
                        for c in (getattr(r, "citations", []) or [])[:3])
        cards.append(f'<div class="sb-card"><div class="sb-card-title">{esc(r.name)}'
                     f' <span class="sb-score">{float(r.score):.2f}</span></div>'
                     f'<div class="sb-card-meta">{meta}</div>'
                     f'<div class="sb-card-desc">{esc((getattr(r, "description", "") or "")[:240])}</div>'
                     f'<ul class="sb-why">{why}</ul><div class="sb-links">{links}</div>'
                     + (f'<ul class="sb-cites">{cites}</ul>' if cites else "") + "</div>")
    return f'<div class="sb-cards">{heading}{"".join(cards)}</div>'


def rounds_markdown(code: Any) -> str:
    """Each generate/repair/recipe round: its source, its checks, whether it ran, its error."""
    rounds = list(getattr(code, "rounds", []) or [])
    if not rounds:
        return "_No repair rounds._"
    out = []
    for r in rounds:
        checks = r.checks.to_text() if hasattr(getattr(r, "checks", None), "to_text") else ""
        state = "ran OK" if getattr(r, "ok", False) else ("failed" if getattr(r, "run", None) else "not run")
        out.append(f"**Round {r.index + 1}** ({inline_text(r.source)}) — {state}\n\n"
                   + (f"Checks: {inline_text(checks)}\n\n" if checks else "")
                   + (f"{fenced(r.error[-1500:], 'text')}\n\n" if getattr(r, "error", None) else "")
                   + f"**Code**\n\n{fenced(r.code, 'python')}")
    return no_raw_html("\n\n---\n\n".join(out))


def _link(url: Any, text: Any, css: str = "") -> str:
    """An ``<a>`` to an http(s) ``url`` opening in a new tab; only the escaped text for anything else."""
    href = safe_url(url)
    if href is None:
        return esc(text)
    cls = f' class="{css}"' if css else ""
    return f'<a{cls} href="{esc(href)}" target="_blank" rel="noopener noreferrer">{esc(text)}</a>'


_LABEL_RE = re.compile(r"^\*\*(?P<label>[^*]{1,120})\*\*:\s*(?P<rest>.*)$", re.DOTALL)


def _labelled(text: str) -> str:
    """An extract as HTML: its ``**label**:`` prefix (the method or section it is about) in bold, the
    rest escaped; any other text is escaped as it is."""
    m = _LABEL_RE.match(text)
    if m is None:
        return esc(text)
    return f"<b>{esc(m.group('label'))}</b>: {esc(m.group('rest'))}"
