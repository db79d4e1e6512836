"""Helpers for the browser tests: screenshots as artifacts and sending a chat turn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def ask(page: Any, text: str, mode: str | None = None, timeout_ms: int = 90_000) -> None:
    """Type ``text`` (optionally after choosing a mode button), send it, wait until the turn is done."""
    if mode:
        page.locator("#route-mode").get_by_text(mode, exact=True).click()
    before = page.locator("#progress").inner_text()
    replies = page.locator("#chat").inner_text().count("Route:")
    page.fill("#question textarea", text)
    page.click("#send")
    page.wait_for_function(
        """([before, replies]) => {
             const t = document.querySelector('#progress')?.innerText || '';
             const chat = document.querySelector('#chat')?.innerText || '';
             const finished = t.startsWith('Done in') || (t !== before && t.startsWith('Error:'));
             return finished && (t.startsWith('Error:') || chat.split('Route:').length - 1 > replies); }""",
        arg=[before, replies], timeout=timeout_ms)
