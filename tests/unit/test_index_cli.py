"""`scopebot ingest/search/status` behaviour: JSON shape and exit codes for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scopebot.cli import app
from scopebot.index.builder import IndexBuilder
from scopebot.index.embeddings import HashEmbedder
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec

SPEC = SourceSpec(id="clibook", title="CLI Book", kind="book", license="x", attribution="x",
                  url="https://example.org", subpath="x", parser="markdown")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SCOPEBOT_HOME": str(tmp_path / "home"), "SCOPEBOT_EMBEDDING_MODEL": "hash"}


@pytest.fixture
def built(env: dict[str, str]) -> dict[str, str]:
    settings = Settings(home=Path(env["SCOPEBOT_HOME"]), embedding_model="hash")
    IndexBuilder(settings, HashEmbedder()).ingest_sections(SPEC, [
        Section(source_id="clibook", kind="book", doc_title="4 Segmentation", path=["4 Segmentation", "Watershed"],
                anchor="watershed", url="https://example.org/4.html#watershed",
                text="The watershed transform splits touching nuclei using distance-transform markers."),
        Section(source_id="clibook", kind="book", doc_title="5 Restoration", path=["5 Restoration", "Denoising"],
                anchor="denoising", url="https://example.org/5.html#denoising",
                text="Noise2Void denoises single noisy images without clean targets.")])
    return env


def test_search_json_has_the_documented_shape(built: dict[str, str]) -> None:
    res = CliRunner().invoke(app, ["search", "split touching nuclei", "-k", "2", "--json"], env=built)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["query"] == "split touching nuclei"
    first = data["results"][0]
    assert {"key", "source", "kind", "title", "section", "url", "score", "text"} <= set(first)
    assert first["section"] == "Watershed" and first["url"].endswith("#watershed")
    assert first["source"] == "clibook" and isinstance(first["score"], float)


@pytest.mark.parametrize("args, needle", [
    (["search", "   "], "empty"),
    (["search", "nuclei", "--kind", "blog"], "Unknown source kind"),
])
def test_bad_search_input_exits_2(built: dict[str, str], args: list[str], needle: str) -> None:
    res = CliRunner().invoke(app, args, env=built)
    assert res.exit_code == 2
    assert needle in res.output


def test_missing_index_exits_2_and_says_how_to_fix(env: dict[str, str]) -> None:
    res = CliRunner().invoke(app, ["search", "nuclei"], env=env)
    assert res.exit_code == 2
    assert "scopebot ingest" in res.output
    res = CliRunner().invoke(app, ["status"], env=env)
    assert res.exit_code == 2


def test_status_prints_the_manifest(built: dict[str, str]) -> None:
    res = CliRunner().invoke(app, ["status", "--json"], env=built)
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["sources"]["clibook"]["chunks"] == 2 and data["embedder"] == "hash-256"


def test_ingest_reports_a_missing_source_and_keeps_going(tmp_path: Path, env: dict[str, str]) -> None:
    sources = tmp_path / "sources"
    (sources / "present").mkdir(parents=True)
    (sources / "present" / "a.md").write_text("# Thresholding\n\nOtsu picks a global threshold from the histogram.\n")
    manifest = tmp_path / "sources.yaml"
    manifest.write_text(
        "sources:\n"
        "  - {id: here, title: Here, kind: training, license: x, attribution: x, url: 'https://example.org',"
        " subpath: present, parser: markdown-site}\n"
        "  - {id: gone, title: Gone, kind: training, license: x, attribution: x, url: 'https://example.org/gone',"
        " subpath: absent, parser: markdown-site}\n")
    full = {**env, "SCOPEBOT_SOURCES_DIR": str(sources), "SCOPEBOT_MANIFEST_PATH": str(manifest)}
    res = CliRunner().invoke(app, ["ingest", "--quiet"], env=full)
    assert res.exit_code == 1  # something is missing: non-zero, but the rest was built
    assert "missing" in res.output
    res = CliRunner().invoke(app, ["search", "otsu histogram threshold", "--json"], env=full)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["results"][0]["source"] == "here"
    res = CliRunner().invoke(app, ["status", "--json"], env=full)
    gone = json.loads(res.stdout)["sources"]["gone"]
    assert gone["status"] == "missing" and "SCOPEBOT_SOURCES_DIR" in gone["message"]


def test_ingest_with_no_readable_source_fails_clearly_and_builds_nothing(tmp_path: Path,
                                                                         env: dict[str, str]) -> None:
    manifest = tmp_path / "sources.yaml"
    manifest.write_text(
        "sources:\n"
        "  - {id: gone, title: Gone, kind: training, license: x, attribution: x, url: 'https://example.org/gone',"
        " subpath: absent, parser: markdown-site, download_url: 'https://example.org/gone.zip'}\n")
    full = {**env, "SCOPEBOT_SOURCES_DIR": str(tmp_path / "nowhere"), "SCOPEBOT_MANIFEST_PATH": str(manifest)}
    res = CliRunner().invoke(app, ["ingest", "--quiet"], env=full)
    assert res.exit_code == 1
    assert "could be read" in res.output and "SCOPEBOT_SOURCES_DIR" in res.output
    assert "https://example.org/gone.zip" in res.output  # says where to get the missing source
    assert CliRunner().invoke(app, ["status"], env=full).exit_code == 2  # no empty index was swapped in
