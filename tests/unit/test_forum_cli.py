"""``scopebot sync imagesc``: registration, argument errors and the offline message."""

from __future__ import annotations

import socket
from pathlib import Path

import typer
from typer.testing import CliRunner

from scopebot.forum.cli import register


def app() -> typer.Typer:
    root = typer.Typer()

    @root.command()
    def version() -> None:  # a second command so typer keeps sub-command structure
        print("0")

    register(root)
    return root


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sync_imagesc_is_registered_with_its_options() -> None:
    result = CliRunner().invoke(app(), ["sync", "imagesc", "--help"])
    assert result.exit_code == 0
    for opt in ("--query", "--tag", "--since", "--max-topics", "--solved", "--no-ingest"):
        assert opt in result.output


def test_offline_forum_is_a_clear_message_and_exit_code_1(tmp_path: Path) -> None:
    env = {"SCOPEBOT_HOME": str(tmp_path), "SCOPEBOT_FORUM_URL": f"http://127.0.0.1:{closed_port()}",
           "SCOPEBOT_FORUM_API_KEY": "key-that-must-not-show", "SCOPEBOT_FORUM_API_USERNAME": "reader", "COLUMNS": "200"}
    result = CliRunner().invoke(app(), ["sync", "imagesc", "--max-topics", "2", "--delay", "0"], env=env)
    assert result.exit_code == 1
    assert "Cannot reach the forum" in result.output and "How to fix" in result.output
    assert isinstance(result.exception, SystemExit)      # a clean exit, not a crash
    assert "Traceback" not in result.output
    assert "key-that-must-not-show" not in result.output


def test_bad_since_date_is_rejected(tmp_path: Path) -> None:
    result = CliRunner().invoke(app(), ["sync", "imagesc", "--since", "last week"],
                                env={"SCOPEBOT_HOME": str(tmp_path)})
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
