"""`scopebot serve` on a port that is taken: one line naming --port / SCOPEBOT_PORT, exit 2, no 'UI on' line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scopebot.cli import app


@pytest.fixture
def busy_port() -> object:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_serve_on_a_busy_port_exits_2_with_a_hint(busy_port: int, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["serve", "--demo", "--port", str(busy_port)],
                             env={"SCOPEBOT_HOME": str(tmp_path / "home")})
    assert res.exit_code == 2, res.output
    assert f"port {busy_port} on 127.0.0.1 is already in use" in res.output
    assert "--port" in res.output and "SCOPEBOT_PORT" in res.output
    assert "UI on" not in res.output and "GRADIO_SERVER_PORT" not in res.output and "Traceback" not in res.output


def test_ui_on_line_is_printed_only_once_the_server_listens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import scopebot.ui.app as ui_app

    events: list[str] = []

    class Started:
        def block_thread(self) -> None:
            events.append("blocked")

    def fake_launch(settings: object, services: object, *, block: bool = True) -> Started:
        assert block is False
        events.append("listening")
        return Started()

    monkeypatch.setattr(ui_app, "launch", fake_launch)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    res = CliRunner().invoke(app, ["serve", "--demo", "--port", str(free)],
                             env={"SCOPEBOT_HOME": str(tmp_path / "home")})
    assert res.exit_code == 0, res.output
    assert events == ["listening", "blocked"] and f"UI on http://127.0.0.1:{free}" in res.output


def test_launch_failure_after_the_check_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import scopebot.ui.app as ui_app

    def failing(*a: object, **kw: object) -> None:
        raise OSError("Cannot find empty port in range: 7861-7861. You can specify a different port by setting "
                      "the GRADIO_SERVER_PORT environment variable")

    monkeypatch.setattr(ui_app, "launch", failing)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    res = CliRunner().invoke(app, ["serve", "--demo", "--port", str(free)], env={"SCOPEBOT_HOME": str(tmp_path)})
    assert res.exit_code == 2 and "SCOPEBOT_PORT" in res.output and "GRADIO_SERVER_PORT" not in res.output
    assert "UI on" not in res.output and "Traceback" not in res.output


def test_mcp_http_on_a_busy_port_exits_2_with_a_hint(busy_port: int, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["mcp", "--http", "--port", str(busy_port)],
                             env={"SCOPEBOT_HOME": str(tmp_path / "home")})
    assert res.exit_code == 2, res.output
    assert f"port {busy_port} on 127.0.0.1 is already in use" in res.output
    assert "SCOPEBOT_MCP_PORT" in res.output and "Traceback" not in res.output
