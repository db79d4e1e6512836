"""What assistive technology gets from the page: named text fields, and no untranslated status keys."""

from __future__ import annotations

from typing import Any

import pytest

from scopebot.ui.demo import DemoServices

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# every text put into a live status region, recorded from page load
_RECORD_LIVE = """
window.__live = [];
new MutationObserver(() => {
  for (const el of document.querySelectorAll('[role=status], [aria-live]')) {
    const t = (el.textContent || '').trim();
    if (t && window.__live[window.__live.length - 1] !== t) window.__live.push(t);
  }
}).observe(document.documentElement, {subtree: true, childList: true, characterData: true});
"""


def demo(settings: Any) -> DemoServices:
    return DemoServices(settings)


def test_text_fields_have_names_and_status_regions_say_words_not_keys(serve, open_page) -> None:
    served = serve(demo)
    page = open_page(served)
    page.evaluate(_RECORD_LIVE)
    # both chat-row text fields have their own accessible name (not Gradio's default "Textbox")
    assert page.get_by_role("textbox", name="Textbox").count() == 0
    assert page.get_by_role("textbox", name="Your question").count() == 1
    assert page.get_by_role("textbox", name="Comment on the last answer").count() == 1
    page.click("#send")  # an empty message
    page.wait_for_function("() => (document.querySelector('#progress')?.innerText || '').startsWith('Type a')")
    page.wait_for_timeout(1500)
    page.fill("#question textarea", "How do I choose a threshold?")
    page.click("#send")
    page.wait_for_function("() => (document.querySelector('#progress')?.innerText || '').startsWith('Done in')")
    page.wait_for_timeout(6000)  # Gradio spaces its announcements up to 5 s apart
    live = page.evaluate("() => window.__live")
    assert live, "no status announcement was recorded at all"
    assert not [t for t in live if "common." in t or "status." in t], live
    assert "Done" in live, live  # the finished event is announced in words
