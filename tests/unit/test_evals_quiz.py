"""The quiz suite: parsing lesson quizzes (fixtures written for this test) and scoring answers."""

from __future__ import annotations

from pathlib import Path

from scopebot.answer.pipeline import AnswerPipeline
from scopebot.evals.quiz_parse import (
    QuizItem,
    extract_keywords,
    interleave,
    load_quiz,
    parse_carpentries_episode,
    parse_neubias_module,
    split_assessment,
    tidy,
)
from scopebot.evals.suites.quiz import RecordingRetriever, same_lesson, score_item, summarise
from scopebot.index.builder import IndexBuilder
from scopebot.index.embeddings import HashEmbedder
from scopebot.index.models import Chunk
from scopebot.knowledge import KnowledgeBase
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec

MODULE = """---
title: Pixel binning
layout: module
assessment: >

  ### Fill in the gaps

    1. Binning 2x2 pixels makes the image ___ times smaller.
    1. Binning improves the ___ ratio.

    > ## Solution
    >   1. four
    >   1. signal-to-noise
    {: .solution}

  ### True or false

    - Binning never loses spatial detail.

    > ## Answers
    >   - **False**
    {: .solution}

  ### Unfinished

    1. TODO ___

    > ## Solution
    > TODO
    {: .solution}

  ### Discussion only

    Talk to your neighbour about binning.
---

# Pixel binning

Binning sums neighbouring camera pixels into one larger pixel.
"""

EPISODE = """---
title: Looking at histograms
---

Some lesson text before the first exercise.

:::::::::::::::::::::::::::::::::::::::  challenge

## Reading a histogram (5 min)

Your histogram has one tall peak near zero and a long tail. What does the peak show?
![](fig/hist.png){alt='a histogram'}

:::::::::::::::  solution

## Solution

The tall peak near zero is the dark background; the bright cells form the tail.

:::::::::::::::::::::::::

Now pick a threshold between the peak and the tail.

::::::::::::::: hint

Look where the counts drop.

:::::::::::::::::::::::::

:::::::::::::::  solution

## Solution

Any value just above the background peak separates the cells from the background.

:::::::::::::::::::::::::

::::::::::::::::::::::::::::::::::::::::::::::::::

::::::::::::::::::::::::::::::::::::::: callout

A callout is not a quiz.

::::::::::::::::::::::::::::::::::::::::::::::::::

::::::::::::::::::::::::::::::::::::::: challenge

## A challenge without a solution

Try it yourself.

::::::::::::::::::::::::::::::::::::::::::::::::::
"""


def write_sources(root: Path) -> Path:
    (root / "neubias-training-resources" / "_modules").mkdir(parents=True)
    (root / "neubias-training-resources" / "_modules" / "pixel_binning.md").write_text(MODULE)
    (root / "carpentries-microscopy-novice" / "episodes").mkdir(parents=True)
    (root / "carpentries-microscopy-novice" / "episodes" / "histograms.md").write_text(EPISODE)
    return root


def test_assessment_blocks_split_into_question_and_solution() -> None:
    blocks = split_assessment("### Q1\nWhat is it?\n> ## Solution\n> a cell\n{: .solution}\n"
                              "### Q2\n> a quote that is part of the question\nwhy?\n")
    assert blocks == [("Q1", "What is it?", "a cell")]


def test_neubias_module_assessment_items(tmp_path: Path) -> None:
    root = write_sources(tmp_path)
    path = root / "neubias-training-resources" / "_modules" / "pixel_binning.md"
    items = parse_neubias_module(path, "_modules/pixel_binning.md")
    assert [i.id for i in items] == ["neubias:pixel_binning#1", "neubias:pixel_binning#2"]  # TODO/no-solution dropped
    first = items[0]
    assert first.title == "Pixel binning: Fill in the gaps" and first.file == "_modules/pixel_binning.md"
    assert "___ times smaller" in first.question and first.solution.splitlines()[0].strip() == "1. four"
    assert set(first.keywords) == {"four", "signal-to-noise"}  # blanks' answers, not the question words
    assert items[1].solution == "- **False**" and items[1].keywords == []  # true/false carries no keywords
    assert first.kind == "neubias-assessment"


def test_carpentries_challenges_join_parts_and_skip_other_divs(tmp_path: Path) -> None:
    root = write_sources(tmp_path)
    items = parse_carpentries_episode(root / "carpentries-microscopy-novice" / "episodes" / "histograms.md",
                                      "episodes/histograms.md", "carpentries-microscopy")
    assert len(items) == 1
    it = items[0]
    assert it.id == "carpentries-microscopy:histograms#1" and it.title == "Reading a histogram"
    assert "What does the peak show?" in it.question and "pick a threshold" in it.question
    assert "Look where the counts drop." in it.question  # a hint belongs to the question
    assert "dark background" in it.solution and "just above the background peak" in it.solution
    assert "## Solution" not in it.solution and "callout" not in it.question
    assert "background" in it.keywords and "histogram" not in " ".join(it.keywords)  # echoed question words last
    assert "fig/hist.png" not in it.prompt and "(5 min)" not in it.prompt


def test_keywords_skip_stop_words_code_and_trivial_answers() -> None:
    kws = extract_keywords("The answer is True. Use a median filter:\n```python\nmedian(img)\n```\nMedian filters "
                           "keep edges.", question="Which filter?")
    assert kws[0] == "median" and "true" not in kws and "img" not in kws and "the" not in kws
    assert "filter" not in kws[:2]  # the question already says 'filter'
    assert tidy("## Title (10 min)\n[link](http://x) ![](a.png){alt='x'}") == "Title\nlink"


def test_load_quiz_interleaves_sources_and_reports_missing_ones(tmp_path: Path) -> None:
    items, missing = load_quiz(write_sources(tmp_path))
    assert [i.source_id for i in items] == ["neubias", "carpentries-microscopy", "neubias"]
    assert missing == ["datacarpentry-image-processing"]
    only, _ = load_quiz(tmp_path, only=["carpentries-microscopy"])
    assert [i.source_id for i in only] == ["carpentries-microscopy"]
    mk = lambda s: QuizItem(id=s, source_id=s[0], file="f", question="q", solution="s", kind="k")  # noqa: E731
    assert [i.id for i in interleave([[mk("a1"), mk("a2"), mk("a3")], [mk("b1")]])] == ["a1", "b1", "a2", "a3"]


TRAINING = SourceSpec(id="neubias", title="Training", kind="training", license="CC-BY", attribution="us",
                      url="https://example.org/t", subpath="t", parser="markdown")


def _section(module: str, heading: str, text: str) -> Section:
    return Section(source_id="neubias", kind="training", doc_title=module, path=[module, heading],
                   url=f"https://example.org/t/{module.lower().replace(' ', '_')}/index.html", text=text,
                   metadata={"file": f"_modules/{module.lower().replace(' ', '_')}.md"})


def test_score_item_finds_the_quiz_lesson_and_scores_keywords(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", embedding_model="hash", abstain_threshold=0.0)
    builder = IndexBuilder(settings, HashEmbedder())
    builder.ingest_sections(TRAINING, [
        _section("Pixel binning", "Binning", "Binning two by two camera pixels makes the image four times smaller "
                                             "and improves the signal-to-noise ratio of each pixel."),
        _section("Deconvolution", "Overview", "Deconvolution uses the point spread function to undo optical blur."),
    ])
    kb = KnowledgeBase.open(settings, HashEmbedder())
    recorder = RecordingRetriever(kb)
    pipeline = AnswerPipeline(recorder, None, settings)
    item = QuizItem(id="neubias:pixel_binning#1", source_id="neubias", file="_modules/pixel_binning.md",
                    title="Pixel binning", question="How much smaller does 2x2 camera pixel binning make the image?",
                    solution="four times; signal-to-noise improves", keywords=["four", "signal-to-noise", "zebra"],
                    kind="neubias-assessment")
    result = score_item(pipeline, recorder, item, mode="extractive")
    assert result.metrics["retrieval_hit"] == 1.0 and result.metrics["source_hit"] == 1.0
    assert result.outputs["rank"] == 1 and result.metrics["retrieval_mrr"] == 1.0
    assert result.metrics["abstention_rate"] == 0.0 and result.metrics["cited_hit"] == 1.0
    assert result.metrics["keyword_overlap"] == round(2 / 3, 4)
    assert result.passed and result.inputs["solution"] == item.solution
    other = item.model_copy(update={"id": "x", "file": "_modules/missing.md"})
    miss = score_item(pipeline, recorder, other, mode="extractive")
    assert miss.metrics["retrieval_hit"] == 0.0 and miss.metrics["source_hit"] == 1.0 and not miss.passed
    summary = summarise([result, miss])
    assert summary["retrieval_hit"] == 0.5 and summary["retrieval_hit[neubias]"] == 0.5


def test_same_lesson_falls_back_to_the_page_url_without_file_metadata() -> None:
    item = QuizItem(id="i", source_id="carp", file="episodes/image-display.md", question="q", solution="s", kind="k")
    def chunk(url: str, source: str = "carp", meta: dict | None = None) -> Chunk:
        return Chunk(key="tr-00000000", source_id=source, kind="training", title="t", section="s", breadcrumb="b",
                     url=url, text="x", metadata=meta or {})
    assert same_lesson(chunk("https://e.org/image-display.html#a"), item)
    assert not same_lesson(chunk("https://e.org/image-display-extra.html"), item)
    assert not same_lesson(chunk("https://e.org/image-display.html", source="other"), item)
    assert not same_lesson(chunk("https://e.org/image-display.html", meta={"file": "episodes/other.md"}), item)


def test_quiz_sources_follow_the_manifest_and_survive_a_missing_one(tmp_path: Path) -> None:
    from scopebot.evals.suites.quiz import quiz_sources
    from scopebot.settings import PROJECT_ROOT

    found = quiz_sources(PROJECT_ROOT / "knowledge" / "sources.yaml")
    assert found["neubias"][:2] == ("neubias-training-resources", "neubias")
    assert found["carpentries-microscopy"][0] == "carpentries-microscopy-novice"
    assert quiz_sources(tmp_path / "missing.yaml")["neubias"][0] == "neubias-training-resources"
