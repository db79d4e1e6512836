"""Word normalisation in front of the planner's vocabulary (scopebot.code.normalise, lexicon_v1.yaml)."""

from __future__ import annotations

import pytest
from plan_helpers import plan_core

from scopebot.answer.text import STOPWORDS, stem
from scopebot.code.normalise import DESCRIPTION_FILLER, load_lexicon, normalise, notes
from scopebot.code.plan import ImageMeta
from scopebot.code.planner import Planner, load_vocabulary


def _texts(request: str) -> list[str]:
    return [t.text for t in normalise(request, load_vocabulary())]


def _descriptions(request: str) -> list[str]:
    """Words kept as typed and read as a description of the sample."""
    return [t.text for t in normalise(request, load_vocabulary()) if t.stem == stem(DESCRIPTION_FILLER)
            and t.text != DESCRIPTION_FILLER]


# --- the data ------------------------------------------------------------------------------------
def test_the_description_filler_is_a_vocabulary_filler_in_no_phrase() -> None:
    vocab = load_vocabulary()
    assert stem(DESCRIPTION_FILLER) in vocab.fillers
    assert not any(stem(DESCRIPTION_FILLER) in phrase for phrase, _ in vocab.phrases)


def test_no_rule_without_a_condition_overrides_a_word_the_vocabulary_gives_a_meaning() -> None:
    vocab = load_vocabulary()
    meaning = {w for phrase, _ in vocab.phrases for w in phrase} | {stem(w) for w in vocab.stains | vocab.negations}
    lexicon = load_lexicon()
    clashes = [rule.source for rules in lexicon.rules.values() for rule in rules
               if len(rule.source) == 1 and rule.when in ("", "descriptor", "label")
               and stem(rule.source[0]) in meaning and stem(rule.source[0]) not in vocab.statistics]
    assert clashes == []
    assert lexicon.version == 1


def test_every_rewrite_targets_words_the_vocabulary_knows_except_the_listed_gaps() -> None:
    vocab = load_vocabulary()
    known = {w for phrase, _ in vocab.phrases for w in phrase} | set(vocab.fillers) | set(vocab.statistics) \
        | set(vocab.qualifiers) | {stem(w) for w in STOPWORDS | vocab.stains | set(vocab.units) | vocab.negations}
    missing = {w for rules in load_lexicon().rules.values() for rule in rules for w in rule.target
               if stem(w) not in known and w not in vocab.units and w.isalpha()}
    # canonical words the vocabulary does not have yet: such a request is still declined, naming the word
    assert missing == {"deconvolution"}  # ("diameter" is a shape measurement now)


def test_every_rule_can_apply() -> None:
    """A rule the vocabulary's own meaning always overrides is dead data: none is shipped."""
    from scopebot.code.normalise import _Normaliser
    from scopebot.code.planner import _tokenise

    lexicon = load_lexicon()
    normaliser = _Normaliser(lexicon, load_vocabulary(), _tokenise)
    assert [r.source for rules in lexicon.rules.values() for r in rules if normaliser._protected(r)] == []


# --- abbreviations -------------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "read"), [
    ("nuc in ch1. avg ch2 int per nuc", "nuclei in ch1 . average ch2 intensity per nuclei"),
    ("uneven illum. bg sub then # spots", "uneven illumination . background subtraction then number of spots"),
    ("avg NN dist btw spots", "average nearest neighbour distance btw spots"),
    ("skel len per fibre", "skeleton length per fibre"),
    ("z-proj (max), # obj", "z projection ( max ) , number of object"),
    ("no. of nuclei w/o bkg corr", "number of nuclei without background correction"),
    ("channel #2", "channel 2"),
])
def test_bench_shorthand_is_read_as_vocabulary_words(typed: str, read: str) -> None:
    assert " ".join(_texts(typed)) == read


# --- spelling ------------------------------------------------------------------------------------
def test_unit_words_after_a_number_and_area_units() -> None:
    assert _texts("the pixel is 250 nanometre") == ["the", "pixel", "is", "250", "nm"]
    assert _texts("nanometre") == ["nanometre"]  # without a number: left for the vocabulary
    assert _texts("area in square um and volume in cubic µm") == ["area", "in", "um2", "and", "volume", "in", "um3"]


def test_british_and_american_endings_map_to_the_one_form_the_vocabulary_knows() -> None:
    assert _texts("denoized") == ["denoised"] and _texts("perimetres") == ["perimeters"]
    assert _texts("filtre") == ["filter"]
    assert _texts("filed") == ["filed"] and _texts("four") == ["four"]  # short words: too many real neighbours


def test_dye_names_in_parts_become_the_stain_name() -> None:
    assert _texts("the Alexa 647 label") == ["the", "alexa647", "label"]
    assert _texts("Alexa Fluor 488") == ["alexa488"]
    assert _texts("alexa 123") == ["alexa", "123"]  # not a stain the vocabulary lists


# --- synonyms and their conditions ---------------------------------------------------------------
def test_synonyms_apply_only_in_their_context() -> None:
    assert _texts("canal 2") == ["channel", "2"] and _texts("the second colour") == ["the", "second", "channel"]
    assert _texts("the canal") == ["the", "canal"]  # no number: an anatomical canal stays unknown
    assert _texts("the quantity of nuclei")[:3] == ["the", "number", "of"]
    assert _texts("the quantity of GFP light")[:2] == ["the", "quantity"]  # not a count of objects
    assert _texts("the medium brightness of channel 2")[:3] == ["the", "mean", "intensity"]
    assert _texts("nuclei of medium brightness") == ["nuclei", "of", "medium", "brightness"]  # a subset
    assert _texts("thin the fibres")[0] == "skeletonise" and _texts("thin fibres") == ["thin", "fibres"]
    assert _texts("2 pictures each second")[1] == "frames" and _texts("two pictures") == ["two", "pictures"]
    assert _texts("every picture of the film")[:2] == ["every", "frame"]


# --- descriptions of the sample ------------------------------------------------------------------
def test_the_sample_is_described_not_measured() -> None:
    assert _descriptions("HeLa cells from a Drosophila wing disc after TNF stimulation, an EdU assay") == [
        "hela", "wing", "disc", "tnf", "stimulation", "assay"]
    assert _descriptions("an antibody against p65 (NF-kB), stained for MAP2 and TOM20") == ["p65", "nf-kb", "map2",
                                                                                         "tom20"]


def test_a_protein_or_dye_name_where_a_channel_is_named_stays_unknown() -> None:
    for request in ("the p65 intensity in each nucleus", "nuclei positive for MAP2", "the tubulin channel",
                    "mean intensity of tubulin", "the tubulin (channel 2)"):
        assert not ({"p65", "map2", "tubulin"} & set(_descriptions(request))), request


def test_identifiers_are_not_channels_units_frames_or_regions() -> None:
    assert _descriptions("c2 ch3 t5 z10 um2 roi1 well3 gfp h2b cy5 p65") == ["p65"]


def test_organelle_adjectives_describe_only_a_label() -> None:
    assert _descriptions("a mitochondrial dye") == ["mitochondrial"]
    assert _descriptions("the mitochondrial area per cell") == []


def test_object_names_map_to_an_object_noun_or_describe_the_next_one() -> None:
    assert _texts("count the P-bodies") == ["count", "the", "foci"]
    assert _texts("count mito per cell")[1] == "mitochondria" and _descriptions("the mito dye") == ["mito"]
    assert _descriptions("count the P-body foci") == ["p-body"]


def test_a_stain_inside_a_compound_keeps_its_meaning() -> None:
    texts = _texts("GFP-tagged granules and Histone-RFP nuclei")
    assert "gfp" in texts and "rfp" in texts and _descriptions("GFP-tagged granules") == ["tagged"]


# --- through the planner -------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "canonical", "meta"), [
    ("nuc = ch1. avg ch2 int per nuc pls", "nuclei = channel 1. average channel 2 intensity per nucleus please",
     ImageMeta(channels=2)),
    ("uneven illum. bg sub then # spots", "uneven illumination. background subtraction then count the spots", None),
    ("avg NN dist btw spots, µm", "average nearest neighbour distance between spots, µm",
     ImageMeta(pixel_size_um=0.5)),
    ("Count the nuclei in this HeLa image (Hoechst) after TNF stimulation.", "Count the nuclei in this image (Hoechst).",
     None),
    ("Some nuclei are glued together. Please cut them apart, then give the quantity of nuclei.",
     "Some nuclei are stuck together. Please split them apart, then give the number of nuclei.", None),
    ("Erase the cells on the edge of the picture and count the ones which remain.",
     "Remove the cells on the edge of the picture and count the ones which remain.", None),
    ("For every picture of the film, tell me how many cells are inside.",
     "For every frame of the movie, tell me how many cells are inside.", ImageMeta(axes="TYX", t=10)),
    ("A pile of slices, the distance between slices is 2 micrometre, pixel 0.5 um: volume of each nucleus",
     "A z-stack, z step 2 um, pixel 0.5 um: volume of each nucleus", ImageMeta(axes="ZYX", z=10)),
    ("Calculate the space occupied by each nucleus in cubic µm (voxel 2 x 0.5 x 0.5 um)",
     "Calculate the size of each nucleus in um3 (voxel 2 x 0.5 x 0.5 um)", ImageMeta(axes="ZYX", z=10)),
    ("Give me the medium brightness of the second colour inside every nucleus, nuclei in the first colour.",
     "Give me the mean intensity of channel 2 inside every nucleus, nuclei in channel 1.", ImageMeta(channels=2)),
])
def test_a_normalised_request_plans_like_its_canonical_wording(planner: Planner, typed: str, canonical: str,
                                                               meta: ImageMeta | None) -> None:
    plan, reference = planner.plan(typed, meta), planner.plan(canonical, meta)
    assert not plan.not_understood and not reference.not_understood, (plan.not_understood, reference.not_understood)
    assert plan.promised() and plan_core(plan) == plan_core(reference)


def test_normalisations_are_shown_in_the_plan(planner: Planner) -> None:
    plan = planner.plan("avg int of ch2 per nuc (ch1), HeLa cells", ImageMeta(channels=2))
    assert "'avg' -> 'average' (abbreviation)" in plan.understood
    assert "'nuc' -> 'nuclei' (abbreviation)" in plan.understood
    assert "'hela' -> describes the sample (not measured)" in plan.understood
    assert notes(normalise("count nuclei", load_vocabulary())) == []


@pytest.mark.parametrize("request_", [
    "measure the surface of each nucleus",  # area or a 3-D surface area?
    "the whole distance the spot walked",  # path length or displacement?
    "the dimension of each blob",  # area, length or diameter?
    "the quantity of GFP light in each nucleus",  # a mean or a total?
    "count the cells which stay",  # a subset of a time-lapse
    "count the transfected cells",  # a subset
    "count the budding cells",  # a subset ("budding yeast" is a description)
    "draw a bar chart of the areas",  # not a histogram
    "count the nuclei of medium brightness",  # a subset
    "the length of the thin fibres",  # an adjective, not thinning
    "count the mitochondrial spots per cell",  # an organelle adjective that is not a label
])
def test_ambiguous_words_stay_unknown(planner: Planner, request_: str) -> None:
    assert planner.plan(request_, ImageMeta(channels=1)).not_understood, request_


def test_a_sample_word_that_is_a_channel_name_still_names_its_channel(planner: Planner) -> None:
    meta = ImageMeta(channels=2, channel_names=["DAPI", "Tubulin"])
    plan = planner.plan("nuclei from DAPI, then the mean intensity of channel 2 (tubulin) in each nucleus", meta)
    assert plan.inputs.channel == 0 and [(m.kind, m.channel) for m in plan.measurements] == [("intensity", 1)]
    assert not any("tubulin" in line and "sample" in line for line in plan.understood)
