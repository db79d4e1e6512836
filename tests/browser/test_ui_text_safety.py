"""User text is text, in a real headless Chromium: chat bubble, feedback line and both exports.

A message with HTML in it (``<img src=x onerror=alert(1)>``, ``<b>bold</b>``) must show those
characters and create no element; the model's own output must not pass raw HTML either, while its
Markdown and maths still render (KaTeX from Gradio's bundle, nothing fetched from outside).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import ask, screenshot

from scopebot.ui.demo import DemoAssistant, DemoServices

pytestmark = [pytest.mark.browser, pytest.mark.integration]

HOSTILE = "<img src=x onerror=alert(1)> and <b>bold</b>"
MODEL_HTML = " <img src=y onerror=alert(2)> <b>model bold</b> **strong words** $$E = mc^2$$"
PASSAGE = ("A passage with <img src=z onerror=alert(3)> in it, **Markdown** formatting and maths: $x^2$.\n\n"
           "```python\nthreshold = 1\n\n\n# *not emphasis* after blank lines\n```")


class HostileAssistant(DemoAssistant):
    """The demo assistant whose answers carry raw HTML, Markdown and maths, as a model's might."""

    def stream_turn(self, text: str, image: Path | None = None, force_route: str | None = None) -> Iterator[Any]:
        for event in super().stream_turn(text, image, force_route):
            if event.type == "final" and event.result.kind == "answer":
                event.result.payload.answer += MODEL_HTML
            yield event


class HostileServices(DemoServices):
    def make_assistant(self, session: Any) -> DemoAssistant:
        assistant = HostileAssistant(self.workdir, self.delay_s)
        self.assistants.append((session, assistant))
        return assistant

    def passage_text(self, key: str) -> str | None:
        return PASSAGE


def _cells_text(notebook: dict[str, Any]) -> str:
    return "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")


def test_user_html_is_shown_as_text_in_bubble_feedback_and_exports(serve, open_page) -> None:
    served = serve(lambda settings: HostileServices(settings))
    page = open_page(served)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    ask(page, HOSTILE)
    user = page.locator("#chat [data-testid='user']").last
    assert user.inner_text().strip() == HOSTILE  # every character shown, literally
    assert user.locator("img").count() == 0 and user.locator("b").count() == 0
    assert page.locator("#chat img[src='x'], #chat img[src='y'], #sources img").count() == 0

    # the model's raw HTML is text too, but its Markdown and maths render
    bot = page.locator("#chat [data-testid='bot']").last
    assert "<img src=y onerror=alert(2)>" in bot.inner_text() and "<b>model bold</b>" in bot.inner_text()
    assert bot.locator("img").count() == 0 and bot.locator("b").count() == 0
    assert bot.locator("strong", has_text="strong words").count() == 1
    assert bot.locator(".katex").count() >= 1

    # the passage in the Sources panel: Markdown rendered, its HTML shown as text
    source = page.locator("#source-1")
    source.locator("summary").click()
    assert "<img src=z onerror=alert(3)>" in source.inner_text()
    assert source.locator("img").count() == 0 and source.locator(".sb-text strong").count() == 1
    assert source.locator(".katex").count() >= 1  # maths renders in the passages too
    assert "# *not emphasis* after blank lines" in source.locator("pre").inner_text()

    # the feedback confirmation quotes the question as text
    page.click("#thumbs-up")
    page.wait_for_function("() => (document.querySelector('#feedback-status')?.innerText || '').includes('saved')")
    status = page.locator("#feedback-status")
    assert HOSTILE in status.inner_text()
    assert status.locator("img").count() == 0 and status.locator("b").count() == 0

    # the exports: the question escaped, no live tag from the user or the model
    page.click("#export")
    page.wait_for_selector("#export-files a[download$='.md']")
    with page.expect_download() as md_download:
        page.locator("#export-files a[download$='.md']").click()
    markdown = Path(md_download.value.path()).read_text(encoding="utf-8")
    with page.expect_download() as nb_download:
        page.locator("#export-files a[download$='.ipynb']").click()
    notebook_md = _cells_text(json.loads(Path(nb_download.value.path()).read_text(encoding="utf-8")))
    for exported in (markdown, notebook_md):
        assert "&lt;img src=x onerror=alert(1)&gt;" in exported and "&lt;b&gt;bold&lt;/b&gt;" in exported
        assert "<img" not in exported and "<b>" not in exported
        # even a renderer that lets raw HTML through (as many Markdown viewers do) builds no tag from it
        from markdown_it import MarkdownIt

        rendered = MarkdownIt("commonmark", {"html": True}).render(exported)
        assert "<img" not in rendered and "<b>" not in rendered

    # user text with maths delimiters and Markdown stays as typed too
    literal = "costs $5 and $10, see [this](javascript:alert(4)) or **that** \\[x\\]"
    ask(page, literal)
    user = page.locator("#chat [data-testid='user']").last
    assert user.inner_text().strip() == literal
    assert user.locator(".katex, a, strong").count() == 0

    screenshot(page, "ui_text_safety")
    assert dialogs == []  # no script ran
    assert served.external_requests() == []  # KaTeX's fonts and styles come from the server


def test_sources_panel_shows_the_current_turn_only(serve, open_page) -> None:
    served = serve(lambda settings: DemoServices(settings))
    page = open_page(served)
    ask(page, "How do I choose a threshold for nuclei?")
    assert page.locator("#sources details").count() == 2
    ask(page, "write python code to count the nuclei")
    page.get_by_role("tab", name="Sources").click()
    assert page.locator("#sources details").count() == 0
    assert "No sources for this turn" in page.locator("#sources").inner_text()
    assert "No checks for this turn" in page.locator("#checks").inner_text()
