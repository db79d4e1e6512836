"""``scopebot mcp --http`` (streamable HTTP on 127.0.0.1), driven by the MCP SDK's own client.

The server runs as a separate process with code execution allowed and one allowed folder. The
tests check search and ask over HTTP, a real sandbox run of uploaded and allowed files, the code
assistant running on an allowed image, and that a file outside the allowed folder is refused.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from async_helpers import run_coroutine  # noqa: E402

from scopebot.settings import Settings

pytestmark = pytest.mark.integration
pytest.importorskip("mcp", reason="the scopebot[mcp] extra is not installed")


SERVER_LOG: list[Path] = [Path("/nonexistent")]


def server_log() -> str:
    """The end of the server's log, shown when an assertion fails."""
    return SERVER_LOG[0].read_text(errors="replace")[-3000:] if SERVER_LOG[0].is_file() else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def allowed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import numpy as np
    import tifffile
    from scipy import ndimage as ndi

    folder = tmp_path_factory.mktemp("allowed")
    img = np.zeros((96, 96), dtype=np.float32)
    for y, x in [(20, 20), (20, 70), (70, 30), (60, 75)]:
        img[y, x] = 1.0
    img = ndi.gaussian_filter(img, 4)
    tifffile.imwrite(folder / "cells.tif", (img / img.max() * 60000).astype(np.uint16))
    (folder / "numbers.csv").write_text("a,b\n1,2\n3,4\n")
    return folder


@pytest.fixture(scope="module")
def url(allowed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from scopebot.index.builder import live_dir

    settings = Settings()
    if live_dir(settings) is None:
        pytest.fail(f"no index in {settings.home}: build it with `scopebot ingest` before the integration tests")
    port = free_port()
    exe = shutil.which("scopebot") or str(Path(sys.executable).parent / "scopebot")
    log = SERVER_LOG[0] = tmp_path_factory.mktemp("log") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([exe, "mcp", "--http", "--port", str(port), "--allow-code",
                                 "--allow-path", str(allowed)], stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "SCOPEBOT_FORUM_LIVE": "false"})
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"server exited: {log.read_text()[-2000:]}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the HTTP server did not start in 120 s"
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def results(url: str, allowed: Path) -> dict[str, Any]:
    from mcp import Client

    async def main() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Client(url, read_timeout_seconds=300) as c:
            out["tools"] = {t.name for t in (await c.list_tools()).tools}
            out["search"] = await c.call_tool("search", {"query": "noise2void", "k": 3, "kinds": ["book"]})
            out["ask"] = await c.call_tool("ask", {"question": "What is deconvolution used for in microscopy?"})
            out["run"] = await c.call_tool("run_code", {
                "code": "import pandas as pd\nprint(pd.read_csv('numbers.csv')['b'].sum())\n"
                        "print(open('note.txt').read())",
                "paths": [str(allowed / "numbers.csv")],
                "files": [{"name": "note.txt", "content_base64": "dXBsb2FkZWQ="}]})
            out["escape"] = await c.call_tool("run_code", {"code": "print(1)", "paths": ["/etc/passwd"]})
            out["hostile"] = await c.call_tool("run_code", {"code": "print(open('/etc/passwd').read())"})
            out["analyse"] = await c.call_tool("analyse_image", {"request": "count the nuclei",
                                                                 "image_path": str(allowed / "cells.tif"),
                                                                 "run": True})
            out["planned"] = await c.call_tool("analyse_image", {"request": "count the nuclei",
                                                                 "image_path": str(allowed / "cells.tif")})
        return out

    return run_coroutine(main)


def test_http_lists_tools_and_searches_the_book(results: dict[str, Any]) -> None:
    assert results["tools"] == {"search", "ask", "recommend_tools", "run_code", "analyse_image", "forum_search"}
    hits = results["search"].structured_content["results"]
    assert hits and all(h["kind"] == "book" and h["key"].startswith("bk-") for h in hits)
    ask = results["ask"].structured_content
    assert not ask["abstained"] and ask["citations"]


def test_run_code_sees_uploads_and_allowed_files_only(results: dict[str, Any]) -> None:
    run = results["run"]
    assert not run.is_error, run.content[0].text + server_log()
    data = run.structured_content
    assert data["ok"] and data["stdout"].split() == ["6", "uploaded"]
    assert sorted(data["inputs"]) == ["note.txt", "numbers.csv"]
    assert results["escape"].is_error and "outside the allowed folders" in results["escape"].content[0].text
    hostile = results["hostile"].structured_content
    assert not hostile["ok"] and "root:" not in hostile["stdout"]


def test_analyse_image_runs_the_code_assistant_on_an_allowed_image(results: dict[str, Any]) -> None:
    analyse = results["analyse"]
    assert not analyse.is_error, analyse.content[0].text + server_log()
    data = analyse.structured_content
    assert data["ran"] and data["ok"], data
    assert re.search(r"\b4 objects", data["stdout"]), data["stdout"]  # the synthetic image has 4 blobs
    assert data["image"]["shape"] == [96, 96]
    assert any(block.type == "image" for block in analyse.content)  # the labelled figure, inline


def test_analyse_image_without_run_shows_the_code_the_run_ran_and_is_not_ok(results: dict[str, Any]) -> None:
    planned, ran = results["planned"].structured_content, results["analyse"].structured_content
    assert not results["planned"].is_error, results["planned"].content[0].text
    assert planned["status"] == "not_run" and not planned["ok"] and not planned["ran"]
    assert ran["status"] == "answered"
    assert planned["code"] == ran["code"] and planned["plan_text"] == ran["plan_text"]
