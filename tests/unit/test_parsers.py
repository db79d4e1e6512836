"""Markdown-family parsers: Quarto book + glossary, lesson sites, MyST guides, NEUBIAS modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopebot.sources.base import ParseReport, get_parser
from scopebot.sources.models import Section, SourceSpec
from scopebot.sources.parsers.markdown import split_markdown
from scopebot.sources.text import clean_inline, slugify, strip_html

FIX = Path(__file__).parent / "fixtures" / "sources"


def make_spec(parser: str, kind: str = "training", **options: object) -> SourceSpec:
    return SourceSpec(id=f"test-{parser}", title="Test", kind=kind, license="CC0-1.0", attribution="us",
                      url="https://example.org/site", subpath="x", parser=parser, options=options)


def run(parser: str, root: Path, kind: str = "training", **options: object) -> tuple[list[Section], ParseReport]:
    spec = make_spec(parser, kind, **options)
    report = ParseReport(spec.id)
    return list(get_parser(parser)(root, spec, report)), report


def by_title(sections: list[Section], title: str) -> Section:
    matches = [s for s in sections if s.section_title == title]
    assert matches, f"no section titled {title!r}; have {[s.section_title for s in sections]}"
    return matches[0]


# --- text helpers -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "scheme", "anchor"), [
    ("Image Degradation Model", "pandoc", "image-degradation-model"),
    ("10.1 Metrics and Losses", "pandoc", "metrics-and-losses"),
    ("CARE (Content-aware image restoration)", "pandoc", "care-content-aware-image-restoration"),
    ("What's next?", "pandoc", "whats-next"),
    ("Saving & closing!", "kramdown", "saving--closing"),
    ("Übersicht: Light paths", "docutils", "ubersicht-light-paths"),
    ("1. Intro", "docutils", "intro"),
])
def test_slugify_schemes(title: str, scheme: str, anchor: str) -> None:
    assert slugify(title, scheme) == anchor  # type: ignore[arg-type]


def test_strip_html_decodes_entities_and_keeps_paragraphs() -> None:
    text = strip_html("<p>Counts <strong>spots</strong>&nbsp;fast.</p>\r\n<p>Second&amp;last</p>")
    assert text == "Counts spots fast.\n\nSecond&last"


def test_clean_inline_handles_quarto_and_myst_constructs() -> None:
    raw = ("Use [the guide](https://x.org){target=_blank} @Wu2022 [@a; @b] and @fig-one. "
           "![Alt text](img.png){#fig-one width=50%} {{< glossary \"pixel size\" >}} {{< embed a.ipynb >}} "
           "{term}`Deconvolution` {cite}`Key2020` [kept]{.mark} mail me@example.org")
    out = clean_inline(raw)
    assert "Use the guide and the figure." in out
    assert "Alt text" in out and "img.png" not in out
    assert "pixel size" in out and "embed" not in out
    assert "Deconvolution" in out and "Key2020" not in out and "Wu2022" not in out
    assert "kept" in out and ".mark" not in out
    assert "me@example.org" in out


def test_headings_inside_code_are_not_sections() -> None:
    _, sections = split_markdown("# Title\n\nIntro.\n\n```bash\n# not a heading\necho hi\n```\n\n## Real\n\nBody.")
    assert [s.titles for s in sections] == [[], ["Real"]]
    assert "# not a heading" in sections[0].text


# --- Quarto book -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def book() -> tuple[list[Section], ParseReport]:
    return run("quarto-book", FIX / "book", kind="book", base_url="https://book.example.org")


def test_book_chapter_label_paths_and_anchors(book: tuple[list[Section], ParseReport]) -> None:
    sections, report = book
    assert report.problems == []
    intro = [s for s in sections if s.doc_title == "3 Counting Widgets" and s.path == ["3 Counting Widgets"]][0]
    assert intro.url == "https://book.example.org/3-widgets.html"
    assert intro.metadata["authors"] == ["Ada Example"]
    child = by_title(sections, "Child With Text")
    assert child.path == ["3 Counting Widgets", "Empty Parent", "Child With Text"]
    assert child.url == "https://book.example.org/3-widgets.html#child-with-text"
    assert not any(s.section_title == "Empty Parent" for s in sections)  # empty: skipped, kept in path
    results = [s for s in sections if s.section_title == "Results & Discussion"]
    assert [s.anchor for s in results] == ["sec-results", "results-discussion"]


def test_book_quarto_cleaning(book: tuple[list[Section], ParseReport]) -> None:
    sections, _ = book
    intro = [s for s in sections if s.path == ["3 Counting Widgets"]][0].text
    assert "Smith2020" not in intro and "Jones2019" not in intro and "@" not in intro
    assert "As shown in the figure" in intro
    assert "the glossary" in intro and "glossary.qmd" not in intro
    assert "pixel size matters" in intro and "embed" not in intro
    assert "A tally counter held in a hand" in intro and "tally.png" not in intro
    assert "comment that must not" not in intro
    assert "Count twice, record once." in intro and ".callout-tip" not in intro and ":::" not in intro
    assert "**Quick tip inside a callout**" in intro  # callout title kept as text, not a section
    assert "PDF edition" not in intro
    assert "```python\n# this comment is code, not a heading\ncounts = [1, 2, 3]" in intro
    assert "#|" not in intro and "label: fig-counts" not in intro
    child = by_title(sections, "Child With Text").text
    assert "important" in child and ".highlight" not in child and "{" not in child


def test_book_rendered_chapter_and_unnumbered_page(book: tuple[list[Section], ParseReport]) -> None:
    sections, _ = book
    scores = by_title(sections, "10.1 Scores and Losses")
    assert scores.doc_title == "10 Output"  # number already in the title: not doubled
    assert scores.url == "https://book.example.org/10-output.html#scores-and-losses"
    assert "**Note: A boxed remark**" in scores.text  # rendered callout title is not a section
    welcome = [s for s in sections if s.doc_title == "Welcome"]
    assert welcome and welcome[0].url == "https://book.example.org/index.html"


def test_book_glossary_terms(book: tuple[list[Section], ParseReport]) -> None:
    sections, _ = book
    terms = [s for s in sections if s.doc_title == "Glossary"]
    assert [s.path for s in terms] == [["Glossary", "Tally"], ["Glossary", "CARE (Content-aware restoration)"]]
    assert terms[1].url == "https://book.example.org/glossary.html#care-content-aware-restoration"
    assert terms[1].text == "A restoration approach; see the paper."
    assert not any("Bibliography" in s.text for s in sections)


def test_book_bad_glossary_is_reported_and_chapters_still_parse(tmp_path: Path) -> None:
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "1-a.qmd").write_text("# Alpha\n\nSome text.\n", encoding="utf-8")
    (tmp_path / "glossary.yml").write_text("Term: [unclosed\nOther: fine\n", encoding="utf-8")
    sections, report = run("quarto-book", tmp_path, kind="book")
    assert [s.doc_title for s in sections] == ["1 Alpha"]
    assert len(report.problems) == 1
    assert report.problems[0].path.endswith("glossary.yml") and report.problems[0].line is not None


def test_bad_front_matter_is_reported_with_line_and_body_kept(tmp_path: Path) -> None:
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "2-b.qmd").write_text("---\nauthor: [oops\n---\n\n# Beta\n\nBody text.\n",
                                                   encoding="utf-8")
    sections, report = run("quarto-book", tmp_path, kind="book", glossary="")
    assert [s.text for s in sections] == ["Body text."]
    assert report.problems[0].path.endswith("2-b.qmd") and report.problems[0].line == 2  # the "author: [oops" line


# --- lesson sites and MyST guides ---------------------------------------------------------------------

def test_carpentries_episode_boxes_code_and_anchors() -> None:
    sections, report = run("markdown-site", FIX / "site", include=["episodes/*.md"],
                           url_template="https://lesson.example.org/{stem}.html", anchor_scheme="pandoc")
    assert report.problems == []
    assert [s.section_title for s in sections] == ["First steps", "Opening an image", "Saving & closing!"]
    top = sections[0]
    assert top.url == "https://lesson.example.org/01-first-steps.html"
    assert "**Questions**" in top.text and "How do I open an image?" in top.text
    opening = sections[1]
    assert opening.path == ["First steps", "Opening an image"]
    assert opening.url.endswith("01-first-steps.html#opening-an-image")
    assert "# not a heading: a Python comment" in opening.text
    assert "**Try it yourself**" in opening.text and "**Solution**" in opening.text
    assert "Click File, then Open." in opening.text and "::" not in opening.text
    assert sections[2].anchor == "saving-closing"


def test_myst_guide_directives_roles_and_docutils_anchors() -> None:
    sections, _ = run("markdown-site", FIX / "guide", include=["**/*.md"],
                      url_template="https://guide.example.org/{path}.html", anchor_scheme="docutils")
    first, paths = sections
    assert first.doc_title == "Getting Started" and first.url == "https://guide.example.org/part1/Intro.html"
    assert "Deconvolution words" in first.text and "Example2020" not in first.text
    assert "Calibrate the microscope" in first.text and "{important}" not in first.text
    assert "**Decision flow chart.** Follow the arrows." in first.text
    assert "alt: a flow chart" not in first.text and "flow.png" not in first.text
    assert "(content/start-here)=" not in first.text
    assert paths.url == "https://guide.example.org/part1/Intro.html#light-paths"


# --- NEUBIAS ------------------------------------------------------------------------------------------

def test_neubias_front_matter_activities_and_assessment() -> None:
    sections, report = run("neubias-modules", FIX / "neubias", base_url="https://nb.example.org")
    page = "https://nb.example.org/thresholding/index.html"
    overview = sections[0]
    assert overview.path == ["Thresholding basics"] and overview.url == page
    assert "Learning objectives:\n- Create a binary image" in overview.text
    assert "Motivation: Separating foreground" in overview.text and "Prerequisites: Pixels." in overview.text
    assert "graph TD" not in overview.text  # concept map is not prose
    act = by_title(sections, "Threshold one image")
    assert act.path == ["Thresholding basics", "Activities", "Activity 1", "Threshold one image"]
    assert act.url == page + "#simple"
    gui = by_title(sections, "ImageJ GUI")
    assert "Image > Adjust > Threshold" in gui.text
    assert not any(s.section_title == "ImageJ Macro" for s in sections)  # scripts are not indexed
    quiz = by_title(sections, "True or false")
    assert quiz.path == ["Thresholding basics", "Assessment", "True or false"]
    assert "A binary image has two values." in quiz.text and "**Solution**" in quiz.text
    assert "True" in quiz.text and ".solution" not in quiz.text
    body = by_title(sections, "Why a threshold?")
    assert body.url == page + "#why-a-threshold"
    assert len(report.problems) == 1 and "not_there.md" in report.problems[0].message
