"""Session settings (API key never shown), auth parsing, code-execution policy, shared components."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from scopebot.errors import ConfigurationError
from scopebot.settings import Settings
from scopebot.ui.services import Services, SessionSettings, code_execution_allowed, parse_auth


def test_session_settings_hide_the_key_everywhere() -> None:
    s = SessionSettings().updated(backend="openai", base_url=" http://127.0.0.1:9/v1 ", api_key="sk-secret-123")
    assert s.base_url == "http://127.0.0.1:9/v1"
    assert "sk-secret-123" not in repr(s) and "sk-secret-123" not in s.describe()
    assert "API key set (hidden)" in s.describe()
    assert "sk-secret" not in "".join(s.model_key())
    # an empty key field keeps the key already set
    assert s.updated(api_key="").api_key == s.api_key


def test_session_settings_apply_to_settings(tmp_path: Path) -> None:
    base = Settings(home=tmp_path)
    s = SessionSettings.from_settings(base).updated(backend="openai", base_url="http://127.0.0.1:9/v1",
                                                      model="m", answer_mode="generative", strict=True)
    applied = s.apply(base)
    assert applied.effective_backend == "openai" and applied.llm_model == "m"
    assert applied.answer_mode == "generative" and applied.strict is True


def test_session_settings_reject_unusable_combinations() -> None:
    with pytest.raises(ConfigurationError):
        SessionSettings().updated(backend="openai")
    with pytest.raises(ConfigurationError):
        SessionSettings().updated(answer_mode="poetic")


def test_parse_auth() -> None:
    assert parse_auth(None) is None and parse_auth(" ") is None
    assert parse_auth("ana:pw1, bo:p:w2") == [("ana", "pw1"), ("bo", "p:w2")]
    with pytest.raises(ConfigurationError):
        parse_auth("nopassword")


def test_code_execution_needs_login_beyond_localhost(tmp_path: Path) -> None:
    assert code_execution_allowed(Settings(home=tmp_path, host="127.0.0.1"))
    assert not code_execution_allowed(Settings(home=tmp_path, host="0.0.0.0"))
    assert code_execution_allowed(Settings(home=tmp_path, host="0.0.0.0", auth="a:b"))
    assert not code_execution_allowed(Settings(home=tmp_path, allow_code_execution=False))


def test_run_code_refused_when_disabled(tmp_path: Path) -> None:
    services = Services(Settings(home=tmp_path, host="0.0.0.0"))
    assert services.code_execution is False
    with pytest.raises(ConfigurationError, match="disabled"):
        services.run_code("print(1)")


class _Sandbox:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict, dict]] = []

    def run(self, code: str, *, files: dict, globals: dict) -> str:
        self.calls.append((code, dict(files), dict(globals)))
        return "ran"


def test_run_code_passes_the_image_as_IMAGE_PATH(tmp_path: Path) -> None:
    sandbox = _Sandbox()
    services = Services(Settings(home=tmp_path), sandbox=sandbox)
    image = tmp_path / "cells.ome.tif"
    image.write_bytes(b"II*\x00")
    assert services.run_code("x = 1", image) == "ran"
    code, files, globals_ = sandbox.calls[0]
    assert files == {"image.ome.tif": image} and globals_ == {"IMAGE_PATH": "image.ome.tif"}


def test_shared_components_are_built_once_and_injected_model_is_reused(tmp_path: Path) -> None:
    model = object()
    built: list[SessionSettings] = []
    services = Services(Settings(home=tmp_path, llm_backend="scripted"), chat_model=model,
                        assistant_factory=lambda svc, session: built.append(session) or object())
    session = SessionSettings.from_settings(services.settings)
    assert services.chat_model(session) is model
    other = services.chat_model(session.updated(backend="openai", base_url="http://127.0.0.1:9/v1"))
    assert other is not model
    assert services.chat_model(session.updated(backend="openai", base_url="http://127.0.0.1:9/v1")) is other
    services.make_assistant(session)
    services.make_assistant(session)
    assert built == [session, session]


def test_key_is_a_secret(tmp_path: Path) -> None:
    s = SessionSettings(api_key=SecretStr("abc"))
    assert "abc" not in str(s)


def test_serve_skips_building_when_an_index_exists(tmp_path: Path) -> None:
    from scopebot.ui.cli import ensure_index

    settings = Settings(home=tmp_path, manifest_path=tmp_path / "missing.yaml")
    (settings.index_dir).mkdir(parents=True)
    (settings.index_dir / "manifest.json").write_text("{}")
    assert ensure_index(settings, progress=False) is False  # would fail on the missing manifest if it built


def test_endpoint_url_must_be_http_with_a_host() -> None:
    for bad in ("not a url", "http://", "ftp://host/v1", "localhost:8080", "http://host:port/v1"):
        with pytest.raises(ConfigurationError, match="Endpoint URL"):
            SessionSettings().updated(backend="openai", base_url=bad)
    ok = SessionSettings().updated(backend="openai", base_url="https://api.example.org/v1")
    assert ok.base_url == "https://api.example.org/v1"


def test_embedded_backend_does_not_carry_the_endpoint_model(tmp_path: Path) -> None:
    remote = SessionSettings().updated(backend="openai", base_url="http://127.0.0.1:9/v1", model="gpt-x",
                                       api_key="sk-1")
    local = remote.updated(backend="embedded")
    assert "gpt-x" not in local.describe() and "127.0.0.1" not in local.describe()
    assert "API key" not in local.describe() and local.describe().startswith("backend **embedded**")
    applied = local.apply(Settings(home=tmp_path))
    assert applied.llm_model is None and applied.llm_base_url is None and applied.effective_backend == "embedded"
    assert local.model_key() == SessionSettings().model_key()  # one embedded model, whatever the form said
