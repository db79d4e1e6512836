"""The shipped eval datasets load and validate, the schemas on disk match the models, and every
section / tool name the datasets refer to exists in the raw knowledge sources (when present)."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import pytest
import yaml

from scopebot.errors import ConfigurationError
from scopebot.evals.datasets import (
    DATASET_KINDS,
    DATASETS_DIR,
    ROUTE_LABELS,
    SCHEMAS_DIR,
    AnswerItem,
    DatasetError,
    dataset_schema,
    default_dataset_path,
    load_dataset,
    write_schemas,
)
from scopebot.settings import Settings

SOURCE_IDS = {
    "janelia-book", "biii", "bioimage-model-zoo", "neubias", "carpentries-microscopy",
    "datacarpentry-image-processing", "coba-guide", "bioimage-notebooks", "nfdi4bioimage",
    "awesome-bioimage",
}


@pytest.fixture(scope="module")
def datasets() -> dict:
    return {kind: load_dataset(default_dataset_path(kind), kind) for kind in DATASET_KINDS}


# --------------------------------------------------------------------------------------------------
# Shipped datasets
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", DATASET_KINDS)
def test_shipped_dataset_loads_with_unique_ids(datasets: dict, kind: str) -> None:
    ds = datasets[kind]
    assert ds.name == kind
    assert ds.version == "1"
    assert ds.description
    ids = ds.ids
    assert len(ids) == len(set(ids))


def test_retrieval_counts_and_book_share(datasets: dict) -> None:
    items = datasets["retrieval"].items
    assert len(items) >= 100
    book = [i for i in items if any(e.source == "janelia-book" for e in i.expected)]
    assert len(book) / len(items) >= 0.6
    for item in items:
        assert {e.source for e in item.expected} <= SOURCE_IDS, item.id
    # every non-book source is exercised at least once
    used = {e.source for i in items for e in i.expected}
    assert used == SOURCE_IDS


def test_answer_counts(datasets: dict) -> None:
    items = datasets["answers"].items
    answerable = [i for i in items if i.answerable]
    unanswerable = [i for i in items if not i.answerable]
    assert len(answerable) >= 60
    assert len(unanswerable) >= 25
    for item in answerable:
        assert set(item.expected_sources) <= SOURCE_IDS, item.id


@pytest.mark.parametrize("path", sorted(DATASETS_DIR.glob("answers_*.yaml")), ids=lambda p: p.stem)
def test_every_answer_set_names_real_source_ids(path: Path) -> None:
    """A folder name ('carpentries-microscopy-novice') in expected_sources would score every source hit 0."""
    for item in load_dataset(path, "answers").items:
        assert set(item.expected_sources) <= SOURCE_IDS, (path.name, item.id, item.expected_sources)


def test_routing_counts_per_label(datasets: dict) -> None:
    items = datasets["routing"].items
    assert len(items) >= 120
    counts = collections.Counter(i.label for i in items)
    assert set(counts) == set(ROUTE_LABELS)
    assert min(counts.values()) >= 15, counts
    assert sum(1 for i in items if i.history) >= 10


def test_tools_counts(datasets: dict) -> None:
    items = datasets["tools"].items
    assert len(items) >= 45
    for item in items:
        assert 2 <= len(item.acceptable) <= 6, item.id


def test_questions_are_not_duplicated_across_items(datasets: dict) -> None:
    for kind, attr in (("retrieval", "question"), ("answers", "question"), ("routing", "text"),
                       ("tools", "request")):
        texts = [getattr(i, attr).lower() for i in datasets[kind].items]
        assert len(texts) == len(set(texts)), kind


# --------------------------------------------------------------------------------------------------
# Loader behaviour
# --------------------------------------------------------------------------------------------------
def test_invalid_items_are_all_reported_with_file_and_id(tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text(yaml.safe_dump({
        "name": "mine", "version": 2,
        "items": [
            {"id": "ok-1", "question": "fine?", "expected": [{"source": "biii", "section": "Fiji"}]},
            {"id": "no-expected", "question": "missing sections"},
            {"question": "no id", "expected": [{"source": "biii", "section": "Fiji"}]},
            {"id": "ok-1", "question": "dup", "expected": [{"source": "biii", "section": "Icy"}]},
            {"id": "typo", "question": "q", "expeced": []},
        ],
    }))
    with pytest.raises(DatasetError) as info:
        load_dataset(bad, "retrieval")
    text = str(info.value)
    assert str(bad) in text
    assert "item 'no-expected' (#1)" in text and "expected" in text
    assert "item #2" in text and "'id'" in text
    assert "duplicate id" in text
    assert "item 'typo' (#4)" in text and "expeced" in text
    assert isinstance(info.value, ConfigurationError) and info.value.hint


def test_yaml_version_number_becomes_text(tmp_path: Path) -> None:
    f = tmp_path / "r.yml"
    f.write_text("name: r\nversion: 3\nitems:\n- {id: a, text: hello there, label: chitchat}\n")
    ds = load_dataset(f, "routing")
    assert ds.version == "3" and ds.items[0].label == "chitchat"


def test_jsonl_with_header_and_without(tmp_path: Path) -> None:
    with_header = tmp_path / "tools.jsonl"
    with_header.write_text(
        json.dumps({"name": "lab-tools", "version": "7"}) + "\n\n# a comment\n"
        + json.dumps({"id": "t1", "request": "track cells", "acceptable": ["TrackMate", "Ultrack"]}) + "\n"
        + json.dumps({"id": "t2", "request": "denoise", "dims": "3d", "acceptable": ["CSBDeep"]}) + "\n")
    ds = load_dataset(with_header, "tools")
    assert (ds.name, ds.version, ds.ids) == ("lab-tools", "7", ["t1", "t2"])
    assert ds.items[1].dims == "3d" and ds.items[0].interface == "any"

    bare = tmp_path / "qs.jsonl"
    bare.write_text(json.dumps({"id": "q1", "question": "what is N2V?", "answerable": False,
                                "reason": "test"}) + "\n")
    ds = load_dataset(bare, "answers")
    assert (ds.name, ds.version) == ("qs", "0")


def test_jsonl_bad_line_reports_line_number(tmp_path: Path) -> None:
    f = tmp_path / "x.jsonl"
    f.write_text('{"id": "a", "text": "hi", "label": "chitchat"}\n{not json}\n')
    with pytest.raises(DatasetError, match=r"x\.jsonl:2"):
        load_dataset(f, "routing")


def test_unknown_label_and_kind_and_missing_file(tmp_path: Path) -> None:
    f = tmp_path / "r.yaml"
    f.write_text("name: r\nversion: '1'\nitems:\n- {id: a, text: hi, label: smalltalk}\n")
    with pytest.raises(DatasetError, match="item 'a'"):
        load_dataset(f, "routing")
    with pytest.raises(ConfigurationError, match="Unknown dataset kind"):
        load_dataset(f, "quiz-of-doom")
    with pytest.raises(DatasetError, match="not found"):
        load_dataset(tmp_path / "missing.yaml", "routing")


def test_answer_item_consistency_rules() -> None:
    with pytest.raises(ValueError, match="key fact"):
        AnswerItem(id="a", question="q", expected_sources=["biii"])
    with pytest.raises(ValueError, match="reason"):
        AnswerItem(id="a", question="q", answerable=False)
    with pytest.raises(ValueError, match="must not have key_facts"):
        AnswerItem(id="a", question="q", answerable=False, reason="r", key_facts=[["x"]])
    item = AnswerItem(id="a", question="q", key_facts=[[" n2v ", ""]], expected_sources=["janelia-book"])
    assert item.key_facts == [["n2v"]]


# --------------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", DATASET_KINDS)
def test_schema_on_disk_matches_models(kind: str) -> None:
    on_disk = json.loads((SCHEMAS_DIR / f"{kind}.schema.json").read_text())
    assert on_disk == dataset_schema(kind), (
        "schemas are stale: run python -c 'from scopebot.evals.datasets import write_schemas; "
        "write_schemas()'")


def test_write_schemas_creates_one_file_per_kind(tmp_path: Path) -> None:
    paths = write_schemas(tmp_path / "schemas")
    assert sorted(p.name for p in paths) == sorted(f"{k}.schema.json" for k in DATASET_KINDS)
    retrieval = json.loads(paths[0].read_text())
    assert "items" in retrieval["properties"]


def test_shipped_files_live_in_datasets_dir() -> None:
    for kind in DATASET_KINDS:
        assert default_dataset_path(kind).parent == DATASETS_DIR
        assert default_dataset_path(kind).is_file()


# --------------------------------------------------------------------------------------------------
# Cross-check against the raw sources (skipped when the offline copies are absent)
# --------------------------------------------------------------------------------------------------
SOURCES = Settings().sources_dir
needs_sources = pytest.mark.skipif(not (SOURCES / "janelia-ai-in-microscopy-book").is_dir(),
                                   reason="offline knowledge sources not present")

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_ATTR = re.compile(r"\s*\{[^{}]*\}\s*$")


def _md_headings(text: str) -> set[str]:
    """Markdown headings outside fenced code blocks, without '#' and trailing '{#anchor}'."""
    out, fenced = set(), False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        m = _HEADING.match(line)
        if m and not fenced:
            out.add(_ATTR.sub("", m.group(2)).strip())
    return out


def _files_headings(paths: list[Path]) -> set[str]:
    out: set[str] = set()
    for p in paths:
        out |= _md_headings(p.read_text(encoding="utf-8"))
    return out


def _biii_titles() -> set[str]:
    text = (SOURCES / "biii-2018-dump" / "neubias-dump-20180410.ttl").read_text(encoding="utf-8")
    return {t.strip() for t in re.findall(r'dc:title "((?:[^"\\]|\\.)*)"', text)}


def _bmz_names() -> set[str]:
    data = json.loads((SOURCES / "bioimage-model-zoo" / "bmz-catalog-2026-05-20.json").read_text())
    return {i["name"].strip() for i in data["items"] if i.get("name")}


def _awesome_names() -> set[str]:
    text = (SOURCES / "awesome-biological-image-analysis" / "README.md").read_text(encoding="utf-8")
    return {m.strip() for m in re.findall(r"^\s*[-*] \[([^\]]+)\]\(", text, re.M)}


def _source_index() -> dict[str, set[str]]:
    book = SOURCES / "janelia-ai-in-microscopy-book"
    glossary = yaml.safe_load((book / "glossary.yml").read_text(encoding="utf-8"))
    neubias = SOURCES / "neubias-training-resources"
    neubias_titles = set()
    for p in (neubias / "_modules").glob("*.md"):
        m = re.search(r"^title:\s*(.+)$", p.read_text(encoding="utf-8"), re.M)
        if m:
            neubias_titles.add(m.group(1).strip().strip("\"'").strip())
    notebooks = set()
    for line in (SOURCES / "bioimage-analysis-notebooks-text" / "markdown_cells.jsonl").open():
        notebooks |= _md_headings(json.loads(line)["text"])
    nfdi = yaml.safe_load((SOURCES / "nfdi4bioimage-training-index" / "resources" /
                           "nfdi4bioimage.yml").read_text(encoding="utf-8"))["resources"]
    awesome = SOURCES / "awesome-biological-image-analysis" / "README.md"
    return {
        "janelia-book": _files_headings(sorted((book / "chapters").glob("*.*md"))) | {
            str(k).strip() for k in glossary},
        "biii": _biii_titles(),
        "bioimage-model-zoo": _bmz_names(),
        "neubias": neubias_titles | _files_headings(sorted(neubias.rglob("*.md"))),
        "carpentries-microscopy": _files_headings(
            sorted((SOURCES / "carpentries-microscopy-novice" / "episodes").glob("*.md"))),
        "datacarpentry-image-processing": _files_headings(
            sorted((SOURCES / "datacarpentry-image-processing").rglob("*.md"))),
        "coba-guide": _files_headings(sorted((SOURCES / "coba-microscopy-for-beginners").rglob("*.md"))),
        "bioimage-notebooks": notebooks,
        "nfdi4bioimage": {str(r["name"]).strip() for r in nfdi if r.get("name")},
        "awesome-bioimage": _md_headings(awesome.read_text(encoding="utf-8")) | _awesome_names(),
    }


@needs_sources
def test_every_expected_section_exists_in_its_source(datasets: dict) -> None:
    index = _source_index()
    missing = [f"{item.id}: {e.source} / {e.section!r}"
               for item in datasets["retrieval"].items for e in item.expected
               if e.section not in index[e.source]]
    assert not missing, "sections not found in the raw sources:\n" + "\n".join(missing)


@needs_sources
def test_every_acceptable_tool_exists_in_the_index(datasets: dict) -> None:
    names = _biii_titles() | _bmz_names() | _awesome_names()
    missing = [f"{item.id}: {name!r}" for item in datasets["tools"].items for name in item.acceptable
               if name not in names]
    assert not missing, "tool names not in BIII / Model Zoo / awesome list:\n" + "\n".join(missing)


@needs_sources
def test_the_source_check_can_fail(datasets: dict) -> None:
    """Guard against a check that passes vacuously: a made-up heading must not be found."""
    index = _source_index()
    assert "Noise2Void for Dummies" not in index["janelia-book"]
    assert "Denoising without a clean image" in index["janelia-book"]
    assert "TrackMate" in _biii_titles()


def _source_texts() -> dict[str, str]:
    """Lower-cased raw text of each source (for keyword and copy checks)."""
    def read(paths: list[Path]) -> str:
        return "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in paths).lower()
    book = SOURCES / "janelia-ai-in-microscopy-book"
    return {
        "janelia-book": read(sorted((book / "chapters").glob("*.*md")) + [book / "glossary.yml"]),
        "biii": read([SOURCES / "biii-2018-dump" / "neubias-dump-20180410.ttl"]),
        "bioimage-model-zoo": read([SOURCES / "bioimage-model-zoo" / "bmz-catalog-2026-05-20.json"]),
        "neubias": read(sorted((SOURCES / "neubias-training-resources").rglob("*.md"))),
        "carpentries-microscopy": read(sorted((SOURCES / "carpentries-microscopy-novice").rglob("*.md"))),
        "datacarpentry-image-processing": read(
            sorted((SOURCES / "datacarpentry-image-processing").rglob("*.md"))),
        "coba-guide": read(sorted((SOURCES / "coba-microscopy-for-beginners").rglob("*.md"))),
        "bioimage-notebooks": read([SOURCES / "bioimage-analysis-notebooks-text" / "markdown_cells.jsonl"]),
        "nfdi4bioimage": read([SOURCES / "nfdi4bioimage-training-index" / "resources" / "nfdi4bioimage.yml"]),
        "awesome-bioimage": read([SOURCES / "awesome-biological-image-analysis" / "README.md"]),
    }


@needs_sources
def test_key_fact_keywords_appear_in_the_expected_sources(datasets: dict) -> None:
    texts = _source_texts()
    missing = []
    for item in datasets["answers"].items:
        if not item.answerable:
            continue
        corpus = "\n".join(texts[s] for s in item.expected_sources)
        missing += [f"{item.id}: {fact}" for fact in item.key_facts
                    if not any(alt.lower() in corpus for alt in fact)]
    assert not missing, "key facts with no keyword found in the sources:\n" + "\n".join(missing)


def _shingles(text: str, n: int = 8) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


@needs_sources
def test_questions_are_written_in_our_own_words(datasets: dict) -> None:
    """No question shares a run of 8 consecutive words with any source (no copied sentences)."""
    corpus: set[tuple[str, ...]] = set()
    for text in _source_texts().values():
        corpus |= _shingles(text)
    copied = []
    for kind, attr in (("retrieval", "question"), ("answers", "question"), ("tools", "request")):
        for item in datasets[kind].items:
            if _shingles(getattr(item, attr)) & corpus:
                copied.append(f"{item.id}: {getattr(item, attr)}")
    assert not copied, "questions copying source text:\n" + "\n".join(copied)


def test_json_file_and_bare_item_list(tmp_path: Path) -> None:
    f = tmp_path / "routes.json"
    f.write_text(json.dumps([{"id": "a", "text": "thanks!", "label": "chitchat"},
                             {"id": "b", "text": "and in 3D?", "label": "tool",
                              "history": [{"user": "which tool segments nuclei?", "route": "tool"}]}]))
    ds = load_dataset(f, "routing")
    assert ds.name == "routes" and ds.items[1].history[0].route == "tool"
