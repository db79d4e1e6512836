"""Rendering of turns: route line, citations, sources panel, check report, code, tool cards."""

from __future__ import annotations

from pathlib import Path

from scopebot.agent.models import TurnResult
from scopebot.answer.models import Answer, CheckReport
from scopebot.ui import render
from scopebot.ui.demo import demo_answer, demo_code_result, demo_recommendation, write_demo_figure


def test_reply_names_the_route_and_keeps_numbered_citations() -> None:
    answer = demo_answer("q")
    result = TurnResult(text="q", route="question", confidence=0.8, kind="answer", payload=answer)
    md = render.reply_markdown(result)
    assert md.startswith("_Route: **question → grounded answer** (confidence 0.80)_")
    assert "[1]" in md and "[2]" in md
    assert "**Checks flagged:**" in md and "67% of sentences supported" in md and "MagicSegmenter3000" in md
    assert "chosen by you" in render.reply_markdown(result, forced=True)


def test_sources_panel_lists_each_citation_with_text_section_link_and_escapes() -> None:
    answer = demo_answer("q")
    answer.citations[0].title = "<script>alert(1)</script>"
    html = render.sources_html(answer, lambda key: f"full text of {key} & more")
    assert html.count("<details") == 2
    assert 'id="source-1"' in html and 'id="source-2"' in html
    assert "full text of bk-demo0001 &amp; more" in html
    assert "Global thresholds" in html and 'href="http://127.0.0.1/demo#bk-demo0001"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_sources_panel_falls_back_to_snippet_without_lookup() -> None:
    html = render.sources_html(demo_answer("q"), lambda key: None)
    assert "A global threshold splits pixels" in html


def test_check_report_highlights_flagged_sentences_and_unknown_names() -> None:
    html = render.checks_html(demo_answer("q"))
    assert "<b>67%</b>" in html and "sb-warn" in html
    assert '<mark class="sb-flag">The MagicSegmenter3000 plugin always picks the best threshold.</mark>' in html
    assert '<span class="sb-unknown">MagicSegmenter3000</span>' in html
    assert html.count('class="sb-unsup"') == 1 and html.count('class="sb-sup"') == 2


def test_abstention_is_explained() -> None:
    answer = Answer(question="q", answer="", abstained=True, abstain_reason="no passage is about cryo-EM",
                    checks=CheckReport())
    result = TurnResult(text="q", route="question", confidence=0.6, kind="abstention", payload=answer)
    assert "**I did not answer:** no passage is about cryo-EM" in render.reply_markdown(result)
    assert "Abstained:</b> no passage is about cryo-EM" in render.checks_html(answer)


def test_abstention_lists_closest_passages_the_way_the_reference_list_names_them() -> None:
    closest = [c.model_copy(update={"part": 2}) for c in demo_answer("q").citations[:1]]
    answer = Answer(question="q", answer="", abstained=True, abstain_reason="nothing on cryo-EM",
                    checks=CheckReport(), closest_sources=closest)
    result = TurnResult(text="q", route="question", confidence=0.6, kind="abstention", payload=answer)
    md = render.reply_markdown(result)
    assert "Closest passages: " in md and "(passage 2)" in md
    assert closest[0].where.split(" (passage")[0].split(" — ")[0] in md


def test_code_reply_has_fenced_code_run_state_and_output(tmp_path: Path) -> None:
    code = demo_code_result("count", write_demo_figure(tmp_path / "f.png"))
    result = TurnResult(text="count", route="code", confidence=0.9, kind="code", payload=code)
    md = render.reply_markdown(result)
    assert "```python\nimport numpy as np" in md
    assert "**Ran in the sandbox** after 2 round(s)" in md and "objects: 9" in md
    rounds = render.rounds_markdown(code)
    assert "**Round 1** (model) — failed" in rounds and "**Round 2** (repair) — ran OK" in rounds
    assert "NameError" in rounds


def test_output_renders_csv_tables_and_errors(tmp_path: Path) -> None:
    table = tmp_path / "areas.csv"
    table.write_text("label,area,mean\n1,120,1996.554217\n2,98,0.5\n")

    class Run:
        stdout = ""
        error = "ValueError: bad"
        traceback = "Traceback...\nValueError: bad"
        files = [str(table)]

    md = render.output_markdown(Run())
    assert "| label | area | mean |" in md and "| 1 | 120 | 1997 |" in md and "| 2 | 98 | 0.5 |" in md
    assert "**Error**" in md and "ValueError: bad" in md


def test_tool_cards_have_names_links_and_why() -> None:
    html = render.tool_cards_html(demo_recommendation("segment nuclei"))
    assert html.count('class="sb-card"') == 2
    assert 'href="https://fiji.sc"' in html and ">homepage</a>" in html
    assert "point-and-click segmentation" in html and "GPL" in html


def test_check_report_shows_an_extract_label_in_bold_and_the_rest_as_text() -> None:
    from scopebot.ui.render import _labelled

    assert _labelled("**Denoising**: keep <b>this</b> literal") == \
        "<b>Denoising</b>: keep &lt;b&gt;this&lt;/b&gt; literal"
    assert _labelled("no label <img src=x>") == "no label &lt;img src=x&gt;"


def test_a_kept_answer_comes_first_and_the_code_last(tmp_path: Path) -> None:
    code = demo_code_result("count", write_demo_figure(tmp_path / "f.png")).model_copy(
        update={"answer": ["count = 9 objects"], "notes": ["Plan: count objects", "Answer, checked against the "
                                                          "plan: count = 9 objects"]})
    md = render.code_body(code)
    assert md.startswith("**Answer:** count = 9 objects")
    assert md.count("count = 9 objects") == 1  # the note is not repeated under the headline
    assert md.index("objects: 9") < md.index("```python")
    failed = code.model_copy(update={"ok": False})
    assert not render.code_body(failed).startswith("**Answer:**")
