"""Extractive answers (issue 16, second pass): definition first, acronyms as names, instructions and
signposts are not statements, short sentences keep their continuation, comparisons by distinct words."""

from __future__ import annotations

from scopebot.answer.assemble import assemble_answer
from scopebot.answer.context import build_context
from scopebot.answer.extractive import ExtractiveSynthesizer, candidates
from scopebot.answer.models import SentenceCheck
from scopebot.answer.qtype import classify
from scopebot.answer.statements import is_instruction, is_signpost
from scopebot.answer.synthesis import find_aliases
from scopebot.citations import make_key
from scopebot.index.models import Chunk, SearchResult


def _result(body: str, section: str, title: str = "Restoration", kind: str = "book", rank: int = 1) -> SearchResult:
    c = Chunk(key=make_key(kind, section, body), source_id=f"test-{kind}", kind=kind, title=title, section=section,
              breadcrumb=f"Test › {title} › {section}", url="https://example.org/x", text=f"Test › {title}\n{body}")
    return SearchResult(chunk=c, score=1.0 / rank, rank=rank)


N2V_GLOSSARY = _result("A self-supervised denoising method that learns to predict masked pixels from their "
                       "neighbours, so only single noisy images are needed for training.",
                       "N2V (Noise2Void)", title="Glossary")
N2V_TEXT = _result("Noise2Noise needs two noisy exposures of one field. Noise2Void drops even that. "
                   "One noisy image is enough: a pixel is hidden and predicted from the pixels around it. "
                   "Noise2Void is popular in many imaging labs across the world today.",
                   "Denoising without a clean image", rank=2)


def _answer(question: str, results: list[SearchResult], **kwargs: int) -> tuple[list, str]:
    qt = classify(question)
    picked = ExtractiveSynthesizer(None, **kwargs).select(question, build_context(results), qt)
    return picked, ExtractiveSynthesizer.render(picked, qt)


def test_definition_comes_first_and_a_short_sentence_keeps_its_continuation() -> None:
    picked, text = _answer("What is Noise2Void?", [N2V_TEXT, N2V_GLOSSARY])
    first = text.splitlines()[0]
    assert "self-supervised denoising method" in first  # the glossary entry for N2V (an alias) defines it
    short = [c for c in picked if c.text.startswith("Noise2Void drops even that.")]
    assert short and "a pixel is hidden and predicted" in short[0].text  # never quoted on its own
    assert all(c.text != "Noise2Void drops even that." for c in candidates(build_context([N2V_TEXT])))


def test_aliases_come_from_bracketed_names() -> None:
    assert find_aliases("Noise2Void", ["N2V (Noise2Void)", "methods such as Noise2Void (N2V) and N2S"]) == ["N2V"]
    assert find_aliases("Noise2Void", ["nothing here"]) == []


def test_an_acronym_matches_only_as_written() -> None:
    care = _result("Content-aware image restoration (CARE) learns from pairs of low- and high-signal images "
                   "of the same field to restore noisy acquisitions.", "Denoising networks")
    lower = _result("Now that the file reading is taken care of, we show our picture on screen with imshow.",
                    "Working with pixels", title="Image basics", kind="training", rank=2)
    picked, _ = _answer("What is CARE?", [care, lower])
    assert picked and all("taken care of" not in c.text for c in picked)
    assert any("(CARE)" in c.text for c in picked)


def test_instructions_and_exercise_steps_are_not_statements() -> None:
    assert is_instruction("Load `../../data/blobs.tif` and apply StarDist to it.")
    assert is_instruction("Open the image and run the plugin on the first channel.")
    assert not is_instruction("StarDist predicts star-convex polygons for each nucleus.")
    body = ("Load `../../data/blobs.tif` and apply StarDist to it. StarDist is a deep learning method that "
            "segments nuclei as star-convex polygons predicted from distances along rays.")
    picked, _ = _answer("What is StarDist?", [_result(body, "Nuclei segmentation")])
    assert picked and all(not c.text.startswith("Load") for c in picked)
    steps, _ = _answer("How do I segment nuclei with StarDist?", [_result(body, "Nuclei segmentation")])
    assert all("blobs.tif" not in c.text for c in steps)  # an exercise's file is never a how-to step


def test_a_tutorial_narrating_its_steps_is_no_statement_about_the_topic() -> None:
    assert is_instruction("We now train the random forest classifier on the feature stack X and the labels y.")
    assert is_instruction("Next, we apply the threshold to the smoothed image.")
    assert not is_instruction("We found that random forests train in minutes on a few scribbles.")
    body = ("We now train the random forest classifier on the feature stack X and the annotations y. "
            "A random forest classifier labels each pixel from features such as smoothed intensities and edges.")
    picked, _ = _answer("What does a random forest pixel classifier use to label pixels?",
                        [_result(body, "Pixel classification")])
    assert picked and all(not c.text.startswith("We now") for c in picked)


def test_signposts_rank_below_statements() -> None:
    assert is_signpost("In the next section, we will introduce deep learning restoration methods.")
    assert not is_signpost("Paired low- and high-quality images are ideal for supervised restoration training.")
    body = ("Here we briefly describe practical guidelines for deep learning image restoration training data. "
            "Paired low- and high-quality images are ideal for supervised restoration training data.")
    picked, _ = _answer("What training data does deep learning image restoration need?",
                        [_result(body, "Practical guidelines")], max_sentences=1, min_sentences=1)
    assert [c.text for c in picked] == ["Paired low- and high-quality images are ideal for supervised restoration "
                                        "training data."]


def test_display_maths_is_cut_out_and_the_sentence_after_it_kept() -> None:
    body = ("A prediction is a true positive if it overlaps a real object enough.\n"
            r"\[\text{Precision} = \frac{TP}{TP+FP}\] Precision answers which share of predicted objects "
            "were right; recall answers which share of real objects were found.")
    texts = [c.text for c in candidates(build_context([_result(body, "Instance metrics")]))]
    assert any(t.startswith("Precision answers") for t in texts)
    assert all("\\frac" not in t for t in texts)


def test_a_question_with_two_adjectives_is_not_a_comparison_but_a_choice_is() -> None:
    assert classify("Why do denoised images often look smooth or waxy?").kind != "comparison"
    qt = classify("Local training or cloud training for a deep learning model?")
    assert qt.kind == "comparison" and qt.side_keys() == ["Local", "cloud"]
    assert classify("Cellpose or StarDist for DAPI nuclei?").sides == ["Cellpose", "StarDist"]


def test_comparison_sides_match_their_distinct_words() -> None:
    body = ("Local training keeps full control over data and execution on your own workstation. "
            "Cloud services such as Colab give access to powerful GPUs without buying hardware.")
    _, text = _answer("Local training or cloud training for a deep learning model?",
                      [_result(body, "Computational resources")])
    assert "**Local training**:" in text and "**cloud training**:" in text
    assert "I could not find this" not in text


def test_a_kept_sentence_without_a_key_is_shown_with_the_key_that_supports_it() -> None:
    line = "- **Noise2Void**: Noise2Void drops even that. One noisy image is enough. [bk-1234abcd]"
    kept = [(s, SentenceCheck(text=s, keys=[], support=1.0, supported=True, source="extractive"))
            for s in ["**Noise2Void**: Noise2Void drops even that.", "One noisy image is enough. [bk-1234abcd]"]]
    out = assemble_answer({"extractive": line, "model": "", "computed": ""}, kept,
                    {"**Noise2Void**: Noise2Void drops even that.":
                     "**Noise2Void**: Noise2Void drops even that. [bk-1234abcd]"})
    assert out == "- **Noise2Void**: Noise2Void drops even that. [bk-1234abcd] One noisy image is enough. [bk-1234abcd]"


def test_a_howto_about_a_named_model_also_searches_for_the_task_itself() -> None:
    from scopebot.answer.evidence import task_query

    qt = classify("How do I avoid overfitting a U-Net trained on 20 images?")
    assert task_query("How do I avoid overfitting a U-Net trained on 20 images?", qt) == \
        "How do I avoid overfitting a trained on 20 images?"
    assert task_query("What is a U-Net?", classify("What is a U-Net?")) == ""


def test_a_second_name_the_question_asks_about_is_not_subject_drift() -> None:
    body = ("IoU divides the overlap of prediction and truth by their union. "
            "F1 is the harmonic mean of precision and recall over matched objects.")
    picked, _ = _answer("How are IoU and F1 computed?", [_result(body, "Metrics")])
    assert any(c.text.startswith("F1 is") for c in picked)


def test_simple_inline_maths_is_written_out() -> None:
    body = r"A prediction counts as a true positive when its overlap with a real object is \(\geq 0.5\) in IoU."
    texts = [c.text for c in candidates(build_context([_result(body, "Metrics")]))]
    assert texts == ["A prediction counts as a true positive when its overlap with a real object is ≥ 0.5 in IoU."]


def test_question_types_for_choices_and_tool_requests() -> None:
    qt = classify("How do semantic and instance segmentation differ?")
    assert qt.kind == "comparison" and qt.sides == ["semantic", "instance segmentation"]
    assert classify("What is the risk of using a generative model for image restoration?").kind != "which_tool"
    assert classify("Is there a good tool for tracking bacteria?").kind == "which_tool"
    assert classify("Which software can stitch tiles?").kind == "which_tool"


def test_an_antecedent_after_an_opening_adverb_and_a_chain_of_its_carry_the_subject() -> None:
    body = ("Noise2Noise needs two noisy exposures of the same field for training. It maps one noisy acquisition "
            "of a field onto the other noisy acquisition. Essentially, it learns a mapping from the first noisy "
            "image A onto the second noisy image B.")
    cands = candidates(build_context([_result(body, "Denoising")]))
    assert [c.subject for c in cands] == ["Noise2Noise", "Noise2Noise", "Noise2Noise"]
    picked, _ = _answer("What does Noise2Void need for training?", [_result(body, "Denoising"), N2V_TEXT])
    assert all("noisy image A" not in c.text for c in picked)  # said of Noise2Noise, never quoted for N2V


def test_a_comparison_also_quotes_what_the_passages_say_about_the_choice_in_general() -> None:
    body = ("Local training keeps full control over data and execution on your own workstation. "
            "Cloud services such as Colab give access to powerful GPUs without buying hardware. "
            "For a small deep learning model, a single consumer graphics card finishes training in an afternoon.")
    question = "Local training or cloud training for a deep learning model?"
    picked, text = _answer(question, [_result(body, "Computational resources")])
    assert "**Local training**:" in text and "**cloud training**:" in text
    assert "**In general**:" in text and "single consumer graphics card" in text
    assert len(picked) == 3
    qt = classify(question)
    sides_only = ExtractiveSynthesizer(None, fill_comparison=False).select(question, build_context(
        [_result(body, "Computational resources")]), qt)
    assert len(sides_only) == 2 and all("graphics card" not in c.text for c in sides_only)
