"""Numbers computed from cited formulas: plans, arithmetic, the sandbox fallback, the pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_answer_fixtures import settings, small_model

from scopebot.answer.compute import SafeCalculator, SandboxCalculator, compute, plan, verify
from scopebot.answer.pipeline import AnswerPipeline
from scopebot.citations import make_key
from scopebot.index.models import Chunk
from scopebot.index.protocols import InMemoryRetriever


def test_plans_read_the_quantities_from_the_question() -> None:
    p = plan("What pixel size do I need for NA 1.4 at 520 nm?")
    assert p is not None and p.kind == "nyquist" and p.values == {"na": 1.4, "wavelength": 520.0}
    p = plan("How many parameters does a 9x9 convolution layer from 3 to 6 channels have?")
    assert p is not None and p.kind == "conv_params" and p.values["cin"] == 3 and p.values["cout"] == 6
    p = plan("Convert 0.108 micrometres per pixel to nanometres.")
    assert p is not None and p.kind == "unit" and p.units == ("µm", "nm")
    assert plan("What is Noise2Void?") is None


@pytest.mark.parametrize("question", [
    "What z-step should I use for a 1.4 NA oil objective at 520 nm to satisfy Nyquist?",
    "Which axial sampling do I need with NA 1.4 at 520 nm?",
    "How big should the step between planes be for a 1.2 NA objective at 488 nm (Nyquist sampling)?",
    "What slice spacing gives Nyquist sampling at NA 1.4 and 520 nm?",
])
def test_an_axial_step_is_never_answered_with_the_lateral_pixel_size(question: str) -> None:
    # the lateral rule (resolution / 2.3) computed for a z question prints the wrong quantity, "verified"
    assert plan(question) is None


def test_the_lateral_rule_still_answers_pixel_and_sampling_questions() -> None:
    for question in ("What pixel size do I need for NA 1.4 at 520 nm?",
                     "Nyquist sampling for a 1.4 NA lens at 520 nm: how big may a pixel be?"):
        p = plan(question)
        assert p is not None and p.kind == "nyquist"


def test_computations_show_the_formula_and_the_arithmetic() -> None:
    calc = SafeCalculator()
    p = plan("What pixel size do I need for NA 1.4 at 520 nm?")
    assert p is not None
    done = compute(p, {"resolution": "tr-aaaa1111", "nyquist": "tr-bbbb2222"}, calc)
    assert done is not None and verify(done)
    assert "λ / (2 NA)" in done.text and "185.7" in done.text and "92.9" in done.text
    assert "[tr-aaaa1111]" in done.text and "[tr-bbbb2222]" in done.text
    p = plan("How many parameters does a 9x9 convolution layer from 3 to 6 channels have?")
    assert p is not None
    done = compute(p, {"conv_params": "bk-cccc3333"}, calc)
    assert done is not None and "1458" in done.text and "1464" in done.text
    assert compute(p, {}, calc) is None  # no passage states the formula: no number


def test_channels_named_as_feature_maps_and_nyquist_from_the_feature_size() -> None:
    calc = SafeCalculator()
    p = plan("A layer maps a 2-channel image to 4 feature maps with 3 by 3 filters. How many weights and biases?")
    assert p is not None and p.kind == "conv_params" and (p.values["cin"], p.values["cout"]) == (2.0, 4.0)
    done = compute(p, {"conv_params": "bk-cccc3333"}, calc)
    assert done is not None and "72 weights" in done.text and "76 parameters" in done.text
    p = plan("My smallest features are about 450 nm wide; which pixel size does Nyquist sampling ask for?")
    assert p is not None and p.kind == "nyquist_size" and p.values == {"size": 450.0} and p.formulas == ["nyquist"]
    done = compute(p, {"nyquist": "tr-bbbb2222"}, calc)
    assert done is not None and verify(done) and "225 nm" in done.text and "150 nm" in done.text
    assert "[tr-bbbb2222]" in done.text
    assert compute(p, {}, calc) is None  # the rule must be stated in a passage
    p = plan("What pixel size for structures of 0.3 µm?")
    assert p is not None and p.kind == "nyquist_size" and p.units == ("µm", "µm")
    assert plan("What pixel size do I need for NA 1.4 at 520 nm?").kind == "nyquist"  # type: ignore[union-attr]


def test_psnr_from_an_mse_and_the_largest_pixel_value() -> None:
    calc = SafeCalculator()
    p = plan("My denoised stack is scaled to the range 0 to 1 and has an MSE of 0.001. What PSNR does that give?")
    assert p is not None and p.kind == "psnr" and p.values == {"max": 1.0, "mse": 0.001}
    done = compute(p, {"psnr": "bk-dddd4444"}, calc)
    assert done is not None and verify(done) and "= 30 dB" in done.text and "[bk-dddd4444]" in done.text
    p = plan("A 16-bit restoration has a mean squared error of 100. What is its PSNR?")
    assert p is not None and p.values["max"] == 65535.0
    assert plan("What PSNR do I get for an MSE of 0.01?") is None  # no largest pixel value: no number
    assert plan("What is PSNR?") is None
    assert calc.evaluate("10 * log10(100)") == 20.0


def test_safe_calculator_refuses_anything_but_arithmetic() -> None:
    calc = SafeCalculator()
    assert calc.evaluate("(2 + 3) * 4 / 2 ** 2") == 5.0
    for bad in ["__import__('os')", "x + 1", "[1, 2]", "open('f')", "log10(1, 2)", "exp(1)"]:
        with pytest.raises(ValueError):
            calc.evaluate(bad)


class _Refusing:
    def run(self, code: str, **kw: object) -> object:
        raise RuntimeError("no kernel-enforced boundary on this machine")


def test_sandbox_refusal_falls_back_and_says_so() -> None:
    calc = SandboxCalculator(lambda: _Refusing())
    assert calc.evaluate("520 / (2 * 1.4)") == pytest.approx(185.714, rel=1e-4)
    assert "sandbox refused" in calc.name and "kernel" in calc.name


def _chunk(name: str, kind: str, title: str, body: str) -> Chunk:
    return Chunk(key=make_key(kind, name, body), source_id=f"test-{kind}", kind=kind, title=title, section=title,
                 breadcrumb=f"Test › {title}", url=f"https://example.org/{name}", text=f"Test › {title}\n{body}")


def test_pipeline_answers_a_number_with_a_cited_formula(tmp_path: Path) -> None:
    chunks = [
        _chunk("res", "training", "Resolution", "The numerical aperture sets how fine the detail can be. The usual "
               "limit of resolution is d = λ / 2NA, so the wavelength matters as much as the aperture."),
        _chunk("nyq", "training", "Pixel size", "Nyquist sampling asks for a pixel size two to three times smaller "
               "than the finest detail that has to be resolved."),
    ]
    p = AnswerPipeline(InMemoryRetriever(chunks), small_model(), settings(tmp_path))
    answer = p.answer("What pixel size do I need for a numerical aperture NA 1.4 at 520 nm?")
    assert not answer.abstained
    assert "185.7" in answer.answer and "92.9" in answer.answer
    computed = [s for s in answer.sentences if s.source == "computed"]
    assert computed and all(s.supported for s in computed)
    assert {c.key for c in answer.citations} >= {chunks[0].key, chunks[1].key}
    assert answer.checks.invalid_citations == 0


def test_pixel_spacing_and_voxel_size_ask_for_the_nyquist_pixel_size() -> None:
    for q in ("roughly what pixel spacing do I need for a 1.2 NA lens at 600 nm?",
              "Which voxel size suits 0.8 NA and 500 nm emission?"):
        p = plan(q)
        assert p is not None and p.kind == "nyquist" and p.values["na"] in (1.2, 0.8)
    assert plan("How do I change the pixel spacing metadata in Fiji?") is None


def test_input_and_output_channels_named_in_either_order() -> None:
    p = plan("How many weights has a conv layer with 5x5 kernels, 4 input channels and 10 output channels?")
    assert p is not None and p.kind == "conv_params" and (p.values["cin"], p.values["cout"]) == (4.0, 10.0)
    q = plan("How many parameters for 10 output channels from 4 input channels and a 3x3 kernel?")
    assert q is not None and (q.values["cin"], q.values["cout"]) == (4.0, 10.0)


def test_iou_and_dice_from_mask_areas_and_detection_scores_from_counts() -> None:
    calc = SafeCalculator()
    p = plan("Checking my script: the predicted mask has 80 pixels, the ground-truth mask has 100 and they "
             "share 60 pixels. What IoU and Dice should it report?")
    assert p is not None and p.kind == "overlap" and p.values == {"pred": 80.0, "truth": 100.0, "shared": 60.0}
    done = compute(p, {"overlap": "bk-aaaa1111"}, calc)
    assert done is not None and verify(done)
    assert "0.5 (50 %)" in done.text and "0.667 (66.7 %)" in done.text and "[bk-aaaa1111]" in done.text
    p = plan("My detector found 45 true positives, 5 false positives and 15 missed spots. What are precision, "
             "recall and F1?")
    assert p is not None and p.kind == "detection" and p.values == {"tp": 45.0, "fp": 5.0, "fn": 15.0}
    done = compute(p, {"detection": "bk-bbbb2222"}, calc)
    assert done is not None and verify(done)
    assert all(x in done.text for x in ("0.9 (90 %)", "0.75 (75 %)", "0.818 (81.8 %)"))
    assert compute(p, {}, calc) is None  # no cited formula: no number
    assert plan("How are IoU and F1 computed?") is None
    assert plan("The prediction has 50 pixels and the ground truth 40; they share 60. What IoU?") is None
