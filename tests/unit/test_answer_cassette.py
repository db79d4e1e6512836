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
    """Without a path nothing is patched: a request inside the block reaches the live (local) server."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    import httpx

    class Live(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"live answer")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Live)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with http_cassette(None):
            reply = httpx.get(f"http://127.0.0.1:{server.server_port}/v1/models", timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert reply.status_code == 200 and reply.text == "live answer"


def test_recorded_request_bodies_are_replaced_by_a_hash() -> None:
    req = SimpleNamespace(body=b'{"messages": [{"content": "a passage from the book"}]}')
    out = _scrub_body(req)
    assert b"passage" not in out.body and b"sha256" in out.body


def test_shipped_cassette_has_no_prompts_or_keys() -> None:
    path = Path(__file__).resolve().parents[1] / "cassettes" / "answers" / "openai_generative.yaml"
    text = path.read_text()
    assert "sha256" in text and '"messages"' not in text
    assert "authorization" not in text.lower() and "sk-" not in text


def test_quoted_source_runs_are_redacted_from_recorded_answers(tmp_path: Path) -> None:
    import json

    import yaml

    from scopebot.evals.cassettes import ngram_set, redact_cassette, redact_text

    source = "Self-supervised methods such as this one never need paired noisy and clean images for training."
    grams = ngram_set([source], 8)
    out = redact_text("In short: methods such as this one never need paired noisy and clean images. Nice.", grams, 8)
    assert "paired noisy" not in out and "[…]" in out and out.startswith("In short:") and out.endswith("Nice.")
    assert redact_text("An unrelated sentence stays as it is.", grams, 8) == "An unrelated sentence stays as it is."

    events = [{"id": "x", "choices": [{"index": 0, "delta": {"content": w + " "}, "finish_reason": None}]}
              for w in "they never need paired noisy and clean images for training at all".split()]
    events.append({"id": "x", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    cassette = tmp_path / "c.yaml"
    cassette.write_text(yaml.safe_dump({"interactions": [{"request": {}, "response": {
        "headers": {"content-length": ["1"]}, "body": {"string": body}}}], "version": 1}))
    assert redact_cassette(cassette, [source]) == 1
    new = yaml.safe_load(cassette.read_text())["interactions"][0]["response"]["body"]["string"]
    chunks = [json.loads(ln[6:]) for ln in new.splitlines() if ln.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "paired noisy" not in text and text.startswith("they") and "at all" in text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and new.rstrip().endswith("data: [DONE]")
