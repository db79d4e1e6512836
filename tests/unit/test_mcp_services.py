"""The calls behind the MCP tools and the notebook magic, on a small invented index (no SDK needed)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from mcp_helpers import small_settings

from scopebot.citations import NOT_IN_SOURCES
from scopebot.errors import ConfigurationError, MissingIndexError
from scopebot.mcp_server.render import ask_markdown, search_markdown
from scopebot.mcp_server.services import ALLOW_CODE_HINT, ScopebotServices, Upload, safe_name


@pytest.fixture
def services(tmp_path: Path) -> ScopebotServices:
    return ScopebotServices(small_settings(tmp_path))


def test_search_returns_keys_titles_links_and_resource_uris(services: ScopebotServices) -> None:
    out = services.search("noise2void without ground truth", k=2)
    top = out.results[0]
    assert top.section == "Denoising" and top.key.startswith("bk-")
    assert top.url.startswith("https://example.org/") and top.resource_uri == f"scopebot://passage/{top.key}"
    assert f"`[{top.key}]`" in search_markdown(out)
    assert all(p.kind == "registry" for p in services.search("denoising package", kinds=["registry"]).results)


def test_ask_is_cited_and_carries_the_check_report(services: ScopebotServices) -> None:
    out, answer = services.ask("How does Noise2Void denoise without clean images?")
    assert not out.abstained
    assert out.citations and out.citations[0].key in answer.context_keys
    assert "[1]" in out.answer and out.checks.invalid_citations == 0
    md = ask_markdown(out)
    assert "**References**" in md and "**Check report:**" in md and out.citations[0].url in md


def test_ask_abstains_on_an_invented_plugin(services: ScopebotServices) -> None:
    out, _ = services.ask("How do I install the Fiji plugin QuasarNucleiMagic9000?")
    assert out.abstained and out.answer.startswith(NOT_IN_SOURCES)
    assert "Abstained" in ask_markdown(out)


def test_recommend_uses_the_registry(services: ScopebotServices) -> None:
    out, _ = services.recommend("segment nuclei in 3D without coding", interface="gui")
    assert [r.name for r in out.results][:1] == ["NucleoView3D"]
    with pytest.raises(ConfigurationError, match="interface"):
        services.recommend("segment nuclei", interface="touch")


def test_run_code_is_off_unless_allowed(services: ScopebotServices) -> None:
    with pytest.raises(ConfigurationError) as err:
        services.run_code("print(1)")
    assert err.value.hint == ALLOW_CODE_HINT
    with pytest.raises(ConfigurationError, match="off"):
        services.analyse_image("count the nuclei", run=True)


def test_paths_must_be_inside_an_allowed_folder(tmp_path: Path) -> None:
    allowed = tmp_path / "data"
    allowed.mkdir()
    (allowed / "a.txt").write_text("x")
    secret = tmp_path / "secret.txt"
    secret.write_text("s")
    os.symlink(secret, allowed / "link.txt")
    services = ScopebotServices(small_settings(tmp_path), allowed_paths=[allowed])
    assert services.allowed_file(str(allowed / "a.txt")) == (allowed / "a.txt").resolve()
    for bad in (secret, allowed / ".." / "secret.txt", allowed / "link.txt"):
        with pytest.raises(ConfigurationError, match="outside the allowed folders"):
            services.allowed_file(str(bad))
    with pytest.raises(ConfigurationError, match="no folder was allowed"):
        ScopebotServices(small_settings(tmp_path / "other")).allowed_file(str(allowed / "a.txt"))


@pytest.mark.parametrize("name", ["../x.tif", "/etc/passwd", ".hidden", "a/b.tif", ""])
def test_upload_names_are_plain_file_names(name: str) -> None:
    with pytest.raises(ConfigurationError):
        safe_name(name)


def test_bad_base64_is_a_usage_error(services: ScopebotServices) -> None:
    with pytest.raises(ConfigurationError, match="base64"):
        services.analyse_image("count the nuclei", upload=Upload(name="x.png", content_base64="***"))


def test_analyse_image_without_running_shows_the_planned_code_and_is_not_ok(
        services: ScopebotServices, tmp_path: Path) -> None:
    import numpy as np
    import tifffile

    from scopebot.code.compile import compile_plan
    from scopebot.code.inputs import image_meta
    from scopebot.code.planner import Planner

    path = tmp_path / "cells.ome.tif"
    tifffile.imwrite(path, (np.random.default_rng(0).random((32, 32)) * 255).astype("uint8"), ome=True,
                     metadata={"PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2, "axes": "YX"})
    request = "count the nuclei and measure their area in square microns"
    up = Upload(name="cells.ome.tif", content_base64=base64.b64encode(path.read_bytes()).decode())
    out = services.analyse_image(request, upload=up)
    assert not out.ran and not out.ok and out.status == "not_run"
    assert out.recipe is None and "Keywords:" not in out.code  # not the old recipe path
    # the code shown is the code the CLI's plan compiles to (the OME pixel size was read: um^2 promised)
    assert out.code == compile_plan(Planner().plan(request, image_meta(path)))
    assert out.plan_text and "um^2" in out.plan_text
    assert "IMAGE_PATH" in out.code and out.image["shape"] == [32, 32]


def test_analyse_image_declines_what_the_plan_cannot_answer_without_running(services: ScopebotServices) -> None:
    out = services.analyse_image("count the nuclei and measure their area in square microns")
    assert out.status in ("not_run", "declined") and not out.ok and not out.ran
    out = services.analyse_image("frobnicate the quux with a gleeble")
    assert out.status == "declined" and out.declined and not out.ok and out.problems


def test_passage_and_contents_by_key(services: ScopebotServices) -> None:
    first = services.contents("testbook")[0]
    assert services.passage(first["key"]).url == first["url"]
    with pytest.raises(ConfigurationError, match="No passage"):
        services.passage("bk-00000000")
    with pytest.raises(ConfigurationError, match="Unknown source"):
        services.contents("nope")


def test_missing_index_says_how_to_fix(tmp_path: Path) -> None:
    from scopebot.settings import Settings

    services = ScopebotServices(Settings(home=tmp_path / "empty", embedding_model="hash"))
    with pytest.raises(MissingIndexError) as err:
        services.search("noise2void")
    assert "scopebot ingest" in err.value.hint
