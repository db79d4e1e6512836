"""The Gradio web UI: one chat for questions, code and tools, with sources, checks, code and uploads.

:func:`create_app` builds the page around injected :class:`~scopebot.ui.services.UIServices` (the
real :class:`~scopebot.ui.services.Services`, or a fake in tests); :func:`launch` starts it with the
queue, the optional login and offline-safe options. Nothing on the page is fetched from outside the
server: system fonts, no analytics, no CDN assets.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from scopebot.settings import Settings
from scopebot.ui import plan_panel
from scopebot.ui.controls import ui_message
from scopebot.ui.history import FeedbackStore
from scopebot.ui.images import DEFAULT_MAX_MB
from scopebot.ui.render import ERROR, WORKING
from scopebot.ui.safety import LATEX_DELIMITERS, text_markdown
from scopebot.ui.services import ANSWER_MODES, Services, SessionSettings, UIServices, parse_auth
from scopebot.ui.session import ChatSession, View
from scopebot.ui.style import CSS

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
log = logging.getLogger("scopebot.ui")

TABS = ("sources", "code", "tools", "image", "settings")
ROUTE_BUTTONS = [("Auto", "auto"), ("Question", "question"), ("Code", "code"), ("Tools", "tool"),
                 ("Forum", "forum")]
INTRO = ("# scopebot\nAsk about microscopy and bioimage analysis. Questions get answers from the "
         "sources with numbered citations; code requests are run in a sandbox; tool requests give "
         "recommendations. The route is picked automatically — use the mode buttons to override.")


def theme() -> Any:
    """A theme with system fonts only (the default one would fetch web fonts)."""
    import gradio as gr

    return gr.themes.Default(font=[gr.themes.Font("system-ui"), gr.themes.Font("Segoe UI"), "sans-serif"],
                             font_mono=[gr.themes.Font("ui-monospace"), gr.themes.Font("DejaVu Sans Mono"),
                                        "monospace"])


def create_app(services: UIServices | Callable[[SessionSettings], Any], settings: Settings, *,
               max_upload_mb: float | None = None) -> Any:
    """Build the ``gr.Blocks`` page; ``services`` is a :class:`UIServices` or an assistant factory."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr

    if isinstance(services, UIServices):
        svc: UIServices = services
    else:
        factory = services
        svc = Services(settings, assistant_factory=lambda _services, session: factory(session))
    feedback = FeedbackStore(settings.feedback_path)
    limit = max_upload_mb or float(getattr(settings, "upload_max_mb", DEFAULT_MAX_MB))
    defaults = SessionSettings.from_settings(settings)

    def session_of(state: ChatSession | None) -> ChatSession:
        return state if state is not None else ChatSession(svc, feedback, defaults, max_upload_mb=limit)

    with gr.Blocks(title="scopebot", analytics_enabled=False) as demo:
        # per-session state; its temporary files go when Gradio drops the session
        state = gr.State(None, delete_callback=_close_session)
        # the session exists from page load, so two questions sent at once belong to the same one
        demo.load(session_of, [state], [state], api_name=False, show_progress="hidden")
        gr.Markdown(INTRO, elem_id="intro")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=420):
                # user text arrives escaped (ui.safety); Gradio's sanitiser is the second layer, with no
                # extra tags allowed; maths by the KaTeX bundled in Gradio's frontend
                chat = gr.Chatbot(elem_id="chat", label="Conversation", height=560, feedback_options=None,
                                  buttons=["copy"], placeholder="Ask a question, request code, or ask for a tool.",
                                  sanitize_html=True, allow_tags=False, latex_delimiters=LATEX_DELIMITERS)
                route = gr.Radio(ROUTE_BUTTONS, value="auto", label="Mode", elem_id="route-mode")
                with gr.Row():
                    # Enter sends, Shift+Enter adds a line; the label is not shown but names the field for
                    # screen readers (without one Gradio calls it "Textbox")
                    question = gr.Textbox(label="Your question", elem_id="question", show_label=False, scale=8,
                                          lines=1, max_lines=6,
                                          placeholder="e.g. How do I choose a threshold method for nuclei?")
                    send = gr.Button("Send", variant="primary", elem_id="send", scale=1, min_width=90)
                status = gr.Markdown("", elem_id="progress")
                with gr.Row():
                    # text labels: emoji-only icons are empty boxes where no emoji font is installed
                    up = gr.Button("Helpful", elem_id="thumbs-up", size="sm", min_width=90, scale=1)
                    down = gr.Button("Not helpful", elem_id="thumbs-down", size="sm", min_width=110, scale=1)
                    comment = gr.Textbox(label="Comment on the last answer", elem_id="feedback-comment",
                                         show_label=False, scale=4,
                                         placeholder="Optional comment on the last answer")
                    export = gr.Button("Export (Markdown + notebook)", elem_id="export", size="sm", scale=2)
                feedback_status = gr.Markdown("", elem_id="feedback-status")
                export_files = gr.File(label="Exports", elem_id="export-files", file_count="multiple",
                                       interactive=False, visible=False)
            with gr.Column(scale=1, min_width=360):
                with gr.Tabs(selected="sources", elem_id="panels") as tabs:
                    with gr.Tab("Sources", id="sources", elem_id="tab-sources"):
                        # Markdown components, so that maths in passages renders (KaTeX); their HTML is
                        # built from escaped text (render.py) and sanitised again by Gradio
                        checks = gr.Markdown('<div class="sb-checks sb-empty">No checks yet.</div>', elem_id="checks",
                                             latex_delimiters=LATEX_DELIMITERS, sanitize_html=True)
                        sources = gr.Markdown('<div class="sb-sources sb-empty">No sources yet.</div>',
                                              elem_id="sources", latex_delimiters=LATEX_DELIMITERS, sanitize_html=True)
                    with gr.Tab("Code", id="code", elem_id="tab-code"):
                        code = gr.Code("", language="python", label="Code (editable, copy button top right)",
                                       interactive=True, elem_id="code", lines=12)
                        run = gr.Button("Run in sandbox", variant="primary", elem_id="run",
                                        interactive=svc.code_execution)
                        if not svc.code_execution:
                            gr.Markdown("_Code execution is disabled on this server (no login configured). "
                                        "Copy the code and run it locally._", elem_id="run-disabled")
                        run_output = gr.Markdown("", elem_id="run-output")
                        figures = gr.Gallery(label="Figures", elem_id="figures", columns=2, height=300)
                        with gr.Accordion("Repair rounds", open=False, elem_id="rounds-box"):
                            rounds = gr.Markdown("", elem_id="rounds")
                        plan_box = plan_panel.build(gr, svc.code_execution)
                    with gr.Tab("Tools", id="tools", elem_id="tab-tools"):
                        tools = gr.HTML('<div class="sb-cards sb-empty">No recommendations yet.</div>',
                                        elem_id="tools")
                    with gr.Tab("Image", id="image", elem_id="tab-image"):
                        upload = gr.File(label="Upload TIFF / OME-TIFF / PNG / JPEG", elem_id="upload",
                                         file_count="single", type="filepath")
                        preview = gr.Image(label="Preview", elem_id="preview", type="filepath",
                                           interactive=False, height=260)
                        image_meta = gr.Markdown("_No image. Code requests use a synthetic test image._",
                                                 elem_id="image-meta")
                        pixel_size = gr.Textbox(label="Pixel size (µm per pixel)", elem_id="pixel-size", lines=1,
                                                placeholder="e.g. 0.65 (needed when the file does not state it)")
                        z_step = gr.Textbox(label="Z step (µm between planes, z-stacks only)", elem_id="z-step",
                                            lines=1, placeholder="e.g. 0.5 (for volumes, when the file does not "
                                                                 "state it)")
                    with gr.Tab("Settings", id="settings", elem_id="tab-settings"):
                        backend = gr.Radio(["embedded", "openai"], label="Backend", elem_id="backend",
                                           value=defaults.backend if defaults.backend in ("embedded", "openai")
                                           else "embedded")
                        base_url = gr.Textbox(label="Endpoint URL (OpenAI-compatible)", value=defaults.base_url or "",
                                              placeholder="http://127.0.0.1:8080/v1", elem_id="base-url")
                        model = gr.Textbox(label="Model", value=defaults.model or "", elem_id="model-name")
                        api_key = gr.Textbox(label="API key (never shown or logged)", type="password", value="",
                                             elem_id="api-key", placeholder="leave empty to keep the current key")
                        mode = gr.Radio(list(ANSWER_MODES), value=defaults.answer_mode, label="Answer mode",
                                        elem_id="answer-mode")
                        strict = gr.Checkbox(value=defaults.strict, label="Strict: remove unsupported sentences",
                                             elem_id="strict")
                        apply = gr.Button("Apply settings", elem_id="apply-settings")
                        settings_status = gr.Markdown(defaults.describe(), elem_id="settings-status")

        panel_outputs = [chat, status, sources, checks, code, run_output, figures, rounds, tools, tabs]

        def to_updates(view: View) -> list[Any]:
            values = [view.chat, view.status, view.sources, view.checks, view.code, view.run_output,
                      view.figures, view.rounds, view.tools]
            out: list[Any] = [gr.skip() if v is None else v for v in values]
            out.append(gr.Tabs(selected=view.tab) if view.tab else gr.skip())
            return out

        def on_send(text: str, mode_choice: str, st: ChatSession | None) -> Iterator[list[Any]]:
            session = session_of(st)
            yield [*to_updates(View()), "", session]
            for view in session.ask(text, mode_choice or "auto"):
                yield [*to_updates(view), gr.skip(), session]

        send_outputs = [*panel_outputs, question, state]
        def on_plan_refresh(st: ChatSession | None) -> list[Any]:
            found = plan_panel.last_plan(st) if st is not None else None
            return plan_panel.plan_values(found[1] if found else None)

        for trigger in (send.click, question.submit):
            # a new turn clears the line of the last rating or export (an old error must not linger)
            trigger(lambda: "", None, feedback_status, api_name=False, queue=False, show_progress="hidden")
            # "multiple": Enter pressed again while an answer streams queues the new question (the
            # session runs its turns in order) instead of Gradio's default of ignoring it
            trigger(on_send, [question, route, state], send_outputs, concurrency_id="turn",
                    show_progress="minimal", trigger_mode="multiple",
                    api_name="ask" if trigger == send.click else False
                    ).then(on_plan_refresh, [state], plan_box.fields, api_name=False)

        def on_plan_rerun(*args: Any) -> list[Any]:
            *values, st = args
            session = session_of(st)
            rv = plan_panel.press_rerun(session, values)
            view = View(status=rv.status, code=rv.code, run_output=rv.run_output, figures=rv.figures,
                        tab="code" if rv.code is not None else None)
            text = gr.skip() if rv.plan_text is None else rv.plan_text
            return [*to_updates(view), text, rv.plan_status, session]

        plan_box.button.click(on_plan_rerun, [*plan_box.inputs, state],
                              [*panel_outputs, plan_box.text, plan_box.status, state],
                              concurrency_id="sandbox", show_progress="full", api_name=False)

        def on_run(src: str, st: ChatSession | None) -> list[Any]:
            session = session_of(st)
            return [*to_updates(session.run_code(src)), session]

        run.click(on_run, [code, state], [*panel_outputs, state], concurrency_id="sandbox",
                  show_progress="full", api_name="run")

        def on_upload(path: str | None, st: ChatSession | None) -> Iterator[tuple[Any, str, ChatSession]]:
            session = session_of(st)
            if path:  # a large stack takes seconds to decode: say so at once
                name = text_markdown(Path(path).name)
                yield gr.skip(), f"_{WORKING} reading {name} and making a preview…_", session
            pre, meta = session.upload(path)
            yield pre, meta, session

        upload.change(on_upload, [upload, state], [preview, image_meta, state], api_name=False)

        def on_pixel_size(text: str, st: ChatSession | None) -> tuple[str, ChatSession]:
            session = session_of(st)
            return session.set_pixel_size(text), session

        for trigger in (pixel_size.submit, pixel_size.blur):
            trigger(on_pixel_size, [pixel_size, state], [image_meta, state], api_name=False)

        def on_z_step(text: str, st: ChatSession | None) -> tuple[str, ChatSession]:
            session = session_of(st)
            return session.set_z_step(text), session

        for trigger in (z_step.submit, z_step.blur):
            trigger(on_z_step, [z_step, state], [image_meta, state], api_name=False)

        def on_rate(rating: str) -> Callable[[str, ChatSession | None], tuple[str, str, ChatSession]]:
            def handler(text: str, st: ChatSession | None) -> tuple[str, str, ChatSession]:
                session = session_of(st)
                return session.rate(rating, text), "", session  # type: ignore[arg-type]
            return handler

        up.click(on_rate("up"), [comment, state], [feedback_status, comment, state], api_name=False)
        down.click(on_rate("down"), [comment, state], [feedback_status, comment, state], api_name=False)

        def on_export(st: ChatSession | None) -> tuple[Any, str, ChatSession]:
            session = session_of(st)
            try:
                files = session.export()
                return gr.File(value=files, visible=True), "Exported the conversation.", session
            except Exception as exc:  # noqa: BLE001 - shown to the user
                return gr.skip(), f"**{ERROR}** {text_markdown(ui_message(exc))}", session

        export.click(on_export, [state], [export_files, feedback_status, state], api_name=False)

        def on_apply(b: str, url: str, m: str, key: str, am: str, s: bool,
                     st: ChatSession | None) -> tuple[Any, ...]:
            session = session_of(st)
            msg, active_backend, *active = session.apply_settings_form(
                backend=b, base_url=url, model=m, api_key=key, answer_mode=am, strict=bool(s))
            shown = active_backend if active_backend in ("embedded", "openai") else gr.skip()
            # the key field is cleared: the value never comes back to the page; the other fields show the
            # settings now active (after a refusal: the ones still in use)
            return msg, "", shown, *active, session

        apply.click(on_apply, [backend, base_url, model, api_key, mode, strict, state],
                    [settings_status, api_key, backend, base_url, model, mode, strict, state], api_name=False)
    return demo


def _close_session(session: ChatSession | None) -> None:
    if session is not None:
        session.close()


def launch(settings: Settings, services: UIServices | None = None, *, block: bool = True,
           max_upload_mb: float | None = None) -> Any:
    """Start the UI on ``settings.host:settings.port`` with the queue and optional login.

    Returns the ``gr.Blocks`` (already serving when ``block`` is False).
    """
    services = services or Services(settings)
    demo = create_app(services, settings, max_upload_mb=max_upload_mb)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=max(64, settings.concurrency * 16))
    # only the sandbox's output folder (figures, tables) and the demo's; never the whole home
    # (it holds feedback.jsonl and the index)
    allowed = [str(settings.home / "runs"), str(settings.home / "demo")]
    limit = max_upload_mb or float(getattr(settings, "upload_max_mb", DEFAULT_MAX_MB))
    demo.launch(server_name=settings.host, server_port=settings.port, auth=parse_auth(settings.auth),
                auth_message="scopebot: log in to continue", prevent_thread_lock=not block, quiet=not block,
                show_error=False, allowed_paths=allowed, max_file_size=f"{int(limit * 1.1) + 1}mb",
                footer_links=[], theme=theme(), css=CSS, ssr_mode=False, mcp_server=False,
                enable_monitoring=False, pwa=False, i18n=status_i18n())
    return demo


#: Words for the status keys Gradio's screen-reader region announces but its English table lacks (it read
#: out "common.complete" after every finished event).
STATUS_WORDS = {"common.complete": "Done", "common.error": "Error", "common.loading": "Working"}


def status_i18n() -> Any:
    """A ``gr.I18n`` with :data:`STATUS_WORDS` for English (the fallback locale)."""
    import gradio as gr

    return gr.I18n(en=dict(STATUS_WORDS))
