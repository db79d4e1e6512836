"""``scopebot chat``: --json lines end to end (injected factory and the scripted backend) and the REPL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from test_agent_fakes import make_assistant
from typer.testing import CliRunner

from scopebot.agent.cli import parse_line, register


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """scopebot (test app)."""

    register(app)
    return app


def fake_factory(store: dict[str, Any]) -> Any:
    def create(settings: Any, **kwargs: Any) -> Any:
        assistant, fakes = make_assistant()
        store.update(fakes, kwargs=kwargs, assistant=assistant)
        return assistant
    return create


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_json_mode_routes_each_line_with_an_injected_assistant() -> None:
    store: dict[str, Any] = {}
    stdin = "\n".join(["What is the point spread function?", "Which plugin can stitch tiles?", "and in 3D?",
                       '{"text": "hello", "route": "question"}', "/reset", "hello",
                       "What is the best pizza in Naples?"]) + "\n"
    result = CliRunner().invoke(make_app(), ["chat", "--json", "--max-steps", "3"], input=stdin,
                                obj={"create_assistant": fake_factory(store)})
    assert result.exit_code == 0, result.output
    out = lines(result.output)
    assert [o.get("route") for o in out] == ["question", "tool", "tool", "question", None, "chitchat",
                                             "out_of_scope"]
    assert [o.get("kind") for o in out] == ["answer", "tools", "tools", "answer", None, "chitchat", "refusal"]
    assert out[0]["payload"]["citations"][0]["n"] == 1 and out[0]["trace"][0]["name"] == "route"
    assert out[4] == {"reset": True}
    assert store["recommender"].calls[1]["dims"] == "3d"
    assert store["kwargs"] == {"tool_loop": None, "max_steps": 3}


def test_json_mode_reports_a_failed_turn_and_goes_on(tmp_path: Path) -> None:
    store: dict[str, Any] = {}
    stdin = json.dumps({"text": "count cells", "image": str(tmp_path / "missing.tif")}) + "\nhi\n"
    result = CliRunner().invoke(make_app(), ["chat", "--json"], input=stdin,
                                obj={"create_assistant": fake_factory(store)})
    out = lines(result.output)
    assert result.exit_code == 1
    assert "image not found" in out[0]["error"] and out[1]["kind"] == "chitchat"


def test_json_mode_with_the_scripted_backend_and_real_factory(tmp_path: Path) -> None:
    env = {"SCOPEBOT_LLM_BACKEND": "scripted", "SCOPEBOT_EMBEDDING_MODEL": "hash",
           "SCOPEBOT_HOME": str(tmp_path / "home")}
    result = CliRunner().invoke(make_app(), ["chat", "--json"], input="hello there\nwhat's the weather tomorrow?\n",
                                env=env)
    assert result.exit_code == 0, result.output
    out = lines(result.output)
    assert [(o["route"], o["kind"]) for o in out] == [("chitchat", "chitchat"), ("out_of_scope", "refusal")]


def test_interactive_chat_renders_turns_and_commands() -> None:
    store: dict[str, Any] = {}
    stdin = "/help\nWhat is the point spread function?\n/route tool stitch my tiles\n/trace\n/reset\n/quit\n"
    result = CliRunner().invoke(make_app(), ["chat"], input=stdin, obj={"create_assistant": fake_factory(store)})
    assert result.exit_code == 0, result.output
    assert "Commands:" in result.output
    assert "route: question" in result.output and "References" in result.output
    assert "2/2 sentences supported" in result.output
    assert "StitchTool" in result.output and "trace" in result.output
    assert "conversation reset" in result.output
    assert store["recommender"].calls[0]["request"] == "stitch my tiles"


def test_parse_line() -> None:
    assert parse_line("  hello ") == ("hello", None, None)
    assert parse_line('{"text": "count", "image": "a.tif", "route": "code"}') == ("count", "a.tif", "code")
    assert parse_line("{not json") == ("{not json", None, None)


def test_bad_route_and_image_commands_are_refused_at_once_and_the_next_message_is_kept(tmp_path: Path) -> None:
    store: dict[str, Any] = {}
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    stdin = (f"/route bogus\nWhat is the point spread function?\n/image {tmp_path}\n/image {empty}\n"
             "What is the point spread function?\n/quit\n")
    result = CliRunner().invoke(make_app(), ["chat"], input=stdin, obj={"create_assistant": fake_factory(store)})
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # the console wraps long paths
    assert "/route ROUTE [text]" in out  # the help is not eaten as markup
    assert "unknown route 'bogus'" in out and "next turn goes to: bogus" not in out
    assert "is a folder, not an image file" in out and "is empty (0 bytes)" in out
    assert "image for the next turn" not in out
    assert out.count("route: question") == 2  # both messages answered, none lost


def test_json_mode_quit_ends_the_session_and_bad_routes_are_errors() -> None:
    store: dict[str, Any] = {}
    stdin = json.dumps({"text": "hi", "route": "bogus"}) + "\nhi\n/quit\nWhat is the point spread function?\n"
    result = CliRunner().invoke(make_app(), ["chat", "--json"], input=stdin,
                                obj={"create_assistant": fake_factory(store)})
    out = lines(result.output)
    assert len(out) == 2, out  # /quit is not a turn, and nothing after it runs
    assert "unknown route 'bogus'" in out[0]["error"] and out[1]["kind"] == "chitchat"
    assert result.exit_code == 1
