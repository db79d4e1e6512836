"""Deep links in normal CLI output are printed whole and on one line (80 and 100 columns)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from scopebot.cli import app
from scopebot.index.builder import IndexBuilder
from scopebot.index.embeddings import HashEmbedder
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec
from scopebot.tools.models import ParsedRequest, Recommendation, ToolResult
from scopebot.tools.render import print_recommendation

LONG = "https://bioimage.io/#/artifacts/zero/Notebook_Noise2Void_3D_ZeroCostDL4Mic_with_a_long_tail"
DEEP = "https://training.example.org/restoration/noise2void-self-supervised-denoising/index.html#training-a-model"


@pytest.mark.parametrize("width", [80, 100])
def test_recommendation_links_and_headers_are_whole(width: int) -> None:
    rec = Recommendation(query="denoise", parsed=ParsedRequest(text="denoise"), message="2 tool(s) for: denoising", results=[
        ToolResult(name="Noise2VOID (3D) - ZeroCostDL4Mic", kind="model", score=0.7, why=["denoising"],
                   license="MIT", links={"bioimage.io": LONG, "git_repo": "https://github.com/example/zerocost"}),
        ToolResult(name="QuietPix", kind="tool", score=0.6, interface="library", license="BSD-3-Clause",
                   links={"biii": "https://biii.eu/node/1063"})])
    buf = io.StringIO()
    print_recommendation(Console(file=buf, width=width, color_system=None), rec)
    text = buf.getvalue()
    lines = text.splitlines()
    for url in (LONG, "https://github.com/example/zerocost", "https://biii.eu/node/1063"):
        assert any(url in line for line in lines), (url, text)
    assert "Interface" in text and "License" in text and "Int…" not in text and "Lic…" not in text
    assert "https://biii.eu…" not in text


@pytest.mark.parametrize("width", ["80", "100"])
def test_search_prints_each_deep_link_whole(tmp_path: Path, width: str) -> None:
    home = tmp_path / "home"
    spec = SourceSpec(id="tr", title="Training", kind="training", license="x", attribution="x",
                      url="https://training.example.org", subpath="x", parser="markdown")
    IndexBuilder(Settings(home=home, embedding_model="hash"), HashEmbedder()).ingest_sections(spec, [Section(
        source_id="tr", kind="training", doc_title="Noise2Void", path=["Noise2Void", "Training a model"],
        anchor="training-a-model", url=DEEP, text="Noise2Void trains on noisy images alone.")])
    res = CliRunner().invoke(app, ["search", "noise2void"], env={"SCOPEBOT_HOME": str(home),
                                                                "SCOPEBOT_EMBEDDING_MODEL": "hash", "COLUMNS": width})
    assert res.exit_code == 0, res.output
    assert any(DEEP in line for line in res.output.splitlines()), res.output
