"""User text stays text; model and source text keeps its Markdown but no raw HTML; errors name controls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from scopebot.agent.models import TurnResult
from scopebot.answer.models import Answer, CheckReport
from scopebot.errors import ConfigurationError, ModelError
from scopebot.settings import Settings
from scopebot.ui import render
from scopebot.ui.controls import ui_message
from scopebot.ui.demo import DemoServices, demo_answer
from scopebot.ui.history import FeedbackStore, TurnRecord, to_markdown, to_notebook
from scopebot.ui.safety import fenced, inline_text, markdown_html, no_raw_html, safe_url, text_markdown
from scopebot.ui.services import SessionSettings
from scopebot.ui.session import ChatSession

HOSTILE = "<img src=x onerror=alert(1)> and <b>bold</b>"
#: A renderer that lets raw HTML through, as a lenient Markdown viewer would: the worst case for our output.
LENIENT = MarkdownIt("commonmark", {"html": True})


def plain(markdown: str) -> str:
    """What a reader sees: the Markdown rendered with raw HTML allowed, then the tags removed."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", LENIENT.render(markdown))).strip()


@pytest.mark.parametrize("text", [HOSTILE, "**not bold** _nor this_ `nor code`", "# not a heading",
                                  "- not a list\n1. nor this", "[a link](javascript:alert(1)) ![img](http://x/y.png)",
                                  "a | table | row", "~~strike~~", "&lt;already an entity&gt;",
                                  "    indented line stays text", "x < y and y > z & more", "===\n---"])
def test_user_text_renders_as_exactly_the_typed_characters(text: str) -> None:
    md = text_markdown(text)
    rendered = LENIENT.render(md)
    for tag in ("<img", "<b>", "<strong", "<em", "<a ", "<code", "<h1", "<li", "<pre", "<del", "<hr"):
        assert tag not in rendered, (tag, rendered)
    assert " ".join(plain(md).split()) == " ".join(text.split())


def test_user_text_cannot_open_maths() -> None:
    md = text_markdown("costs $5 and $10, or \\(x\\) and \\[y\\]")
    for delimiter in ("$", "\\(", "\\[", "\\)", "\\]"):
        assert delimiter not in md  # the KaTeX pass reads the source: no delimiter may survive
    assert plain(md) == "costs $5 and $10, or \\(x\\) and \\[y\\]"


def test_user_text_keeps_line_breaks() -> None:
    rendered = LENIENT.render(text_markdown("first line\nsecond line"))
    assert "first line<br />\nsecond line" in rendered


def test_model_markdown_keeps_formatting_but_no_raw_html() -> None:
    md = no_raw_html("**bold** and <b>raw</b> <img src=x onerror=alert(1)> <!-- hidden --> <https://fiji.sc>\n"
                     "`a < b` in code\n```python\nif a < b:\n    print('<b>')\n```\n<div onclick=x>block</div>")
    rendered = LENIENT.render(md)
    assert "<strong>bold</strong>" in rendered and '<a href="https://fiji.sc">' in rendered
    assert "<b>" not in rendered and "<img" not in rendered and "<div" not in rendered and "<!--" not in rendered
    assert "<code>a &lt; b</code>" in rendered  # code keeps its characters (not a double-escaped &amp;lt;)
    assert "if a &lt; b:" in rendered and "print('&lt;b&gt;')" in rendered


def test_model_markdown_images_become_links_so_nothing_is_fetched() -> None:
    rendered = LENIENT.render(no_raw_html("See ![a chart](http://elsewhere.example/track.png) and `![kept](x)`"))
    assert "<img" not in rendered and 'href="http://elsewhere.example/track.png"' in rendered
    assert "<code>![kept](x)</code>" in rendered


def test_escaped_backticks_do_not_open_a_code_span_that_hides_html() -> None:
    rendered = LENIENT.render(no_raw_html("\\`<img src=x onerror=alert(1)>`"))
    assert "<img" not in rendered


def test_a_fence_cannot_be_closed_from_inside() -> None:
    code = "print('```')\n```\n<img src=x onerror=alert(1)>"
    rendered = LENIENT.render(fenced(code, "python"))
    assert rendered.count("<pre>") == 1 and "<img" not in rendered


def test_passages_render_markdown_without_html_images_or_script_links() -> None:
    out = markdown_html("**Otsu** <script>alert(1)</script> ![x](http://elsewhere/x.png) [j](javascript:alert(1)) "
                        "[ok](https://example.org)")
    assert "<strong>Otsu</strong>" in out and "<script" not in out and "&lt;script&gt;" in out
    assert "<img" not in out and 'href="javascript' not in out
    assert 'rel="noopener noreferrer" href="https://example.org"' in out
    assert safe_url("javascript:alert(1)") is None and safe_url("https://fiji.sc") == "https://fiji.sc"


def test_sources_panel_renders_passages_and_refuses_unsafe_links() -> None:
    answer = demo_answer("q")
    answer.citations[0].url = "javascript:alert(1)"
    out = render.sources_html(answer, lambda key: "A **bold** passage <img src=x onerror=alert(1)>")
    assert "<strong>bold</strong>" in out and "<img" not in out
    assert 'href="javascript' not in out and ">javascript:alert(1)</div>" in out  # shown, not linked


def test_reply_markdown_has_no_raw_html_from_the_model() -> None:
    answer = Answer(question="q", answer="Use Otsu <img src=x onerror=alert(1)> **now**.", checks=CheckReport(),
                    citations=[])
    md = render.reply_markdown(TurnResult(text="q", route="question", confidence=0.9, kind="answer", payload=answer))
    assert "<img" not in LENIENT.render(md) and "<strong>now</strong>" in LENIENT.render(md)


def test_exports_escape_the_question_and_keep_answers_free_of_raw_html() -> None:
    turn = TurnRecord(question=HOSTILE, route="question", kind="answer",
                      markdown="An answer <b>raw</b> with **Markdown**.", payload=demo_answer("q"))
    md = to_markdown([turn])
    notebook = to_notebook([turn])
    cells = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    for exported in (md, cells):
        assert "## 1. &lt;img src=x onerror=alert(1)&gt; and &lt;b&gt;bold&lt;/b&gt;" in exported \
            or "## &lt;img src=x onerror=alert(1)&gt; and &lt;b&gt;bold&lt;/b&gt;" in exported
        rendered = LENIENT.render(exported)
        assert "<img" not in rendered and "<b>" not in rendered and "<strong>Markdown</strong>" in rendered
        assert HOSTILE in plain(exported)
    json.dumps(notebook)  # still a valid notebook


def _session(tmp_path: Path) -> ChatSession:
    settings = Settings(home=tmp_path / "home")
    return ChatSession(DemoServices(settings), FeedbackStore(settings.feedback_path), SessionSettings(),
                       stream_interval_s=0.0)


def test_the_session_shows_user_text_and_feedback_as_text(tmp_path: Path) -> None:
    session = _session(tmp_path)
    views = list(session.ask(HOSTILE))
    user = views[-1].chat[0]
    assert user["role"] == "user" and "<" not in user["content"] and plain(user["content"]) == HOSTILE
    confirmation = session.rate("up")
    assert "<img" not in LENIENT.render(confirmation) and HOSTILE in plain(confirmation)
    assert session.turns[-1].question == HOSTILE  # the record keeps what was typed


def test_sources_panel_is_cleared_for_a_turn_without_sources(tmp_path: Path) -> None:
    session = _session(tmp_path)
    answer = list(session.ask("How do I choose a threshold?"))
    assert "<details" in answer[-1].sources
    code = list(session.ask("write python code to count nuclei"))
    assert code[0].sources == render.NO_SOURCES_HTML and code[0].checks == render.NO_CHECKS_HTML  # at once
    assert code[-1].sources == render.NO_SOURCES_HTML and code[-1].checks == render.NO_CHECKS_HTML
    tools = list(session.ask("which plugin should I use?", route="tool"))
    assert tools[-1].sources == render.NO_SOURCES_HTML and tools[-1].tab == "tools"


def test_uncalibrated_upload_asks_for_the_pixel_size_and_uses_it(tmp_path: Path) -> None:
    import numpy as np
    import tifffile

    session = _session(tmp_path)
    assert "Upload an image first" in session.set_pixel_size("0.5")
    path = tmp_path / "raw.tif"
    tifffile.imwrite(path, np.zeros((10, 10), "uint16"), resolution=(1, 1), resolutionunit="NONE")
    _, meta = session.upload(str(path))
    assert "uncalibrated: give the pixel size" in meta and "inch" not in meta
    reply = list(session.ask("write python code to count nuclei"))[-1].chat
    assert any("uncalibrated: give the pixel size" in str(m["content"]) for m in reply)  # the chat asks too
    assert "not a pixel size" in session.set_pixel_size("big")
    meta = session.set_pixel_size("0.5")
    assert "0.5 × 0.5 µm (given by you)" in meta
    assert session.image is not None and session.image.analysis_path != path


def test_errors_name_the_settings_field_not_the_variable() -> None:
    err = ModelError("cannot reach the endpoint http://127.0.0.1:9/v1",
                     hint="check SCOPEBOT_LLM_BASE_URL / is the server running?")
    msg = ui_message(err)
    assert "Settings → Endpoint URL" in msg and "SCOPEBOT_" not in msg
    assert "Settings → API key" in ui_message(ConfigurationError("rejected key", hint="check OPENAI_API_KEY"))
    assert "Settings → Model" in ui_message(ConfigurationError("no such model", hint="set SCOPEBOT_LLM_MODEL=x"))
    # a setting with no control on the page keeps its name: only the operator can change it
    assert "SCOPEBOT_LLM_TIMEOUT" in ui_message(ModelError("slow", hint="raise SCOPEBOT_LLM_TIMEOUT"))


def test_session_errors_use_the_control_names(tmp_path: Path) -> None:
    class Broken:
        def stream_turn(self, text: str, image: object = None, force_route: object = None):
            yield from ()
            raise ModelError("the endpoint did not answer", hint="check SCOPEBOT_LLM_BASE_URL")

    class Svc(DemoServices):
        def make_assistant(self, session: SessionSettings) -> Broken:
            return Broken()

    settings = Settings(home=tmp_path / "home")
    session = ChatSession(Svc(settings), FeedbackStore(settings.feedback_path), SessionSettings())
    final = list(session.ask("hello <b>there</b>"))[-1]
    assert "Settings → Endpoint URL" in final.chat[-1]["content"] and "SCOPEBOT_" not in final.chat[-1]["content"]
    assert final.status.startswith(render.ERROR)
    assert final.sources == render.NO_SOURCES_HTML or final.sources is None


def test_inline_text_is_one_line() -> None:
    assert "\n" not in inline_text("a\nb\n\nc") and plain(inline_text("a\nb")) == "a b"


def test_page_labels_need_no_emoji_font() -> None:
    import inspect
    import unicodedata

    from scopebot.ui import app, render, session

    for module in (app, render, session):
        for ch in set(inspect.getsource(module)):
            assert not (unicodedata.category(ch) == "So" and ord(ch) >= 0x2190 and ch not in "→"), \
                (module.__name__, ch, unicodedata.name(ch, "?"))
