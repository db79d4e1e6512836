"""The answers suite's cassette wrapper: replay needs the file, and recorded bodies carry no source text."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from scopebot.errors import ConfigurationError
from scopebot.evals.suites.answers import _scrub_body, http_cassette


def test_replay_without_a_cassette_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Cassette not found"):
        with http_cassette(tmp_path / "missing.yaml"):
            pass


def test_no_cassette_is_a_no_op() -> None:
    with http_cassette(None):
        pass


def test_recorded_request_bodies_are_replaced_by_a_hash() -> None:
    req = SimpleNamespace(body=b'{"messages": [{"content": "a passage from the book"}]}')
    out = _scrub_body(req)
    assert b"passage" not in out.body and b"sha256" in out.body


def test_shipped_cassette_has_no_prompts_or_keys() -> None:
    path = Path(__file__).resolve().parents[1] / "cassettes" / "answers" / "openai_generative.yaml"
    text = path.read_text()
    assert "sha256" in text and '"messages"' not in text
    assert "authorization" not in text.lower() and "sk-" not in text
