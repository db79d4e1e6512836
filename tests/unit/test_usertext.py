"""Undecodable user text (lone surrogates) is replaced at every entry point and at the embedder seam."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from scopebot.cli import app
from scopebot.index.builder import IndexBuilder
from scopebot.index.embeddings import HashEmbedder
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec
from scopebot.usertext import REPLACEMENT, clean_text, clean_value

#: What `scopebot ask "$(cat q.txt)"` receives when q.txt holds the bytes FF FE (not UTF-8).
BAD = b"how do I \xff\xfe segment nuclei?".decode("utf-8", "surrogateescape")


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def test_clean_text_replaces_lone_surrogates_and_keeps_good_text() -> None:
    assert _has_surrogate(BAD)
    cleaned = clean_text(BAD)
    assert cleaned == f"how do I {REPLACEMENT}{REPLACEMENT} segment nuclei?"
    cleaned.encode("utf-8")  # encodable now
    assert clean_text("Noise2Void µm² 😀") == "Noise2Void µm² 😀"
    assert clean_text("\ud800 from JSON") == f"{REPLACEMENT} from JSON"
    assert clean_value({"q": ["a\udcff", 3], "k": 2}) == {"q": [f"a{REPLACEMENT}", 3], "k": 2}


class _StrictEmbedder(HashEmbedder):
    """A hash embedder that fails like the MiniLM tokenizer on a lone surrogate."""

    seen: list[str] = []

    def _encode(self, texts: list[str]) -> np.ndarray:
        for t in texts:
            if _has_surrogate(t):
                raise TypeError("TextEncodeInput must be Union[TextInputSequence, Tuple[InputSequence, ...]]")
        type(self).seen.extend(texts)
        return super()._encode(texts)


def test_the_embedder_seam_cleans_text_for_every_backend() -> None:
    """A backend's forward pass never sees a lone surrogate, whoever calls ``embed``."""
    vecs = _StrictEmbedder().embed([BAD, "plain"])
    assert vecs.shape == (2, 256)
    assert clean_text(BAD) in _StrictEmbedder.seen and BAD not in _StrictEmbedder.seen
    assert _StrictEmbedder().embed([]).shape == (0, 256)


def test_cli_arguments_with_undecodable_bytes_reach_the_command_cleaned(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home, embedding_model="hash")
    spec = SourceSpec(id="b", title="B", kind="book", license="x", attribution="x", url="https://example.org",
                      subpath="x", parser="markdown")
    IndexBuilder(settings, HashEmbedder()).ingest_sections(spec, [Section(
        source_id="b", kind="book", doc_title="4 Seg", path=["4 Seg", "Nuclei"], anchor="n",
        url="https://example.org/4.html#n", text="Segment nuclei with a watershed on the distance transform.")])
    import scopebot.index.embeddings as embeddings

    monkeypatch.setattr(embeddings, "HashEmbedder", _StrictEmbedder)
    res = CliRunner().invoke(app, ["search", BAD, "--json"],
                             env={"SCOPEBOT_HOME": str(home), "SCOPEBOT_EMBEDDING_MODEL": "hash"})
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["query"] == clean_text(BAD)
    assert clean_text(BAD) in _StrictEmbedder.seen



def test_an_argument_naming_an_existing_file_keeps_its_bytes(tmp_path: Path) -> None:
    name = b"\xff-cells.tif".decode("utf-8", "surrogateescape")
    path = tmp_path / name
    path.write_bytes(b"")  # empty: the code command says so, naming the file it found
    res = CliRunner().invoke(app, ["code", "count the nuclei", "--image", str(path)],
                             env={"SCOPEBOT_HOME": str(tmp_path / "home"), "SCOPEBOT_LLM_BACKEND": "scripted"})
    assert res.exit_code == 2
    assert "is empty (0 bytes)" in res.output  # found: the name was not rewritten to U+FFFD
