"""The model worker dies mid-turn: the CLI exits cleanly with a message, and the server keeps serving.

The worker is the shipped scripted worker (``scopebot.llm.worker_double``), injected with the documented
test hook ``SCOPEBOT_LLM_WORKER_COMMAND``; it dies by a real SIGSEGV after its first words whenever the
question contains the trigger word, like the broken native llama.cpp build did. The index is a small one
built here with the hash embedder, so the test needs no downloaded model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scopebot.index.builder import IndexBuilder
from scopebot.index.embeddings import HashEmbedder
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec

pytestmark = pytest.mark.integration

#: The ``scopebot`` command, run by this Python.
SCOPEBOT = [sys.executable, "-c", "from scopebot.cli import main; main()"]

TRIGGER = "zebrafish"
CRASHING_WORKER = f"python -m scopebot.llm.worker_double --crash-after 1 --crash-when {TRIGGER} --quote-context"
SPEC = SourceSpec(id="crashguide", title="Crash Guide", kind="book", license="x", attribution="x",
                  url="https://example.org", subpath="x", parser="markdown")
# our own words, two unrelated topics so each question retrieves its own section
SECTIONS = [
    ("Light sheet imaging of zebrafish",
     "Light sheet microscopes image living zebrafish embryos with little photobleaching. A thin sheet of light "
     "illuminates only the focal plane, so the rest of the embryo is spared. Fast cameras record the whole "
     "embryo every few seconds."),
    ("Thresholding nuclei",
     "Otsu thresholding separates bright nuclei from a dark background by choosing the grey level that "
     "minimises the variance inside both classes. A small Gaussian blur before thresholding reduces noise. "
     "Touching nuclei are then split with a watershed."),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash") / "home"
    sections = [Section(source_id="crashguide", kind="book", doc_title="Crash Guide", path=["Crash Guide", title],
                        url=f"https://example.org/{i}", text=text) for i, (title, text) in enumerate(SECTIONS)]
    IndexBuilder(Settings(home=root, embedding_model="hash"), HashEmbedder()).ingest_sections(SPEC, sections)
    return root


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPEBOT_")}
    return {**env, "SCOPEBOT_HOME": str(home), "SCOPEBOT_EMBEDDING_MODEL": "hash",
            "SCOPEBOT_LLM_BACKEND": "embedded", "SCOPEBOT_LLM_WORKER_COMMAND": CRASHING_WORKER,
            "SCOPEBOT_FORUM_LIVE": "false"}


def test_cli_exits_cleanly_with_a_message_when_the_worker_dies(home: Path) -> None:
    out = subprocess.run([*SCOPEBOT, "ask", "--mode", "generative",
                          "How do light sheet microscopes image living zebrafish embryos?"],
                         capture_output=True, text=True, timeout=300, env=env_for(home))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    assert "stopped (SIGSEGV) while answering" in out.stderr
    assert "it was restarted" in out.stderr and "How to fix:" in out.stderr
    assert "scopebot models --self-test" in out.stderr


def test_cli_answers_generatively_when_the_worker_does_not_die(home: Path) -> None:
    out = subprocess.run([*SCOPEBOT, "ask", "--mode", "generative", "--json",
                          "How does Otsu thresholding separate bright nuclei from the background?"],
                         capture_output=True, text=True, timeout=300, env=env_for(home))
    assert out.returncode == 0, out.stderr
    import json

    data = json.loads(out.stdout)
    assert not data["abstained"] and data["citations"] and data["backend"] == "embedded:SmolLM2-135M-Instruct"
    assert data["mode"] == "generative" and "Otsu" in data["answer"]


def test_the_server_keeps_serving_other_sessions_after_a_worker_death(home: Path) -> None:
    from scopebot.llm.local import SHARED_POOL
    from scopebot.ui.history import FeedbackStore
    from scopebot.ui.services import Services, SessionSettings
    from scopebot.ui.session import ChatSession

    settings = Settings(home=home, embedding_model="hash", llm_backend="embedded",
                        llm_worker_command=CRASHING_WORKER, forum_live=False, allow_code_execution=False)
    services = Services(settings)
    feedback = FeedbackStore(home / "feedback.jsonl")
    generative = SessionSettings.from_settings(settings).updated(answer_mode="generative")
    first, second = ChatSession(services, feedback, generative), ChatSession(services, feedback, generative)
    try:
        views = list(first.ask("How do light sheet microscopes image living zebrafish embryos?", route="question"))
        final = first.chat[-1]["content"]
        assert "stopped (SIGSEGV)" in final and "it was restarted" in final
        assert views[-1].status is not None and "stopped (SIGSEGV)" in views[-1].status

        list(second.ask("How does Otsu thresholding separate bright nuclei from the background?", route="question"))
        assert len(second.turns) == 1
        answer = second.turns[0]
        assert "Otsu" in second.chat[-1]["content"] and "SIGSEGV" not in second.chat[-1]["content"]
        assert answer is not None

        # and the session whose turn crashed gets its next answer too
        list(first.ask("How does Otsu thresholding separate bright nuclei from the background?", route="question"))
        assert len(first.turns) == 1 and "Otsu" in first.chat[-1]["content"]
    finally:
        services.close()
        SHARED_POOL.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_scopebot_serve_answers_the_next_request_after_a_worker_death(home: Path, tmp_path: Path) -> None:
    import time

    import httpx
    from gradio_client import Client

    port = _free_port()
    env = {**env_for(home), "SCOPEBOT_PORT": str(port), "SCOPEBOT_ANSWER_MODE": "generative",
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([*SCOPEBOT, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "scopebot serve did not start in 180 s"
            time.sleep(1)

        crashed = Client(url, verbose=False).predict(
            "How do light sheet microscopes image living zebrafish embryos?", "question", api_name="/ask")
        assert "stopped (SIGSEGV)" in str(crashed) and "it was restarted" in str(crashed)
        assert server.poll() is None, "the server died with its model worker"

        answered = Client(url, verbose=False).predict(
            "How does Otsu thresholding separate bright nuclei from the background?", "question", api_name="/ask")
        assert "Otsu" in str(answered) and "SIGSEGV" not in str(answered)
        assert server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
