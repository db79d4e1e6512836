"""``scopebot models`` on a throw-away Typer app (settings come from the environment given to the runner)."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from scopebot.llm.cli import register

SECRET = "sk-cli-SECRET-abcdef123456"


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keeps "models" a sub-command
        """test app"""

    result = CliRunner().invoke(app, ["models", *args], env=env)
    return result.exit_code, result.output


def test_scripted_backend_is_ready(tmp_path: Path) -> None:
    code, out = run({"SCOPEBOT_HOME": str(tmp_path), "SCOPEBOT_LLM_BACKEND": "scripted"})
    assert code == 0
    assert "scripted:echo" in out and "ready" in out and "API key (OPENAI_API_KEY)  not set" in out


def test_key_is_only_shown_as_set_and_unreachable_endpoint_fails(tmp_path: Path) -> None:
    code, out = run({"SCOPEBOT_HOME": str(tmp_path), "SCOPEBOT_LLM_BASE_URL": "http://127.0.0.1:9/v1",
                     "SCOPEBOT_LLM_TIMEOUT": "2", "OPENAI_API_KEY": SECRET})
    assert code == 1
    assert SECRET not in out and "SECRET" not in out
    assert " set" in out and "endpoint unreachable at http://127.0.0.1:9/v1" in out


def test_missing_gguf_path_is_explained(tmp_path: Path) -> None:
    code, out = run({"SCOPEBOT_HOME": str(tmp_path), "SCOPEBOT_LLM_BACKEND": "gguf"}, "--no-check")
    assert code == 1 and "SCOPEBOT_LLM_GGUF_PATH" in out


def test_self_test_reports_a_degraded_build_with_the_fix(tmp_path: Path) -> None:
    env = {"SCOPEBOT_HOME": str(tmp_path), "SCOPEBOT_LLM_BACKEND": "embedded",
           "SCOPEBOT_LLM_WORKER_COMMAND": "python -m scopebot.llm.worker_double --crash-if-batch-over 1"}
    code, out = run(env, "--self-test")
    assert code == 0
    lines = {line.split(maxsplit=1)[0]: line.split(maxsplit=1)[1] for line in out.splitlines() if line.strip()}
    assert lines["n_batch=512"].startswith("FAILED: the worker died (SIGSEGV)")
    assert lines["n_batch=1"].startswith("ok")
    assert "degraded" in out and 'CMAKE_ARGS="-DGGML_NATIVE=OFF"' in out
    assert (tmp_path / "llm-selftest.json").is_file()


def test_self_test_that_fails_exits_1_and_says_how_to_fix(tmp_path: Path) -> None:
    env = {"SCOPEBOT_HOME": str(tmp_path), "SCOPEBOT_LLM_BACKEND": "embedded",
           "SCOPEBOT_LLM_WORKER_COMMAND": "python -m scopebot.llm.worker_double --crash-if-batch-over 0"}
    code, out = run(env, "--self-test")
    assert code == 1
    assert "failed" in out and "extractive" in out and "llama-cpp-python==0.3.36" in out


def test_models_check_starts_the_worker(tmp_path: Path) -> None:
    env = {"SCOPEBOT_HOME": str(tmp_path), "SCOPEBOT_LLM_BACKEND": "embedded",
           "SCOPEBOT_LLM_WORKER_COMMAND": "python -m scopebot.llm.worker_double"}
    code, out = run(env)
    assert code == 0 and "loaded in worker process" in out and "n_batch=512" in out
