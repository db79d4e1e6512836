"""End to end on the real stack in a real browser: index, router, answer pipeline, code assistant, sandbox.

Uses the user's index (``~/.scopebot/index``, MiniLM) when there is one; otherwise builds a small
index from two offline sources with the hash embedder into a temporary home; fails when neither is
possible (never skips). The chat model is the deterministic ``scripted`` backend (extractive answers, tested
recipes for code), so the test checks structure, never facts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import ask, screenshot

from scopebot.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]
SMALL_SOURCES = ["datacarpentry-image-processing", "awesome-bioimage"]


def _index_home(tmp_path: Path) -> dict[str, Any]:
    """The user's index, else a small one built here; neither possible is a failure, never a skip."""
    user = Settings()
    if (user.index_dir / "manifest.json").is_file():
        return {"home": user.home, "embedding_model": user.embedding_model}
    settings = Settings(home=tmp_path / "e2e-home", embedding_model="hash")
    if not settings.sources_dir.is_dir():
        pytest.fail(f"no index in {user.home} and no offline sources at {settings.sources_dir}: run "
                    "`scopebot ingest` or set SCOPEBOT_SOURCES_DIR", pytrace=False)
    from scopebot.index.builder import IndexBuilder

    IndexBuilder(settings).ingest(SMALL_SOURCES)  # an error here is a failure of the test
    assert (settings.index_dir / "manifest.json").is_file(), "the small index was not built"
    return {"home": settings.home, "embedding_model": "hash"}


def test_real_stack_question_and_code_in_the_browser(serve, open_page, tmp_path: Path) -> None:
    from scopebot.ui.services import Services

    where = _index_home(tmp_path)
    served = serve(lambda settings: Services(settings), llm_backend="scripted", answer_mode="extractive",
                   sandbox_workers=0, **where)
    try:
        page = open_page(served)
        ask(page, "How do I threshold an image to separate objects from the background?", mode="Question",
            timeout_ms=180_000)
        chat = page.locator("#chat").inner_text()
        assert "Route: question" in chat and "chosen by you" in chat
        assert "Error:" not in page.locator("#progress").inner_text()
        # the sources cover thresholding: an abstention here is a failure, not a pass
        assert "Abstained" not in page.locator("#checks").inner_text(), page.locator("#checks").inner_text()
        assert page.locator("#sources details").count() > 0
        assert "[1]" in chat and "% of sentences supported" in page.locator("#checks").inner_text()
        screenshot(page, "ui_e2e_real_answer")
        ask(page, "Write python code to count the nuclei in the image", mode="Code", timeout_ms=240_000)
        chat = page.locator("#chat").inner_text()
        assert "Route: code" in chat
        assert page.locator("#code").inner_text().strip()
        # the code must have run: a failed run (or code that never ran) is not a pass
        assert "Ran in the sandbox" in chat and "The run failed" not in chat, chat[-1500:]
        assert "Error:" not in page.locator("#progress").inner_text()
        screenshot(page, "ui_e2e_real_code")
        assert served.external_requests() == []
    finally:
        served.services.close()
