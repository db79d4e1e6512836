"""One browser session without a browser: streaming turns, panels, runs, uploads, feedback, export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from scopebot.errors import ConfigurationError
from scopebot.settings import Settings
from scopebot.ui.demo import DemoServices
from scopebot.ui.history import FeedbackStore
from scopebot.ui.services import SessionSettings
from scopebot.ui.session import ChatSession


def _session(tmp_path: Path, services: object | None = None,
             interval: float = 0.0) -> tuple[ChatSession, DemoServices]:
    settings = Settings(home=tmp_path / "home")
    svc = services or DemoServices(settings)
    session = ChatSession(svc, FeedbackStore(settings.feedback_path), SessionSettings(),  # type: ignore[arg-type]
                          stream_interval_s=interval)
    return session, svc  # type: ignore[return-value]


def test_question_streams_progress_then_answer_and_panels(tmp_path: Path) -> None:
    session, _ = _session(tmp_path)
    views = list(session.ask("How do I choose a threshold?"))
    statuses = [v.status for v in views if v.status]
    assert statuses[0] == "Working: routing…" and any("retrieving" in s for s in statuses)
    assert any(s == "Working: writing the answer…" for s in statuses)  # deltas were streamed
    final = views[-1]
    assert final.status.startswith("Done in ")
    assert final.tab == "sources" and "<details" in final.sources and "sb-flag" in final.checks
    assert final.chat[-1]["content"].startswith("_Route: **question")
    assert final.chat[0] == {"role": "user", "content": "How do I choose a threshold?"}


def test_streamed_text_updates_are_throttled(tmp_path: Path) -> None:
    session, _ = _session(tmp_path, interval=60.0)
    views = list(session.ask("How do I choose a threshold?"))
    assert not any(v.status == "Working: writing the answer…" for v in views)
    assert "[2]" in views[-1].chat[-1]["content"]  # the final reply still has the whole text


def test_forced_route_is_passed_and_shown(tmp_path: Path) -> None:
    session, _ = _session(tmp_path)
    final = list(session.ask("How do I choose a threshold?", route="tool"))[-1]
    assert final.tab == "tools" and "sb-card" in final.tools
    assert "chosen by you" in final.chat[-1]["content"]


def test_code_answer_shows_code_figures_and_rounds_and_run_button_runs(tmp_path: Path) -> None:
    session, _ = _session(tmp_path)
    final = list(session.ask("write python code to count nuclei"))[-1]
    assert final.tab == "code" and "threshold_otsu" in final.code
    assert final.figures and Path(final.figures[0]).is_file()
    assert {"path": final.figures[0], "alt_text": "figure"} in [m["content"] for m in final.chat]
    assert "Round 2" in final.rounds
    view = session.run_code(final.code)
    assert view.status.startswith("Done: sandbox run OK") and "objects: 9" in view.run_output
    assert session.turns[-1].runs and Path(view.figures[0]).is_file()


def test_errors_become_messages_not_tracebacks(tmp_path: Path) -> None:
    class Broken:
        def stream_turn(self, text: str, image: object = None, force_route: object = None):
            yield from ()
            raise ConfigurationError("the index is missing", hint="run scopebot ingest")

    class Svc(DemoServices):
        def make_assistant(self, session: SessionSettings) -> Broken:
            return Broken()

    session, _ = _session(tmp_path, Svc(Settings(home=tmp_path / "home")))
    final = list(session.ask("anything"))[-1]
    assert "**Error:** the index is missing" in final.chat[-1]["content"] and "run scopebot ingest" in final.chat[-1]["content"]
    assert list(session.ask("   "))[-1].status.startswith("Type a question")


def test_upload_is_used_by_the_assistant(tmp_path: Path) -> None:
    session, svc = _session(tmp_path)
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, np.zeros((8, 8), "uint16"))
    preview, meta = session.upload(str(path))
    assert preview and Path(preview).is_file() and "`8 × 8`" in meta and "uint16" in meta
    final = list(session.ask("write python code to count nuclei"))[-1]
    assert final.chat[-1]["content"]["path"]
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    assert session.upload(str(bad))[1].startswith("**Error:** notes.txt is not a TIFF")
    assert session.image is None


def test_feedback_export_and_settings(tmp_path: Path) -> None:
    session, svc = _session(tmp_path)
    assert "Ask something first" in session.rate("up")
    list(session.ask("How do I choose a threshold?"))
    assert "saved" in session.rate("down", "missing a caveat")
    rows = session.feedback.read()
    assert rows[0]["rating"] == "down" and rows[0]["comment"] == "missing a caveat"
    md, nb = session.export()
    assert Path(md).read_text().count("##") >= 1 and nb.endswith(".ipynb")
    msg = session.apply_settings(backend="openai", base_url="http://127.0.0.1:9/v1", api_key="sk-hidden",
                                 answer_mode="extractive", strict=True)
    assert "sk-hidden" not in msg and "API key set (hidden)" in msg
    list(session.ask("again"))
    assert svc.assistants[-1][0].strict is True  # a new assistant was built with the new settings


def test_a_question_sent_during_another_waits_and_both_are_answered_in_order(tmp_path: Path) -> None:
    import threading

    session, _ = _session(tmp_path)
    first = session.ask("How do I choose a threshold?")
    assert next(first).status == "Working: routing…"  # the first turn holds the session now
    second_views: list = []
    second = threading.Thread(target=lambda: second_views.extend(session.ask("write python code to count nuclei")))
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting, not dropped and not interleaved
    rest = list(first)
    second.join(30)
    assert not second.is_alive() and rest[-1].status.startswith("Done in ")
    assert second_views[0].status == "Working: waiting for the previous question to finish…"
    assert second_views[-1].status.startswith("Done") and second_views[-1].tab == "code"
    users = [m["content"] for m in session.chat if m["role"] == "user"]
    assert users == ["How do I choose a threshold?", "write python code to count nuclei"]


def _declined_session(tmp_path: Path, request: str) -> tuple[ChatSession, object]:
    from scopebot.agent.models import AgentEvent, TurnResult
    from scopebot.code.assistant import CodeAssistant
    from scopebot.llm.scripted import ScriptedModel
    from tests.unit.code_fakes import ExecSandbox

    coder = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path / "sb"), None)  # type: ignore[arg-type]
    payload = coder.run(request)

    class Declining:
        def stream_turn(self, text: str, image: object = None, force_route: object = None):
            yield AgentEvent(type="final", result=TurnResult(text=text, route="code", confidence=1.0, kind="code",
                                                             payload=payload, markdown=""))

    class Svc(DemoServices):
        def make_assistant(self, session: SessionSettings) -> Declining:
            return Declining()

    session, _ = _session(tmp_path, Svc(Settings(home=tmp_path / "home")))
    return session, payload


def test_a_declined_code_request_does_not_invite_a_run_or_show_an_empty_plan(tmp_path: Path) -> None:
    from scopebot.ui import plan_panel

    session, payload = _declined_session(tmp_path, "please frobnicate the quux")
    assert payload.declined and not payload.plan.promised()  # type: ignore[attr-defined]
    final = list(session.ask("please frobnicate the quux", route="code"))[-1]
    reply = final.chat[-1]["content"]
    assert "did not run anything" in reply and "Nothing was run" in reply
    assert "press **Run**" not in reply and "Not run yet" not in reply and "promised:" not in reply
    assert final.code == "" and "Nothing was run" in final.run_output
    assert plan_panel.last_plan(session) is None  # the checklist shows "no plan yet", not an empty plan
    assert session.run_code(final.code).status.startswith("There is no code to run")


def test_a_refused_settings_form_shows_the_settings_still_active(tmp_path: Path) -> None:
    session, _ = _session(tmp_path)
    msg, backend, url, model, mode, strict = session.apply_settings_form(
        backend="openai", base_url="http://127.0.0.1:9/v1", model="gpt-x", api_key="", answer_mode="extractive",
        strict=True)
    assert msg.startswith("Settings applied") and (backend, url, model) == ("openai", "http://127.0.0.1:9/v1", "gpt-x")
    for bad_url in ("", "not a url"):
        msg, backend, url, model, mode, strict = session.apply_settings_form(
            backend="openai", base_url=bad_url, model="other", api_key="", answer_mode="generative", strict=False)
        assert msg.startswith("**Error:** not applied") and "Still active: backend **openai** at http://127.0.0.1:9/v1" in msg
        assert (backend, url, model, mode, strict) == ("openai", "http://127.0.0.1:9/v1", "gpt-x", "extractive", True)
        assert session.settings.base_url == "http://127.0.0.1:9/v1"  # the form and the active settings agree
    msg, backend, *_ = session.apply_settings_form(backend="embedded", base_url="http://127.0.0.1:9/v1",
                                                   model="gpt-x", api_key="", answer_mode="auto", strict=False)
    assert backend == "embedded" and "gpt-x" not in msg and "backend **embedded**" in msg


def test_generative_wait_before_the_first_word_says_the_model_is_reading(tmp_path: Path) -> None:
    from scopebot.agent.models import AgentEvent

    class Streaming:  # the agent forwards the answer pipeline's status keys as they are
        def stream_turn(self, text: str, image: object = None, force_route: object = None):
            yield AgentEvent(type="status", text="retrieving")
            yield AgentEvent(type="status", text="generating")
            yield AgentEvent(type="delta", text="A point spread function ")
            raise ConfigurationError("stop here", hint="test")

    class Svc(DemoServices):
        def make_assistant(self, session: SessionSettings) -> Streaming:
            return Streaming()

    session, _ = _session(tmp_path, Svc(Settings(home=tmp_path / "home")))
    session.settings = SessionSettings(answer_mode="generative")
    statuses = [v.status for v in session.ask("What is a PSF?") if v.status]
    assert "Working: retrieving passages from the sources…" in statuses
    reading = statuses.index("Working: the model is reading the sources…")
    assert statuses.index("Working: retrieving passages from the sources…") < reading
    assert statuses[reading + 1] == "Working: writing the answer…"


def _code_reply(final: object) -> str:
    return next(m["content"] for m in reversed(final.chat) if isinstance(m["content"], str))  # type: ignore[attr-defined]


def test_a_code_reply_says_first_when_it_ran_on_the_synthetic_image(tmp_path: Path) -> None:
    session, _ = _session(tmp_path)
    reply = _code_reply(list(session.ask("write python code to count nuclei"))[-1])
    assert "**Not your image:** no image is attached" in reply
    assert reply.index("Not your image") < reply.index("```python")
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    assert "synthetic test image" in session.upload(str(bad))[1]
    reply = _code_reply(list(session.ask("write python code to count nuclei"))[-1])
    assert "**Not your image:** your upload notes.txt was refused" in reply
    good = tmp_path / "cells.tif"
    tifffile.imwrite(good, np.zeros((8, 8), "uint16"))
    session.upload(str(good))
    assert "Not your image" not in _code_reply(list(session.ask("write python code to count nuclei"))[-1])
