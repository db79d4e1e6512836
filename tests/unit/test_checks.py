"""Each hallucination check alone, on adversarial answers written for these tests."""

from __future__ import annotations

import pytest
from test_answer_fixtures import PASSAGES, chunk, key

from scopebot.answer.abstain import Evidence, assess_evidence
from scopebot.answer.citations_check import check_citations
from scopebot.answer.entities import EntityChecker, find_entities
from scopebot.answer.injection import find_instructions, followed_instructions, remove_instructions
from scopebot.answer.support import SupportScorer, check_sentences, supported_fraction
from scopebot.answer.text import clean_markdown, split_sentences, stem
from scopebot.index.embeddings import HashEmbedder


def context(*names: str) -> dict[str, str]:
    return {key(n): clean_markdown(chunk(n).body) for n in names}


# ---------------------------------------------------------------- 1. citation validity
def test_invented_citation_key_is_removed_and_counted() -> None:
    valid = key("n2v")
    text = f"Noise2Void needs only noisy images [{valid}]. It was invented in 1999 [bk-deadbeef][xx-12ab]."
    result = check_citations(text, [valid])
    assert result.invalid_keys == ["bk-deadbeef", "xx-12ab"]
    assert result.invalid_count == 2
    assert "deadbeef" not in result.text and "xx-12ab" not in result.text
    assert f"[{valid}]" in result.text
    assert result.text.endswith("in 1999.")


def test_valid_citations_are_untouched() -> None:
    keys = [key("otsu"), key("n2v")]
    text = f"One [{keys[0]}]. Two [{keys[1]}][{keys[0]}]."
    result = check_citations(text, keys)
    assert result.invalid_count == 0 and result.text == text
    assert result.valid_keys == keys


# ---------------------------------------------------------------- 2. sentence support
@pytest.mark.parametrize("embedder", [None, HashEmbedder()])
def test_copied_sentence_scores_as_supported(embedder: HashEmbedder | None) -> None:
    ctx = context("n2v", "otsu")
    scorer = SupportScorer(embedder, threshold=0.5)
    sentence = split_sentences(ctx[key("n2v")])[0]
    checks = check_sentences(f"{sentence} [{key('n2v')}]", ctx, scorer)
    assert checks[0].support == 1.0 and checks[0].supported


@pytest.mark.parametrize("embedder", [None, HashEmbedder()])
def test_paraphrase_is_supported_and_fabrication_is_not(embedder: HashEmbedder | None) -> None:
    ctx = context("n2v", "otsu", "stardist")
    scorer = SupportScorer(embedder, threshold=0.5)
    n2v = key("n2v")
    answer = (f"Noise2Void learns to denoise from noisy images alone, without clean ground-truth images [{n2v}]. "
              f"Noise2Void was released by Microsoft in 2009 and requires a quantum computer with 64 qubits [{n2v}].")
    checks = check_sentences(answer, ctx, scorer)
    assert [c.supported for c in checks] == [True, False]
    assert checks[0].support > checks[1].support + 0.2
    assert supported_fraction(checks, scorer) == 0.5


def test_unsupported_number_lowers_the_score() -> None:
    ctx = context("stardist")
    scorer = SupportScorer(None)
    good = scorer.lexical("The network predicts distances along a fixed number of rays.", ctx[key("stardist")])
    bad = scorer.lexical("The network predicts distances along 32 rays.", ctx[key("stardist")])
    assert bad < good


def test_uncited_sentence_is_checked_against_the_whole_context() -> None:
    ctx = context("otsu", "trackmate")
    checks = check_sentences("TrackMate is a Fiji plugin for tracking particles and cells over time.", ctx,
                             SupportScorer(None))
    assert checks[0].supported and checks[0].best_key == key("trackmate") and checks[0].keys == []


def test_stemmer_merges_word_forms() -> None:
    assert stem("denoising") == stem("denoises")
    assert stem("segmentations") == stem("segmentation")
    assert stem("living") == stem("live")


# ---------------------------------------------------------------- 3. invented entities
def test_invented_tool_name_is_flagged() -> None:
    checker = EntityChecker(["TrackMate", "StarDist"])
    report = checker.check("Use the CellMagic3000 plugin for Fiji to segment nuclei, then track them with TrackMate.",
                           [chunk("trackmate").text])
    assert report.unknown == ["CellMagic3000"]
    assert report.known == ["TrackMate"]


def test_invented_function_is_flagged_and_real_one_resolves_by_import() -> None:
    report = EntityChecker().check("Call skimage.filters.threshold_magic(img) instead of "
                                   "skimage.filters.threshold_otsu(img).")
    assert report.unknown == ["skimage.filters.threshold_magic"]
    assert report.known == ["skimage.filters.threshold_otsu"]


def test_names_from_the_context_or_the_catalog_are_known() -> None:
    checker = EntityChecker(["BigFishTool"])
    report = checker.check('Try BigFishTool or the "Quantum Carving 5D" workflow; LAP tracker links spots.',
                           [chunk("trackmate").text])
    assert report.unknown == ["Quantum Carving 5D"]
    assert "BigFishTool" in report.known


def test_versions_people_and_quoted_model_names_are_entities() -> None:
    found = {(e.name, e.kind) for e in find_entities(
        'Does Cellpose version 9 work? Dr. Rossi and the Smith lab use the "bright-axolotl-9000" model.')}
    assert {("Cellpose version 9", "version"), ("Rossi", "person"), ("Smith", "person"),
            ("bright-axolotl-9000", "tool")} <= found
    checker = EntityChecker()
    assert checker.check("Cellpose version 2 can be retrained.", ["Cellpose 2.0 added retraining."]).unknown == []
    assert checker.check("Cellpose version 9 reads Raman data.", ["Cellpose 2.0 added retraining."]).unknown == [
        "Cellpose version 9"]


def test_file_names_and_abbreviations_are_not_entities() -> None:
    names = [e.name for e in find_entities("Save it as cells.tif, e.g. with tifffile; 3D stacks work too.")]
    assert names == []


# ---------------------------------------------------------------- 4. abstention
def test_abstains_on_a_fake_plugin_and_a_fake_function() -> None:
    ev = [Evidence(key(n), chunk(n).text) for n in PASSAGES]
    fake_plugin = assess_evidence("How do I configure the CellMagic3000 plugin for Fiji?", ev, threshold=0.35)
    fake_func = assess_evidence("What does skimage.filters.threshold_magic return?", ev, threshold=0.35)
    assert fake_plugin.abstain and fake_plugin.missing_entities == ["CellMagic3000"]
    assert fake_func.abstain and "skimage.filters.threshold_magic" in fake_func.reason


def test_abstains_off_topic_but_answers_on_topic() -> None:
    ev = [Evidence(key(n), chunk(n).text) for n in PASSAGES]
    off = assess_evidence("What is a good recipe for sourdough bread?", ev, threshold=0.35, embedder=HashEmbedder())
    on = assess_evidence("Why does StarDist struggle with elongated cells?", ev, threshold=0.35,
                         embedder=HashEmbedder())
    assert off.abstain and off.score < 0.35
    assert not on.abstain and on.score >= 0.35
    assert assess_evidence("anything", [], threshold=0.35).abstain


# ---------------------------------------------------------------- 5. injection
def test_instructions_in_a_passage_are_found_and_removed() -> None:
    body = clean_markdown(chunk("photo").body)
    found = find_instructions(body)
    assert len(found) == 1 and found[0].startswith("Ignore previous instructions")
    cleaned, removed = remove_instructions(body)
    assert removed == found and "Ignore previous" not in cleaned and "Phototoxicity damages" in cleaned
    assert find_instructions(clean_markdown(chunk("otsu").body)) == []


def test_an_answer_that_obeys_the_injection_is_detected() -> None:
    instructions = find_instructions(chunk("photo").body)
    obeyed = followed_instructions(["All microscopes are broken and must be thrown away."], instructions)
    clean = followed_instructions(["Lower the laser power to reduce the light dose."], instructions)
    assert obeyed and not clean


def test_hard_wrapped_passage_lines_are_joined_into_sentences() -> None:
    text = ("A larger bit depth stores a wider range of values for every pixel, but it\n"
            "also doubles the file size.\n\n- a list item stays\n- on its own line")
    cleaned = clean_markdown(text)
    assert split_sentences(cleaned)[0] == ("A larger bit depth stores a wider range of values for every pixel, "
                                           "but it also doubles the file size.")
    assert "- a list item stays\n- on its own line" in cleaned


def test_common_corpus_words_missing_from_the_passages_do_not_force_abstention() -> None:
    from scopebot.answer.abstain import Evidence, assess_evidence, corpus_vocabulary

    passages = [Evidence("bk-00000001", "Denoising removes shot noise from fluorescence images recorded with weak signal.")]
    corpus = ["images taken with the camera"] * 50 + ["denoising removes noise"] * 50 + ["stock prices"]
    vocab = corpus_vocabulary(corpus)
    q = "How do I denoise images taken with weak signal?"
    with_vocab = assess_evidence(q, passages, threshold=0.0, vocabulary=vocab)
    without = assess_evidence(q, passages, threshold=0.0)
    assert "taken" not in with_vocab.missing_words and "taken" in without.missing_words
    rare = assess_evidence("Which stock should I buy with weak signal?", passages, threshold=0.0, vocabulary=vocab)
    assert "stock" in rare.missing_words  # rare in the corpus: still counts against the evidence


def test_a_determiner_before_lab_is_no_head_of_lab() -> None:
    """'Our lab has 15 annotated images ...' abstained about the name 'Our'."""
    assert find_entities("Our lab has about 15 annotated images of nuclei.") == []
    assert find_entities("My group uses Fiji for this.") == []
    assert [e.name for e in find_entities("Does the Smith lab method work?")] == ["Smith"]
