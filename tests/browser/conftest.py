"""Real-browser fixtures: the UI served on 127.0.0.1 in this process, driven by headless Chromium.

Chromium is the system one (``/usr/bin/chromium``, or ``SCOPEBOT_CHROMIUM``); playwright's own
browser download is never used. A missing Chromium or playwright fails these tests instead of
skipping them; deselect them explicitly with ``-m "not browser"``. Every request the page makes is
recorded so tests can assert that nothing is fetched from outside the server. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


CHROMIUM = os.environ.get("SCOPEBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running UI: its URL, its services and every URL the page requested."""

    url: str
    services: Any
    settings: Any
    requests: list[str] = field(default_factory=list)

    def external_requests(self) -> list[str]:
        return [u for u in self.requests
                if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).hostname != "127.0.0.1"]


def chromium_path() -> str:
    """The Chromium binary to drive; a missing one FAILS the browser tests (CI must not go green without them)."""
    found = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    if found is None:
        pytest.fail(f"no Chromium at {CHROMIUM}: install it (apt-get install chromium chromium-driver) or set "
                    "SCOPEBOT_CHROMIUM to its path; to leave the browser tests out on purpose, run "
                    "pytest -m 'not browser'", pytrace=False)
    return found


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the browser tests; closed after them, since playwright's sync API keeps an event
    loop running in this thread while it is open (later tests that call ``asyncio.run`` need none)."""
    try:
        from playwright import sync_api
    except ImportError as exc:
        pytest.fail(f"playwright is not installed ({exc}): pip install -e '.[dev]', or deselect the browser "
                    "tests with pytest -m 'not browser'", pytrace=False)
    executable = chromium_path()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``serve(services_factory, **settings)`` starts the UI on a free port; closed after the test."""
    from scopebot.settings import Settings
    from scopebot.ui.app import launch

    started: list[Any] = []

    def _serve(make_services: Callable[[Any], Any], **overrides: Any) -> Served:
        settings = Settings(**{"home": tmp_path / "home", "host": "127.0.0.1", "port": free_port(),
                               "embedding_model": "hash", **overrides})
        services = make_services(settings)
        started.append(launch(settings, services, block=False))
        return Served(f"http://127.0.0.1:{settings.port}/", services, settings)

    yield _serve
    for demo in started:
        demo.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[[Served], Any]]:
    """``open_page(served)`` opens a fresh browser context on the app, recording every request."""
    contexts: list[Any] = []

    def _open(served: Served) -> Any:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("request", lambda req: served.requests.append(req.url))
        page.set_default_timeout(90_000)  # generous: CI machines have 2 cores and may be busy
        page.goto(served.url, wait_until="load")
        page.wait_for_selector("#question textarea")
        return page

    yield _open
    for ctx in contexts:
        ctx.close()
