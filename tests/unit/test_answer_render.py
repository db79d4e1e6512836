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


def test_two_passages_of_one_section_are_told_apart_in_the_references() -> None:
    from scopebot.agent.render import references
    from scopebot.answer.models import Citation
    from scopebot.answer.render import reference_line

    passages = {p.key: p for p in build_context(retriever().search("StarDist Noise2Void", k=5))}
    a, b = key("stardist"), key("n2v")
    import dataclasses

    first = passages[a]
    chunk = first.result.chunk.model_copy(update={"key": "bk-5ec0d0a1", "position": 1})
    second = dataclasses.replace(first, result=first.result.model_copy(update={"chunk": chunk}))
    passages[second.key] = second
    _, refs = number_citations(f"One [{a}]. Two [{second.key}]. Three [{b}].", passages)
    assert [r.part for r in refs] == [1, 2, 0]  # chunk-level: still two references, each its own key
    lines = [reference_line(r) for r in refs]
    assert "(passage 1)" in lines[0] and "(passage 2)" in lines[1] and "passage" not in lines[2]
    assert "(passage 2)" in references([r.to_json() for r in refs])  # the chat UI's renderer too
    assert Citation(n=1, key="k", title="T", section="S").where == "T — S"


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
