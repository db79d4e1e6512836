"""The chat flow a new user found broken in round 17, in a real browser on the real stack.

Real index (the user's, else a small one built here), router, answer pipeline, recommender, code planner and
sandbox; the scripted chat backend. Checks structure and routes, and one number the synthetic image fixes.

- a how-to question with no image is answered, not run as code on the demo image;
- a code follow-up ("and how bright is the GFP in them?") builds on the previous request and answers
  (it declined after a minute, listing the previous script's words as not understood);
- a question about an invented tool ends in the answer route's abstention naming it, with no tool cards.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import tifffile
from browser_helpers import ask, screenshot
from test_ui_e2e_real import _index_home

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def _two_channel_image(path: Path) -> Path:
    """CYX, 0.325 µm: 6 nuclei (DAPI 1000 on 100); GFP 500 in every nucleus on a background of 50."""
    yy, xx = np.mgrid[:128, :128]
    inside = np.zeros((128, 128), bool)
    for cy, cx in [(25, 25), (25, 70), (25, 105), (80, 30), (85, 75), (100, 105)]:
        inside |= (yy - cy) ** 2 + (xx - cx) ** 2 <= 64
    dapi = np.where(inside, 1000, 100).astype(np.uint16)
    gfp = np.where(inside, 500, 50).astype(np.uint16)
    tifffile.imwrite(path, np.stack([dapi, gfp]), ome=True,
                     metadata={"axes": "CYX", "PhysicalSizeX": 0.325, "PhysicalSizeY": 0.325,
                               "Channel": {"Name": ["DAPI", "GFP"]}})
    return path


def _last_reply(page: object) -> str:
    chat = page.locator("#chat").inner_text()  # type: ignore[attr-defined]
    return chat[chat.rfind("Route:"):]


def test_how_to_code_follow_up_and_invented_tool_in_the_browser(serve, open_page, tmp_path: Path) -> None:
    from scopebot.ui.services import Services

    where = _index_home(tmp_path)
    served = serve(lambda settings: Services(settings), llm_backend="scripted", answer_mode="extractive",
                   sandbox_workers=0, **where)
    try:
        page = open_page(served)
        ask(page, "How do I separate touching nuclei before counting them?", timeout_ms=180_000)
        reply = _last_reply(page)
        assert reply.startswith("Route: question"), reply[:300]
        assert "synthetic test image" not in reply

        page.get_by_role("tab", name="Image").click()
        page.locator("#upload input[type=file]").set_input_files(str(_two_channel_image(tmp_path / "two.ome.tif")))
        page.wait_for_function("() => (document.querySelector('#image-meta')?.innerText || '').includes('shape')")
        ask(page, "count the nuclei and give me their mean area in um2", timeout_ms=240_000)
        reply = _last_reply(page)
        assert reply.startswith("Route: code") and re.search(r"\bcount\s*[=:]\s*6\b", reply), reply[:600]

        ask(page, "and how bright is the GFP in them?", timeout_ms=240_000)
        reply = _last_reply(page)
        assert reply.startswith("Route: code"), reply[:300]
        assert "not understood" not in reply and "I cannot answer" not in reply, reply[:1500]
        found = re.search(r"mean_intensity_c2\s*[=:]\s*([0-9][0-9.]*)", reply)
        assert found, reply[:1500]
        assert 450 <= float(found.group(1)) <= 500, reply[:1500]  # GFP inside the nuclei (500; rims blur it)
        screenshot(page, "ui_followup_real_code")

        ask(page, "What is the DeepBlobby3D plugin for napari good for?", timeout_ms=180_000)
        reply = _last_reply(page)
        assert "DeepBlobby3D" in reply and "I did not answer" in reply, reply[:600]
        assert "Napari-aicsimageio" not in reply and page.locator("#tools .sb-card").count() == 0
        assert "Error:" not in page.locator("#progress").inner_text()
        assert served.external_requests() == []
    finally:
        served.services.close()
