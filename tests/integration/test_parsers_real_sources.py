"""Parse every source of the real manifest from the offline copies (skipped when they are absent)."""

from __future__ import annotations

import pytest

from scopebot.settings import Settings
from scopebot.sources.base import ParseReport, get_parser
from scopebot.sources.manifest import load_manifest, source_path

pytestmark = pytest.mark.integration

#: Lower bounds on sections per source (the offline copies give noticeably more).
MIN_SECTIONS = {"janelia-book": 100, "biii": 1000, "bioimage-model-zoo": 200, "neubias": 300,
                "carpentries-microscopy": 50, "datacarpentry-image-processing": 40, "coba-guide": 30,
                "bioimage-notebooks": 500, "nfdi4bioimage": 800, "awesome-bioimage": 100}


def _settings() -> Settings:
    settings = Settings()
    if not settings.sources_dir.is_dir():
        pytest.skip(f"knowledge sources not found at {settings.sources_dir}")
    return settings


@pytest.mark.parametrize("source_id", sorted(MIN_SECTIONS))
def test_real_source_parses_with_sane_counts(source_id: str) -> None:
    settings = _settings()
    spec = next(s for s in load_manifest(settings.manifest_path) if s.id == source_id)
    root = source_path(spec, settings.sources_dir)
    report = ParseReport(spec.id)
    sections = list(get_parser(spec.parser)(root, spec, report))
    assert len(sections) >= MIN_SECTIONS[source_id]
    assert all(s.url.startswith(("https://", "http://")) and s.text.strip() for s in sections)
    assert all(s.source_id == spec.id and s.kind == spec.kind and s.path for s in sections)
    assert len(report.problems) <= 2, [str(p) for p in report.problems]


def test_manifest_lists_every_offline_source() -> None:
    settings = _settings()
    specs = load_manifest(settings.manifest_path)
    assert {s.id for s in specs} == set(MIN_SECTIONS)
    folders = {p.name for p in settings.sources_dir.iterdir() if p.is_dir()}
    assert {s.subpath for s in specs} == folders
