"""Name inventories and the checks on every name a question gives: API names, modules, chapters."""

from __future__ import annotations

from pathlib import Path

from test_answer_fixtures import retriever, settings, small_model

from scopebot.answer.entities import EntityChecker, find_entities
from scopebot.answer.inventory import NAMES_DIR, default_inventory
from scopebot.answer.pipeline import AnswerPipeline


def test_inventories_are_shipped_and_know_real_names() -> None:
    assert {p.stem for p in NAMES_DIR.glob("*.json")} >= {"napari", "cellpose", "stardist", "cellprofiler",
                                                          "imagej_macro"}
    inv = default_inventory()
    for real in ["viewer.add_labels", "viewer.add_image", "Roi.getBounds", "roiManager", "IdentifyPrimaryObjects",
                 "cellpose.models.CellposeModel", "StarDist2D.from_pretrained", "2D_versatile_fluo"]:
        assert inv.knows(real), real
    for fake in ["viewer.add_instance_contours", "Roi.autoSplitTouching", "IdentifyNucleiTransformer",
                 "cellpose.models.AutoDiameterNet", "3D_nuclei_ultra"]:
        assert not inv.knows(fake), fake


def test_api_and_chapter_names_are_found_in_questions() -> None:
    kinds = {e.name: e.kind for e in find_entities(
        "How do I call viewer.add_instance_contours() and Roi.autoSplitTouching() as in chapter 12?")}
    assert kinds.get("viewer.add_instance_contours") == "api"
    assert kinds.get("Roi.autoSplitTouching") == "api"
    assert kinds.get("chapter 12") == "chapter"
    assert "print" not in kinds  # a plain word before brackets is no API name


def test_checker_verifies_names_against_inventories_corpus_and_chapters() -> None:
    checker = EntityChecker(chapters=range(1, 12), identifiers={"my_corpus_function"})
    report = checker.check("Use viewer.add_labels() or my_corpus_function() as chapter 4 shows; "
                           "viewer.add_instance_contours() and chapter 12 do not exist.")
    assert set(report.unknown) == {"viewer.add_instance_contours", "chapter 12"}
    assert "viewer.add_labels" in report.known and "chapter 4" in report.known


def test_a_question_naming_an_invented_api_abstains_about_that_name(tmp_path: Path) -> None:
    p = AnswerPipeline(retriever(), small_model(), settings(tmp_path))
    for question, name in [("How do I outline nuclei with viewer.add_instance_contours() in napari?",
                            "viewer.add_instance_contours"),
                           ("Does Roi.autoSplitTouching() split touching nuclei in an ImageJ macro?",
                            "Roi.autoSplitTouching")]:
        answer = p.answer(question)
        assert answer.abstained, question
        assert name in answer.abstain_reason


def test_lowercase_hyphenated_and_snake_case_names_found_nowhere_are_named() -> None:
    from scopebot.answer.abstain import unseen_names

    vocabulary = {"threshold": 40, "plugin": 30, "fiji": 25, "napari": 20, "nuclei": 50, "count": 12,
                  "python": 9, "packag": 9, "segment": 30, "skimag": 8}
    checker = EntityChecker()
    assert unseen_names("What does the nucleoquant plugin for Fiji compute?", vocabulary, checker) == ["nucleoquant"]
    assert unseen_names("How do I install napari-nucleus-wizard?", vocabulary, checker) == ["napari-nucleus-wizard"]
    assert unseen_names("Call threshold_triangle_plus on my image.", vocabulary, checker) == ["threshold_triangle_plus"]
    assert unseen_names("Is segmentron a good Python package for nuclei?", vocabulary, checker) == ["segmentron"]
    # words the corpus uses, registry names and ordinary questions are not names found nowhere
    assert unseen_names("Which threshold plugin in Fiji counts nuclei?", vocabulary, checker) == []
    assert unseen_names("Is the Cellpose plugin good?", vocabulary, checker) == []
    assert unseen_names("How do I segment nuclei in 3D?", vocabulary, checker) == []
    assert unseen_names("When should an agent write throwaway analysis software?", vocabulary, checker) == []


def test_a_hyphenated_sample_description_is_checked_by_what_it_names() -> None:
    """"DAPI-stained nuclei" asks about nuclei stained with DAPI: DAPI must be known, not the compound."""
    from scopebot.answer.abstain import unseen_names

    vocabulary = {"dapi": 12, "stain": 40, "nuclei": 50, "gfp": 9, "cellpos": 20, "stardist": 20}
    checker = EntityChecker()
    assert unseen_names("Cellpose or StarDist for DAPI-stained nuclei?", vocabulary, checker) == []
    assert unseen_names("How do I count GFP-positive cells?", vocabulary, checker) == []
    # the first part must still be known, and a compound that is not a description stays a name
    assert unseen_names("How do I count Zorblax-stained cells?", vocabulary, checker) == ["Zorblax"]
    assert unseen_names("How do I install napari-nucleus-wizard?", vocabulary, checker) == ["napari-nucleus-wizard"]
