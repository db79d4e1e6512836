"""Tool recommendations against the real index in the configured home (skipped when none is built)."""

from __future__ import annotations

import pytest

from scopebot.errors import ConfigurationError
from scopebot.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def recommender():  # type: ignore[no-untyped-def]
    from scopebot.index.builder import live_dir
    from scopebot.tools.factory import build_recommender

    settings = Settings()
    if live_dir(settings) is None:
        pytest.skip(f"no index built in {settings.home}")
    return build_recommender(settings)


def test_catalog_has_all_three_registries(recommender) -> None:  # type: ignore[no-untyped-def]
    sources = {s for rec in recommender.catalog for s in rec.sources}
    assert {"biii", "bioimage-model-zoo", "awesome-bioimage"} <= sources
    assert len(recommender.catalog) > 500


@pytest.mark.parametrize("request_text", [
    "segment nuclei in 3D fluorescence stacks without coding",
    "track particles in a 2D time-lapse",
    "denoise noisy fluorescence images with deep learning",
])
def test_results_are_real_linked_tools(recommender, request_text: str) -> None:  # type: ignore[no-untyped-def]
    rec = recommender.recommend(request_text, k=5)
    assert not rec.nothing_fits and len(rec.results) == 5
    for result in rec.results:
        assert recommender.catalog.by_name(result.name) is not None
        assert result.why and result.links
    data = rec.to_json()
    assert set(data["results"][0]) >= {"name", "kind", "score", "why", "interface", "license", "links",
                                       "citations"}


def test_model_zoo_models_are_validated(recommender) -> None:  # type: ignore[no-untyped-def]
    models = [rec for rec in recommender.catalog if rec.kind == "model"]
    assert models
    assert all(rec.validation == "valid" or rec.validation.startswith(("invalid: ", "not validated: "))
               for rec in models)
    assert sum(rec.validation == "valid" for rec in models) > len(models) // 2
    assert any(rec.run_with for rec in models)


def test_gibberish_is_rejected(recommender) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError):
        recommender.recommend("zzqv kkrrt wubble")
