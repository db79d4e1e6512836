"""Extractive synthesis: candidate sentences, relevance, diversity, order and citations."""

from __future__ import annotations

from test_answer_fixtures import chunk, key, retriever

from scopebot.answer.context import build_context
from scopebot.answer.extractive import ExtractiveSynthesizer, candidates
from scopebot.citations import make_key
from scopebot.index.embeddings import HashEmbedder
from scopebot.index.models import Chunk, SearchResult


def result(body: str, title: str = "Learning", section: str = "Shortcuts", rank: int = 1) -> SearchResult:
    c = Chunk(key=make_key("book", body), source_id="test-book", kind="book", title=title, section=section,
              breadcrumb=f"Test › {title} › {section}", url="https://example.org/x", text=f"Test › {title}\n{body}")
    return SearchResult(chunk=c, score=1.0 / rank, rank=rank)


def test_short_naming_sentence_stays_with_the_sentence_it_names() -> None:
    body = ("A model can latch onto an incidental cue that happens to correlate with the label. This is a shortcut. "
            "Plate edges dry out faster, which changes how the cells look near the rim of the dish.")
    cands = candidates(build_context([result(body)]))
    assert cands[0].text.endswith("correlate with the label. This is a shortcut.")


def test_sentences_under_a_matching_heading_are_on_topic() -> None:
    body = ("A model can latch onto an incidental cue that happens to correlate with the label. "
            "Plate edges dry out faster, which changes how the cells look near the rim of the dish.")
    picked = ExtractiveSynthesizer(None).select("What is a shortcut?", build_context([result(body)]))
    assert len(picked) == 2


def test_selection_is_relevant_diverse_and_in_passage_order() -> None:
    passages = build_context(retriever().search("StarDist star-convex elongated cells", k=5))
    picked = ExtractiveSynthesizer(HashEmbedder(), max_sentences=4).select(
        "Why does StarDist struggle with elongated cells?", passages)
    assert picked and picked[0].key == key("stardist")
    assert len({c.text for c in picked}) == len(picked)
    order = [(c.rank, c.position) for c in picked]
    assert order == sorted(order)
    text = ExtractiveSynthesizer.render(picked)
    assert f"[{key('stardist')}]" in text and "star-convex" in text


def test_code_lines_are_kept_only_when_they_mention_the_question_terms() -> None:
    passages = build_context([SearchResult(chunk=chunk("otsu"), score=1.0, rank=1)])
    codes = [c.text for c in candidates(passages) if c.code]
    assert codes == ["`thresh = skimage.filters.threshold_otsu(image)`", "`mask = image > thresh`"]
    picked = ExtractiveSynthesizer(None).select("How do I call threshold_otsu in scikit-image?", passages)
    assert "`thresh = skimage.filters.threshold_otsu(image)`" in [c.text for c in picked]
    assert "`mask = image > thresh`" not in [c.text for c in picked]


def test_no_code_line_is_quoted_for_someone_who_asks_to_work_without_code() -> None:
    """Tryout r18: "How can I segment nuclei in 3D without writing any code?" was answered with Python lines."""
    passages = build_context([SearchResult(chunk=chunk("otsu"), score=1.0, rank=1)])
    for ask in ("How do I apply threshold_otsu without writing any code?", "Can I use threshold_otsu with no coding?"):
        assert not [c for c in ExtractiveSynthesizer(None).select(ask, passages) if c.code], ask
    picked = ExtractiveSynthesizer(None).select("How do I call threshold_otsu in scikit-image?", passages)
    assert [c for c in picked if c.code]


def test_a_statement_written_as_a_list_item_without_a_full_stop_can_be_quoted() -> None:
    """dev v6: a statement written as a list item without a full stop was never quoted."""
    body = ("Two numbers describe a cell's signal.\n\n- `average` follows how concentrated the tagged protein is\n"
            "- `total` tracks how much of the tagged protein one cell holds\n- Increase laser power\n"
            "- 16-bit: 0 - 65535\n")
    texts = [c.text for c in candidates(build_context([result(body, title="Intensity", section="Intensities")]))]
    assert "`total` tracks how much of the tagged protein one cell holds." in texts
    assert not [t for t in texts if "laser" in t or "65535" in t]  # short items are labels, not statements


def test_prose_left_inside_an_unclosed_code_fence_is_not_quoted_as_code() -> None:
    from scopebot.index.models import Chunk

    body = ("nuclei = label(mask)\n```\n\nWe now have 11 clearly labelled nuclei.\n"
            "Look at the tiny blob (shown in teal) close to the left corner\n"
            "```python\ncount = nuclei.max()\n```")
    c = Chunk(key="k1", source_id="s", kind="training", title="Counting", section="Counting", breadcrumb="Counting",
              url="u", text=body)
    codes = [x.text for x in candidates(build_context([SearchResult(chunk=c, score=1.0, rank=1)])) if x.code]
    assert "`count = nuclei.max()`" in codes
    assert not any("tiny blob" in t for t in codes), codes


def test_nothing_relevant_gives_no_sentences() -> None:
    passages = build_context([SearchResult(chunk=chunk("trackmate"), score=1.0, rank=1)])
    assert ExtractiveSynthesizer(None).select("sourdough bread recipe", passages) == []


def test_figure_caption_sentences_are_not_quoted() -> None:
    from scopebot.answer.statements import PANEL_RE

    assert PANEL_RE.search("Training pairs. (left) A noisy frame and (right) the matching clean frame.")
    assert not PANEL_RE.search("Denoising (for example with Noise2Void) removes shot noise.")


def test_a_short_list_joins_the_sentence_that_introduces_it() -> None:
    from scopebot.answer.text import join_short_lists, split_sentences

    lines = ["To get more signal, collect more light. For example:", "", "- raise the laser power",
             "- bin pixels", "", "(two by two)", "- average frames", "", "Noise has many sources."]
    sentences = split_sentences("\n".join(join_short_lists(lines)))
    assert sentences[0] == ("To get more signal, collect more light, for example: raise the laser power; "
                            "bin pixels; average frames.")
    assert sentences[-1] == "Noise has many sources."
    long_items = ["Settings:", "- Batch size: the number of images per step. Smaller is slower.", "- Epochs: one pass."]
    assert join_short_lists(long_items) == long_items


def test_an_unnamed_antecedent_is_quoted_with_the_sentence_it_leans_on() -> None:
    from scopebot.answer.synthesis import cited

    body = ("The confidence score a classifier reports is not a check on its answer. It comes from the very "
            "network that made the prediction, so it tends to exceed the accuracy you measure. "
            "Calibration on held-out images tells how far the scores can be trusted.")
    cands = candidates(build_context([result(body, title="Primer", section="The black box")]))
    texts = [c.text for c in cands]
    assert texts[0].startswith("The confidence score a classifier reports is not a check on its answer. It comes")
    assert not any(t.startswith("It comes") for t in texts)  # never alone
    assert sum(t.startswith("The confidence score") for t in texts) == 1  # and the antecedent only once
    assert cited(cands[0]).count(f"[{cands[0].key}]") == 2  # each sentence of the extract cites the passage
