"""The Gradio page is built from injected services (no launch): components, password field, queue."""

from __future__ import annotations

from pathlib import Path

from scopebot.settings import Settings
from scopebot.ui.app import create_app
from scopebot.ui.demo import DemoServices


def _components(demo: object) -> dict[str, dict]:
    config = demo.get_config_file()  # type: ignore[attr-defined]
    return {c["props"].get("elem_id"): c for c in config["components"] if c.get("props", {}).get("elem_id")}


def test_page_has_the_chat_panels_and_a_password_key_field(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    comps = _components(create_app(DemoServices(settings), settings))
    for elem in ("chat", "question", "send", "route-mode", "sources", "checks", "code", "run", "figures",
                 "tools", "upload", "preview", "image-meta", "thumbs-up", "thumbs-down", "export",
                 "backend", "base-url", "api-key", "answer-mode", "strict"):
        assert elem in comps, elem
    assert comps["api-key"]["props"]["type"] == "password"
    assert comps["api-key"]["props"]["value"] == ""
    assert comps["run"]["props"]["interactive"] is True


def test_run_button_disabled_without_code_execution(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    comps = _components(create_app(DemoServices(settings, code_execution=False), settings))
    assert comps["run"]["props"]["interactive"] is False
    assert "run-disabled" in comps


def test_a_plain_assistant_factory_is_accepted(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    made: list[object] = []
    demo = create_app(lambda session: made.append(session) or object(), settings)
    assert "chat" in _components(demo)
