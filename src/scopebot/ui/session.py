"""One browser session: its assistant, its conversation, its upload, its settings. No Gradio here.

The Gradio callbacks in :mod:`scopebot.ui.app` are thin: they call a :class:`ChatSession` method
and copy the returned :class:`View` into components. Keeping the logic here makes it testable with
a fake assistant and no browser.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scopebot.errors import ConfigurationError, ScopebotError
from scopebot.ui import render
from scopebot.ui.controls import ui_message
from scopebot.ui.history import FeedbackStore, Rating, TurnRecord, write_exports
from scopebot.ui.images import (
    DEFAULT_MAX_MB,
    SYNTHETIC,
    UNCALIBRATED,
    ImageInfo,
    inspect_upload,
    with_pixel_size,
    with_z_step,
)
from scopebot.ui.render import DONE, ERROR, WORKING
from scopebot.ui.safety import inline_text, no_raw_html, text_markdown
from scopebot.ui.services import SessionSettings, UIServices, iter_events

log = logging.getLogger("scopebot.ui")
ROUTE_CHOICES = ("auto", "question", "code", "tool", "forum")
#: Minimum seconds between two streamed text updates sent to the page.
STREAM_INTERVAL_S = 0.1


@dataclass
class View:
    """What a callback changes on the page (None: leave the component as it is)."""

    chat: list[dict[str, Any]] | None = None
    status: str | None = None
    sources: str | None = None
    checks: str | None = None
    code: str | None = None
    run_output: str | None = None
    figures: list[str] | None = None
    rounds: str | None = None
    tools: str | None = None
    tab: str | None = None


@dataclass
class ChatSession:
    """Per-session state kept in ``gr.State``; built lazily on the first event of a session."""

    services: UIServices
    feedback: FeedbackStore
    settings: SessionSettings
    max_upload_mb: float = DEFAULT_MAX_MB
    stream_interval_s: float = STREAM_INTERVAL_S
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    turns: list[TurnRecord] = field(default_factory=list)
    chat: list[dict[str, Any]] = field(default_factory=list)
    image: ImageInfo | None = None
    #: The name of the last upload that was refused (None once an image is accepted or cleared): a code
    #: request then runs on a synthetic test image, and the reply must say so before anything else.
    rejected_upload: str | None = None
    #: (request, plan) of the last "Re-run plan" since the latest turn (the checklist edits start from it)
    rerun_plan: tuple[str, Any] | None = None
    _assistant: Any = None
    _workdir: Path | None = None
    #: One turn at a time per session: a question sent while another is answered waits, in order.
    _turn_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    # --- plumbing ---------------------------------------------------------------------------
    @property
    def workdir(self) -> Path:
        """A private temporary folder for previews and exports (removed by :meth:`close`)."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix=f"scopebot-ui-{self.id}-"))
        return self._workdir

    @property
    def assistant(self) -> Any:
        if self._assistant is None:
            self._assistant = self.services.make_assistant(self.settings)
        return self._assistant

    def close(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    # --- chat -------------------------------------------------------------------------------
    def ask(self, text: str, route: str = "auto") -> Iterator[View]:
        """Stream one turn: progress lines, streamed text, then the final reply and side panels.

        Questions sent while an earlier one is still answered (Enter pressed again) wait for it and then
        run in order; none is dropped.
        """
        if not self._turn_lock.acquire(blocking=False):
            yield View(status=f"{WORKING} waiting for the previous question to finish…")
            self._turn_lock.acquire()
        try:
            yield from self._ask(text, route)
        finally:
            self._turn_lock.release()

    def _ask(self, text: str, route: str) -> Iterator[View]:
        text = (text or "").strip()
        if not text:
            yield View(status="Type a question, a code request or a tool request first.")
            return
        force = None if route in (None, "", "auto") else route
        if force is not None and force not in ROUTE_CHOICES:
            yield View(status=f"Unknown mode {force!r}.")
            return
        # the user's words are text: shown literally, never as HTML or Markdown
        self.chat.append({"role": "user", "content": text_markdown(text)})
        self.chat.append({"role": "assistant", "content": f"{WORKING} routing…"})
        # the side panels show the current turn only: an older turn's sources go now
        yield View(chat=list(self.chat), status=f"{WORKING} routing…", sources=render.NO_SOURCES_HTML,
                   checks=render.NO_CHECKS_HTML)
        image = self.image.analysis_path if self.image else None
        streamed = ""
        started = last_yield = time.perf_counter()
        try:
            for event in iter_events(self.assistant, text, image, force):
                result = _final_result(event)
                if result is not None:
                    yield from self._finish(text, result, force is not None, started)
                    return
                if getattr(event, "type", "") == "delta" and getattr(event, "text", ""):
                    streamed += event.text
                    self.chat[-1] = {"role": "assistant", "content": no_raw_html(streamed)}
                    if time.perf_counter() - last_yield >= self.stream_interval_s:  # bound the page updates
                        last_yield = time.perf_counter()
                        yield View(chat=list(self.chat), status=f"{WORKING} writing the answer…")
                else:
                    line = render.status_text(event, getattr(self.settings, "answer_mode", None))
                    if not streamed:
                        self.chat[-1] = {"role": "assistant", "content": line}
                    yield View(chat=list(self.chat), status=line)
            raise ConfigurationError("the assistant ended the turn without a result",
                                     hint="try again; if it persists, report the question")
        except ScopebotError as exc:
            yield self._error(exc)
        except Exception as exc:  # noqa: BLE001 - the page must show something, never a stack trace
            log.exception("turn failed (session %s)", self.id)
            yield self._error(exc)

    def _error(self, exc: BaseException) -> View:
        msg = ui_message(exc)
        self.chat[-1] = {"role": "assistant", "content": f"**{ERROR}** {text_markdown(msg)}"}
        return View(chat=list(self.chat), status=f"{ERROR} {inline_text(msg.splitlines()[0])}")

    def _finish(self, text: str, result: Any, forced: bool, started: float) -> Iterator[View]:
        md = render.reply_markdown(result, forced)
        extra_tools = (getattr(result, "extras", None) or {}).get("tools")  # the router was unsure: tools too
        if extra_tools is not None and hasattr(extra_tools, "results"):
            md += "\n\n" + render.tools_summary(extra_tools)
        if getattr(result, "kind", "") == "code" and self.image is None and getattr(result, "payload", None) is not None \
                and not getattr(result.payload, "declined", False):
            why = (f"your upload {inline_text(self.rejected_upload)} was refused (see *Image*)" if self.rejected_upload
                   else "no image is attached")
            md = (f"**{SYNTHETIC}:** {why}, so this ran on a synthetic test image, not on your data. Attach "
                  f"your image under *Image* and ask again.\n\n{md}")
        if getattr(result, "kind", "") == "code" and self.image is not None and not self.image.calibrated:
            md += f"\n\n**{UNCALIBRATED}:** {inline_text(self.image.name)} does not state it, so sizes are in " \
                  "pixels. Type it in *Image → Pixel size* (µm per pixel) and ask again."
        note = ""
        if self.image is not None and self.image.pixel_size_given and self.image.pixel_size:
            note = f"pixel size {self.image.pixel_size[0]:g} µm typed in scopebot; the file does not state it"
        record = TurnRecord.from_result(text, result, md, image=self.image.name if self.image else None,
                                        image_note=note)
        self.turns.append(record)
        self.rerun_plan = None
        self.chat[-1] = {"role": "assistant", "content": md}
        view = View(status=f"{DONE} in {time.perf_counter() - started:.1f}s", sources=render.NO_SOURCES_HTML,
                    checks=render.NO_CHECKS_HTML)
        payload = record.payload
        if record.kind in ("answer", "abstention") and hasattr(payload, "citations"):
            view.sources = render.sources_html(payload, self.services.passage_text)
            view.checks = render.checks_html(payload)
            view.tab = "sources"
            if extra_tools is not None and hasattr(extra_tools, "results"):
                view.tools = render.tool_cards_html(extra_tools)
        elif record.kind == "forum" and getattr(payload, "answer", None) is not None:
            view.sources = render.sources_html(payload.answer, self.services.passage_text)
            view.checks = render.checks_html(payload.answer)
            view.tab = "sources"
        elif record.kind == "code" and record.code is not None:
            figures = [str(f) for f in getattr(payload, "figures", []) or []]
            for fig in figures:
                self.chat.append({"role": "assistant", "content": {"path": fig, "alt_text": "figure"}})
            view.code, view.figures = record.code, figures
            view.run_output = render.output_markdown(payload) or "_No output._"
            if getattr(payload, "declined", False):  # nothing ran: no output, and no Run invited for nothing
                usable = render.has_usable_plan(payload)
                view.code = record.code if usable else ""
                view.run_output = ("_Nothing was run: the request could not be answered as asked (see the "
                                   "chat)._" + (" Fix the plan below and press **Re-run plan**." if usable else ""))
            view.rounds = render.rounds_markdown(payload)
            view.tab = "code"
        elif record.kind == "tools" and hasattr(payload, "results"):
            view.tools = render.tool_cards_html(payload)
            view.tab = "tools"
        view.chat = list(self.chat)
        yield view

    # --- code -------------------------------------------------------------------------------
    def run_code(self, code: str) -> View:
        """Run ``code`` (the code panel's text) in the sandbox and show the results inline."""
        if not (code or "").strip():
            return View(status="There is no code to run yet: ask for an analysis first.")
        image = self.image.analysis_path if self.image else None
        started = time.perf_counter()
        try:
            run = self.services.run_code(code, image)
        except ScopebotError as exc:
            msg = ui_message(exc)
            return View(status=f"{ERROR} {inline_text(msg.splitlines()[0])}", run_output=f"**{ERROR}** {text_markdown(msg)}")
        if self.turns and self.turns[-1].code is not None:
            self.turns[-1].runs.append(run)
        figures = [str(f) for f in getattr(run, "figures", []) or []]
        summary = run.summary() if hasattr(run, "summary") else ("ran" if getattr(run, "ok", False) else "failed")
        out = render.output_markdown(run) or "_No output._"
        self.chat.append({"role": "assistant", "content": f"**Run** — {inline_text(summary)}\n\n{out}"})
        for fig in figures:
            self.chat.append({"role": "assistant", "content": {"path": fig, "alt_text": "figure"}})
        ok = getattr(run, "ok", False)
        verdict = "**Ran OK:**" if ok else "**The run failed:**"
        took = f"{time.perf_counter() - started:.1f}s"
        return View(chat=list(self.chat), run_output=f"{verdict} {inline_text(summary)}\n\n{out}", figures=figures,
                    status=(f"{DONE}: sandbox run OK, {inline_text(summary)} ({took})" if ok else
                            f"{ERROR} the sandbox run failed: {inline_text(summary)} ({took})"),
                    tab="code")

    # --- image ------------------------------------------------------------------------------
    def upload(self, path: str | None) -> tuple[str | None, str]:
        """Validate an upload; returns (preview path, metadata markdown or a clear error)."""
        if not path:
            self.image = self.rejected_upload = None
            return None, "_No image. Code requests use a synthetic test image._"
        try:
            self.image = inspect_upload(Path(path), self.workdir, self.max_upload_mb)
        except ConfigurationError as exc:
            self.image, self.rejected_upload = None, Path(path).name
            return None, (f"**{ERROR}** {text_markdown(ui_message(exc))}\n\n_Until an image is accepted, code "
                          "requests use a synthetic test image._")
        self.rejected_upload = None
        return str(self.image.preview), self.image.markdown() + "\n\n_Code requests will use this image._"

    def set_pixel_size(self, text: str) -> str:
        """Calibrate the uploaded image with the pixel size the user typed; returns the panel's markdown."""
        return self._calibrate(text, with_pixel_size, "its pixel size here if the file does not state it",
                               "this pixel size")

    def set_z_step(self, text: str) -> str:
        """Give the uploaded z-stack its z step (µm between planes); returns the panel's markdown."""
        return self._calibrate(text, with_z_step, "its z step here if it is a z-stack that does not state it",
                               "this z step")

    def _calibrate(self, text: str, apply: Any, ask_for: str, done: str) -> str:
        """The uploaded image with ``apply(image, text, workdir)``: its panel markdown, or the error below it."""
        if self.image is None:
            return f"_Upload an image first; then give {ask_for}._"
        if not str(text or "").strip():
            return self.image.markdown()
        try:
            self.image = apply(self.image, text, self.workdir)
        except ConfigurationError as exc:
            return self.image.markdown() + f"\n\n**{ERROR}** {text_markdown(ui_message(exc))}"
        return self.image.markdown() + f"\n\n_Code requests will use this image with {done}._"

    # --- feedback & export --------------------------------------------------------------------
    def rate(self, rating: Rating, comment: str = "") -> str:
        """Save a rating of the last answer; returns a confirmation line."""
        if not self.turns:
            return "Ask something first; feedback applies to the last answer."
        self.feedback.record(self.turns[-1], rating, comment, session_id=self.id, backend=self.settings.backend)
        question = self.turns[-1].question
        shown = inline_text(question[:60] + ("…" if len(question) > 60 else ""))
        return f"Thanks — saved your rating (**{'helpful' if rating == 'up' else 'not helpful'}**) for “{shown}”."

    def export(self) -> list[str]:
        """Write the conversation as Markdown and as a notebook; returns both paths."""
        if not self.turns:
            raise ConfigurationError("nothing to export yet", hint="ask a question first")
        stem = f"scopebot-{time.strftime('%Y%m%d-%H%M%S')}"
        md, nb = write_exports(self.turns, self.workdir / "exports", stem)
        return [str(md), str(nb)]

    # --- settings ---------------------------------------------------------------------------
    def apply_settings(self, **changes: Any) -> str:
        """Change backend/mode/strictness; the next turn uses a new assistant. Returns a summary."""
        self.settings = self.settings.updated(**changes)
        self._assistant = None
        return "Settings applied: " + self.settings.describe()

    def apply_settings_form(self, **changes: Any) -> tuple[str, str, str, str, str, bool]:
        """The Settings tab's Apply: returns the status line and the form's backend, endpoint, model, answer
        mode and strictness.

        The returned form values are always the settings now active: after a refusal the form shows what
        is still in use (not the refused input), and the status line says which settings are active."""
        try:
            msg = self.apply_settings(**changes)
        except ScopebotError as exc:
            msg = (f"**{ERROR}** not applied: {text_markdown(ui_message(exc))}\n\n"
                   f"Still active: {self.settings.describe()}")
        active = self.settings
        return msg, active.backend, active.base_url or "", active.model or "", active.answer_mode, active.strict


def _final_result(event: Any) -> Any:
    """The ``TurnResult`` carried by a stream event (or the event itself when it is one), else None."""
    if getattr(event, "type", None) == "final":
        return getattr(event, "result", None)
    if hasattr(event, "kind") and hasattr(event, "route"):
        return event
    return None
