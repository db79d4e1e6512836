"""A conversation's record, feedback to an append-only JSONL file, and exports.

:class:`TurnRecord` keeps what one exchange produced (question, route, markdown, typed payload and
any runs from the Run button). :class:`FeedbackStore` appends one JSON object per rating to
``Settings.feedback_path``; it never rewrites the file. :func:`to_markdown` and :func:`to_notebook`
export a conversation; in the notebook, code answers become code cells (nbformat v4, plain JSON).
In both, what the user typed is escaped so it reads as the literal text and never renders as HTML
or Markdown (:func:`scopebot.ui.safety.text_markdown`); answers keep their Markdown but no raw HTML.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scopebot.agent.models import dump_payload
from scopebot.answer.models import where_text
from scopebot.ui.safety import inline_text, no_raw_html, safe_url

Rating = Literal["up", "down"]


@dataclass
class TurnRecord:
    """One exchange of the conversation."""

    question: str
    route: str = ""
    kind: str = ""
    markdown: str = ""
    payload: Any = None
    #: The uploaded file's name (None: no upload, code ran on a synthetic image) and what the analysis
    #: used besides the file (e.g. a pixel size typed in the Image tab)
    image: str | None = None
    image_note: str = ""
    runs: list[Any] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    @classmethod
    def from_result(cls, question: str, result: Any, markdown: str, image: str | None = None,
                    image_note: str = "") -> TurnRecord:
        return cls(question=question, route=str(getattr(result, "route", "")), kind=str(getattr(result, "kind", "")),
                   markdown=markdown, payload=getattr(result, "payload", None), image=image, image_note=image_note)

    def image_line(self) -> str:
        """Which image a code answer was run on, for the exports."""
        if not self.image:
            return "Image: none was uploaded, so scopebot ran this code on a synthetic test image."
        return f"Image: the uploaded file `{inline_text(self.image)}`" + (
            f" ({inline_text(self.image_note)})" if self.image_note else "") + "."

    @property
    def code(self) -> str | None:
        """The code of a code answer (None otherwise)."""
        code = getattr(self.payload, "code", None)
        return code if self.kind == "code" and isinstance(code, str) else None


def _sources(payload: Any) -> list[dict[str, Any]]:
    out = []
    for c in getattr(payload, "citations", []) or []:
        data = dump_payload(c)
        out.append(data if isinstance(data, dict) else {"citation": data})
    return out


def _checks(payload: Any) -> Any:
    checks = getattr(payload, "checks", None)
    return dump_payload(checks) if checks is not None else None


class FeedbackStore:
    """Append-only JSONL of ratings (thread-safe; one line per rating, flushed immediately)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, turn: TurnRecord, rating: Rating, comment: str = "", *, session_id: str = "",
               backend: str = "") -> dict[str, Any]:
        """Append one rating of ``turn`` and return the stored object."""
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        entry = {"id": uuid.uuid4().hex, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "session": session_id,
                 "rating": rating, "comment": comment.strip(), "question": turn.question, "route": turn.route,
                 "kind": turn.kind, "answer": turn.markdown, "sources": _sources(turn.payload),
                 "checks": _checks(turn.payload), "backend": backend}
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
        return entry

    def read(self) -> list[dict[str, Any]]:
        """Every stored rating, oldest first."""
        if not self.path.is_file():
            return []
        with self.path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]


# --------------------------------------------------------------------------------------------------
# exports
# --------------------------------------------------------------------------------------------------
def _references_md(payload: Any) -> str:
    cites = getattr(payload, "citations", []) or []
    lines = [f"{int(c.n)}. {inline_text(where_text(c.title, c.section, getattr(c, 'part', 0)))}"
             + (f" <{safe_url(c.url)}>" if safe_url(c.url) else "") for c in cites if hasattr(c, "n")]
    return ("**Sources**\n\n" + "\n".join(lines)) if lines else ""


def _run_md(run: Any) -> str:
    from scopebot.ui.render import output_markdown

    figures = "".join(f"\n\nFigure: {inline_text(Path(f).name)}" for f in getattr(run, "figures", []) or [])
    return (output_markdown(run) + figures).strip()


def to_markdown(turns: list[TurnRecord], title: str = "scopebot conversation") -> str:
    """The conversation as Markdown: each question, the answer with its sources, runs of code."""
    parts = [f"# {inline_text(title)}", f"_Exported {time.strftime('%Y-%m-%d %H:%M')}_"]
    for i, t in enumerate(turns, 1):
        parts.append(f"## {i}. {inline_text(t.question)}")
        parts.append(f"_Route: {inline_text(t.route)}_" if t.route else "")
        parts.append(no_raw_html(t.markdown))
        if t.code is not None:
            parts.append(f"_{t.image_line()}_")
        if t.kind != "code":
            parts.append(_references_md(t.payload))
        for run in t.runs:
            parts.append("**Run**\n\n" + _run_md(run))
    return "\n\n".join(p for p in parts if p).rstrip() + "\n"


def _md_cell(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)}


def _code_cell(code: str, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": outputs,
            "source": code.rstrip().splitlines(keepends=True)}


def _stream_outputs(run: Any) -> list[dict[str, Any]]:
    outs = []
    if getattr(run, "stdout", ""):
        outs.append({"output_type": "stream", "name": "stdout", "text": run.stdout.splitlines(keepends=True)})
    if getattr(run, "error", None):
        outs.append({"output_type": "stream", "name": "stderr", "text": [str(run.error)]})
    return outs


def to_notebook(turns: list[TurnRecord], title: str = "scopebot conversation") -> dict[str, Any]:
    """An nbformat-4 notebook (plain JSON): questions and answers as markdown, code answers as code."""
    coded = [t for t in turns if t.code is not None]
    uploads = list(dict.fromkeys(t.image for t in coded if t.image))
    intro = (f"The code cells were run on {', '.join(f'`{inline_text(u)}`' for u in uploads)}, uploaded to "
             "scopebot: put the file next to this notebook or set `IMAGE_PATH` to its full path."
             if uploads else "No image was uploaded: scopebot ran the code on a synthetic test image. Set "
                             "`IMAGE_PATH` to your image before running the code cells.")
    cells = [_md_cell(f"# {inline_text(title)}\n\n{intro}")]
    current = uploads[0] if uploads else None
    cells.append(_code_cell(_image_path_line(current), []))
    for t in turns:
        cells.append(_md_cell(f"## {inline_text(t.question)}"))
        code = t.code
        if code is not None:
            notes = "\n".join(f"_{inline_text(n)}_" for n in [t.image_line(), *(getattr(t.payload, "notes", []) or [])])
            cells.append(_md_cell(notes))
            if t.image and t.image != current:  # a later upload: this code was run on another file
                current = t.image
                cells.append(_code_cell(_image_path_line(current), []))
            last_run = t.runs[-1] if t.runs else t.payload
            cells.append(_code_cell(code, _stream_outputs(last_run)))
        else:
            refs = _references_md(t.payload)
            body = no_raw_html(t.markdown) + ("\n\n" + refs if refs else "")
            cells.append(_md_cell(body))
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                        "name": "python3"},
                                         "language_info": {"name": "python"}, "scopebot": {"version": 1}},
            "nbformat": 4, "nbformat_minor": 5}


def _image_path_line(upload: str | None) -> str:
    if upload is None:
        return 'IMAGE_PATH = "image.tif"  # no image was uploaded (a synthetic test image was used): set yours'
    return f"IMAGE_PATH = {upload!r}  # the file uploaded to scopebot"


def write_exports(turns: list[TurnRecord], folder: Path, stem: str = "scopebot-conversation") -> tuple[Path, Path]:
    """Write ``<stem>.md`` and ``<stem>.ipynb`` into ``folder``; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    md, nb = folder / f"{stem}.md", folder / f"{stem}.ipynb"
    md.write_text(to_markdown(turns), encoding="utf-8")
    notebook = to_notebook(turns)
    for i, cell in enumerate(notebook["cells"]):
        cell["id"] = f"cell-{i}"
    nb.write_text(json.dumps(notebook, indent=1, ensure_ascii=False), encoding="utf-8")
    return md, nb
