"""The web UI in headless Chromium against the app on 127.0.0.1, with the demo services.

The demo services (:mod:`scopebot.ui.demo`) stand in for the index and the model; the Run button
uses the real process sandbox, so the figure in the code test comes from real matplotlib code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from browser_helpers import ask, screenshot

from scopebot.ui.demo import DemoServices

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def demo(settings: Any) -> DemoServices:
    return DemoServices(settings)


def test_question_shows_answer_sources_checks_and_fetches_nothing_outside(serve, open_page) -> None:
    served = serve(demo)
    page = open_page(served)
    ask(page, "How do I choose a threshold for nuclei?")
    chat = page.locator("#chat")
    assert "question → grounded answer" in chat.inner_text()
    assert "[1]" in chat.inner_text() and "[2]" in chat.inner_text()
    # sources panel: one expandable entry per citation, with text, section and link
    assert page.locator("#sources details").count() == 2
    page.locator("#source-1 summary").click()
    assert page.locator("#source-1 .sb-text").is_visible()
    assert "Global thresholds" in page.locator("#source-1").inner_text()
    assert page.locator("#source-1 a").get_attribute("href") == "http://127.0.0.1/demo#bk-demo0001"
    # check report at a glance
    checks = page.locator("#checks")
    assert "67%" in checks.inner_text()
    assert page.locator("#checks mark.sb-flag").count() == 1
    assert page.locator("#checks .sb-unknown").inner_text() == "MagicSegmenter3000"
    screenshot(page, "ui_question_answer")
    assert served.requests, "the request recorder saw nothing"
    assert served.external_requests() == []


def test_code_request_runs_in_the_sandbox_with_a_figure(serve, open_page) -> None:
    from scopebot.sandbox import Sandbox

    def services(settings: Any) -> DemoServices:
        return DemoServices(settings, sandbox=Sandbox.from_settings(settings, workers=0))

    served = serve(services)
    page = open_page(served)
    ask(page, "write python code to count the nuclei")
    assert "code → sandboxed analysis" in page.locator("#chat").inner_text()
    assert page.locator("#chat img").count() >= 1  # the figure of the code answer, inline
    assert "threshold_otsu" in page.locator("#code").inner_text()
    page.locator("#rounds-box").click()
    assert "Round 2" in page.locator("#rounds").inner_text()
    figures_before = page.locator("#chat img").count()
    page.click("#run")
    page.wait_for_function("() => (document.querySelector('#progress')?.innerText || '').includes('sandbox run')",
                           timeout=90_000)
    status = page.locator("#progress").inner_text()
    assert status.startswith("Done: sandbox run OK"), status
    assert "objects:" in page.locator("#run-output").inner_text()
    page.wait_for_function(f"() => document.querySelectorAll('#chat img').length > {figures_before}")
    assert page.locator("#figures img").count() >= 1
    screenshot(page, "ui_code_run")
    served.services.sandbox.close()
    assert served.external_requests() == []


def test_upload_shows_preview_and_metadata_and_rejects_non_images(serve, open_page, tmp_path: Path) -> None:
    served = serve(demo)
    page = open_page(served)
    image = tmp_path / "nuclei.ome.tif"
    data = (np.random.default_rng(1).random((2, 64, 80)) * 4000).astype("uint16")
    tifffile.imwrite(image, data, ome=True, metadata={"axes": "ZYX", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2})
    page.locator("#tab-image-button").click() if page.locator("#tab-image-button").count() else \
        page.get_by_role("tab", name="Image").click()
    page.locator("#upload input[type=file]").set_input_files(str(image))
    page.wait_for_function("() => (document.querySelector('#image-meta')?.innerText || '').includes('shape')")
    meta = page.locator("#image-meta").inner_text()
    assert "2 × 64 × 80" in meta and "uint16" in meta and "0.2 × 0.2" in meta
    page.wait_for_selector("#preview img")
    screenshot(page, "ui_upload")
    ask(page, "write python code to count the nuclei")
    assistants = served.services.assistants
    assert assistants and assistants[-1][1].turns == 1
    # a non-image file gets a clear message
    page.get_by_role("tab", name="Image").click()
    page.locator("#upload button[aria-label*='Clear'], #upload button[aria-label*='clear']").first.click() \
        if page.locator("#upload button[aria-label*='lear']").count() else None
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    page.locator("#upload input[type=file]").set_input_files(str(notes))
    page.wait_for_function("() => (document.querySelector('#image-meta')?.innerText || '').includes('not a TIFF')")


def test_export_feedback_and_settings_never_echo_the_key(serve, open_page) -> None:
    served = serve(demo)
    page = open_page(served)
    ask(page, "How do I choose a threshold for nuclei?")
    ask(page, "write python code to count the nuclei")
    # feedback with a comment
    page.fill("#feedback-comment textarea", "useful but cite more")
    page.click("#thumbs-up")
    page.wait_for_function("() => (document.querySelector('#feedback-status')?.innerText || '').includes('saved')")
    rows = [json.loads(line) for line in served.settings.feedback_path.read_text().splitlines()]
    assert rows[-1]["rating"] == "up" and rows[-1]["comment"] == "useful but cite more"
    assert rows[-1]["question"] == "write python code to count the nuclei"
    leak = page.request.get(f"{served.url}gradio_api/file={served.settings.feedback_path}")
    assert leak.status >= 400  # the feedback file of all users is not downloadable
    # export: Markdown + notebook downloadable from the page
    page.click("#export")
    page.wait_for_selector("#export-files a")
    links = page.locator("#export-files a[download]")
    names = [links.nth(i).get_attribute("download") or "" for i in range(links.count())]
    assert any(n.endswith(".md") for n in names) and any(n.endswith(".ipynb") for n in names)
    nb_link = page.locator("#export-files a[download$='.ipynb']")
    with page.expect_download() as download:
        nb_link.click()
    notebook = json.loads(Path(download.value.path()).read_text())
    assert any(c["cell_type"] == "code" and "threshold_otsu" in "".join(c["source"]) for c in notebook["cells"])
    screenshot(page, "ui_export")
    # settings: the key goes in a password field and never comes back
    page.get_by_role("tab", name="Settings").click()
    page.locator("#backend").get_by_text("openai", exact=True).click()
    page.fill("#base-url input, #base-url textarea", "http://127.0.0.1:9/v1")
    page.fill("#api-key input", "sk-test-do-not-show")
    page.click("#apply-settings")
    page.wait_for_function("() => (document.querySelector('#settings-status')?.innerText || '').includes('applied')")
    assert "API key set (hidden)" in page.locator("#settings-status").inner_text()
    assert page.locator("#api-key input").input_value() == ""
    assert page.locator("#api-key input").get_attribute("type") == "password"
    assert "sk-test-do-not-show" not in page.content()
    assert served.external_requests() == []


def test_login_is_required_when_auth_is_set(serve, browser) -> None:
    served = serve(demo, auth="ana:secret1")
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(served.url)
    page.wait_for_selector("input[type=password]")
    assert page.locator("#question").count() == 0
    page.locator("input[type=text], input[name=username]").first.fill("ana")
    page.locator("input[type=password]").fill("secret1")
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#question textarea", timeout=30_000)
    ctx.close()


def test_enter_pressed_again_while_answering_queues_the_next_question(serve, open_page) -> None:
    served = serve(lambda settings: DemoServices(settings, delay_s=2.0))
    page = open_page(served)
    box = page.locator("#question textarea")
    box.fill("How do I choose a threshold for nuclei?")
    box.press("Enter")
    page.wait_for_function("() => (document.querySelector('#question textarea')?.value || '') === ''")
    box.fill("Which tool tracks cells?")
    box.press("Enter")  # the first answer is still being written
    page.wait_for_function(
        "() => (document.querySelector('#chat')?.innerText || '').split('Route:').length - 1 >= 2"
        " && (document.querySelector('#progress')?.innerText || '').startsWith('Done in')", timeout=90_000)
    users = [u.inner_text().strip() for u in page.locator("#chat [data-testid='user']").all()]
    assert users == ["How do I choose a threshold for nuclei?", "Which tool tracks cells?"]
    assert page.locator("#chat").inner_text().count("Route:") == 2


def test_an_export_error_goes_when_the_next_question_is_asked(serve, open_page) -> None:
    served = serve(demo)
    page = open_page(served)
    page.click("#export")  # nothing to export yet
    page.wait_for_function(
        "() => (document.querySelector('#feedback-status')?.innerText || '').includes('nothing to export')")
    ask(page, "How do I choose a threshold for nuclei?")
    assert "nothing to export" not in page.locator("#feedback-status").inner_text()
