"""Rendering: numbered references, markdown with references and badge, rich terminal output."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from test_answer_fixtures import key, retriever, settings, small_model

from scopebot.answer.context import build_context
from scopebot.answer.pipeline import AnswerPipeline
from scopebot.answer.render import number_citations, print_rich, to_markdown


def test_keys_are_numbered_in_order_of_first_use() -> None:
    passages = {p.key: p for p in build_context(retriever().search("StarDist Noise2Void", k=5))}
    a, b = key("stardist"), key("n2v")
    text, refs = number_citations(f"One [{b}]. Two [{a}] [{b}]. Three [{b}] [{b}]. Bad [bk-00000000].", passages)
    assert text == "One [1]. Two [2][1]. Three [1]. Bad."
    assert [(r.n, r.key) for r in refs] == [(1, b), (2, a)]


def test_markdown_and_rich_output_show_references_links_and_checks(tmp_path: Path) -> None:
    answer = AnswerPipeline(retriever(), small_model(), settings(tmp_path)).answer(
        "Why does StarDist struggle with elongated cells?")
    md = to_markdown(answer)
    assert "**References**" in md and "[1] Segmentation — StarDist <https://example.org/stardist" in md
    assert "checks: 0 invalid citations removed" in md
    buf = io.StringIO()
    print_rich(answer, Console(file=buf, width=120, color_system=None))
    out = buf.getvalue()
    assert "References" in out and "https://example.org/stardist" in out and "checks:" in out


def test_abstained_answer_lists_closest_sources(tmp_path: Path) -> None:
    answer = AnswerPipeline(retriever(), small_model(), settings(tmp_path)).answer(
        "What is a good recipe for sourdough bread?")
    buf = io.StringIO()
    print_rich(answer, Console(file=buf, width=120, color_system=None))
    out = buf.getvalue()
    assert "I could not find this in my sources." in out and "Closest sources" in out
    assert "checks:" not in out


def test_reference_links_are_printed_whole_on_a_narrow_terminal(tmp_path: Path) -> None:
    answer = AnswerPipeline(retriever(), small_model(), settings(tmp_path)).answer(
        "Why does StarDist struggle with elongated cells?")
    buf = io.StringIO()
    print_rich(answer, Console(file=buf, width=40, color_system=None))
    lines = buf.getvalue().splitlines()
    for c in answer.citations:
        assert any(c.url in line for line in lines), c.url  # never cut across two lines
