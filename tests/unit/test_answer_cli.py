"""``scopebot ask``: argument validation (the full command needs a built index)."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from scopebot.answer.cli import register


def app() -> typer.Typer:
    a = typer.Typer()
    register(a)
    a.command("noop")(lambda: None)
    return a


def test_empty_question_exits_2_with_a_message() -> None:
    result = CliRunner().invoke(app(), ["ask", "  "])
    assert result.exit_code == 2
    assert "question is empty" in result.output


def test_bad_mode_exits_2() -> None:
    result = CliRunner().invoke(app(), ["ask", "What is Otsu?", "--mode", "creative"])
    assert result.exit_code == 2 and "--mode" in result.output
