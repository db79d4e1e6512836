"""``scopebot chat``: a terminal chat on the Assistant, and a ``--json`` lines mode for scripts.

Interactive mode renders answers with numbered references and a check badge, code with syntax
highlighting and its output, tool recommendations as a table. Commands: ``/route ROUTE [text]``
(force the route of the next turn), ``/image PATH`` (upload an image), ``/trace`` (show the last
trace), ``/reset``, ``/help``, ``/quit``.

``--json`` reads one user turn per stdin line (plain text, or a JSON object
``{"text": ..., "image": ..., "route": ...}``) and writes one JSON object per line (the
``TurnResult``; ``{"error": ...}`` for a turn that failed).

The assistant comes from ``create_assistant(settings)``; tests inject their own factory through the
Typer context object (``runner.invoke(app, ["chat", "--json"], obj={"create_assistant": f})``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from scopebot.clitools import error_boundary, get_settings

HELP = ("Commands: /route ROUTE [text] · /image PATH · /trace · /reset · /help · /quit\n"
        "Routes: question, code, tool, forum, chitchat, out_of_scope")


def _factory(ctx: typer.Context) -> Callable[..., Any]:
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    if "create_assistant" in obj:
        return obj["create_assistant"]
    from scopebot.agent.factory import build_assistant

    return build_assistant


def parse_line(line: str) -> tuple[str, str | None, str | None]:
    """A ``--json`` input line → (text, image, route)."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            return stripped, None, None
        if isinstance(data, dict):
            return str(data.get("text", "")), data.get("image"), data.get("route")
    return stripped, None, None


QUIT = ("/quit", "/exit", "/q")


def checked_route(name: str | None) -> str | None:
    """``name`` if it is a route (or empty: None), else a :class:`ConfigurationError` listing the routes."""
    from scopebot.agent.models import ROUTES
    from scopebot.errors import ConfigurationError

    name = (name or "").strip()
    if not name:
        return None
    if name not in ROUTES:
        raise ConfigurationError(f"unknown route {name!r}", hint="use one of: " + ", ".join(ROUTES))
    return name


def checked_chat_image(path: str | Path | None, workdir: Path) -> Path | None:
    """The image for a turn, checked now (folder, empty, corrupt, not an image); a JPEG becomes a PNG."""
    from scopebot.imagefiles import checked_image

    if path is None or not str(path).strip():
        return None
    return checked_image(Path(str(path).strip()), workdir)


def _workdir() -> Path:
    """A private folder for converted images (JPEG -> PNG), removed when the process ends."""
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="scopebot-chat-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def run_json(assistant: Any, lines: Any, out: Any = None) -> int:
    """The ``--json`` loop; returns how many turns failed. ``/quit`` ends it, ``/reset`` resets."""
    from scopebot.errors import ScopebotError, user_message
    from scopebot.usertext import clean_text

    out = out or sys.stdout
    failed = 0
    workdir = _workdir()
    for line in lines:
        line = clean_text(line)
        if not line.strip():
            continue
        text, image, route = parse_line(line)
        if text.strip() in QUIT and image is None and route is None:
            break
        if text.strip() == "/reset":
            assistant.reset()
            out.write(json.dumps({"reset": True}) + "\n")
            out.flush()
            continue
        try:
            route = checked_route(route)
            image = checked_chat_image(image, workdir)
            result = assistant.turn(text, image=image, force_route=route)
            out.write(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, default=str) + "\n")
        except ScopebotError as exc:
            failed += 1
            out.write(json.dumps({"text": text, "error": user_message(exc)}, ensure_ascii=False) + "\n")
        out.flush()
    return failed


def render_result(console: Any, result: Any) -> None:
    """Print one turn in the terminal with rich."""
    from rich.markdown import Markdown
    from rich.panel import Panel
    from rich.syntax import Syntax

    colour = {"refusal": "yellow", "abstention": "yellow", "clarification": "yellow",
              "chitchat": "cyan"}.get(result.kind, "green")
    console.print(f"[dim]route:[/] [bold {colour}]{result.route}[/] [dim]({result.confidence:.2f}) · "
                  f"{result.kind} · {result.seconds:.2f}s[/]")
    payload = result.payload
    if result.kind == "code" and payload is not None:
        if getattr(payload, "code", ""):
            console.print(Syntax(payload.code, "python", line_numbers=False, word_wrap=True))
        if getattr(payload, "stdout", ""):
            console.print(Panel(payload.stdout.strip()[-3000:], title="output", border_style="dim"))
        if getattr(payload, "error", None):
            console.print(Panel(str(payload.error)[-2000:], title="error", border_style="red"))
        for fig in getattr(payload, "figures", []) or []:
            console.print(f"[dim]figure:[/] {fig}")
        return
    if result.kind == "tools" and payload is not None:
        try:
            from scopebot.tools.models import Recommendation
            from scopebot.tools.render import print_recommendation

            if isinstance(payload, Recommendation):
                if payload.message:
                    console.print(payload.message)
                print_recommendation(console, payload)
                return
        except ImportError:  # pragma: no cover
            pass
    console.print(Markdown(result.markdown))


def _interactive(assistant: Any, console: Any, route: str | None, image: Path | None, show_trace: bool) -> None:
    from rich.markup import escape

    from scopebot.errors import ScopebotError, user_message
    from scopebot.usertext import clean_text

    console.print(f"[bold]scopebot chat[/] — {escape(HELP)}")
    pending_route, pending_image, last = route, image, None
    workdir = _workdir()
    while True:
        try:
            line = console.input("[bold blue]you>[/] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        text = clean_text(line).strip()
        if not text:
            continue
        if text.startswith("/"):
            cmd, _, arg = text.partition(" ")
            if cmd in QUIT:
                return
            if cmd == "/help":
                console.print(escape(HELP))
                continue
            if cmd == "/reset":
                assistant.reset()
                pending_route = pending_image = None
                console.print("[dim]conversation reset[/]")
                continue
            if cmd == "/trace":
                _print_trace(console, last)
                continue
            if cmd == "/image":  # checked now: a bad path is reported here, not after the next message
                try:
                    pending_image = checked_chat_image(arg, workdir)
                except ScopebotError as exc:
                    console.print(f"[red]{escape(user_message(exc))}[/]")
                    continue
                console.print(f"[dim]image for the next turn: {escape(str(pending_image))}[/]")
                continue
            if cmd == "/route":
                name, _, rest = arg.strip().partition(" ")
                try:
                    pending_route = checked_route(name) or route
                except ScopebotError as exc:
                    console.print(f"[red]{escape(user_message(exc))}[/] (nothing was sent)")
                    continue
                if not rest.strip():
                    console.print(f"[dim]next turn goes to: {pending_route}[/]")
                    continue
                text = rest.strip()
            else:
                console.print(f"[red]unknown command {escape(cmd)}[/] — {escape(HELP)}")
                continue
        try:
            with console.status("thinking…") as status:
                for event in assistant.stream_turn(text, pending_image, pending_route):
                    if event.type == "status":
                        status.update(event.text)
                    elif event.type == "final":
                        last = event.result
            render_result(console, last)
            if show_trace:
                _print_trace(console, last)
        except ScopebotError as exc:
            console.print(f"[red]{user_message(exc)}[/]")
        pending_route, pending_image = route, None


def _print_trace(console: Any, result: Any) -> None:
    from rich.table import Table

    if result is None:
        console.print("[dim]no turn yet[/]")
        return
    table = Table(title="trace", show_lines=False)
    for col in ("step", "inputs", "outputs", "s"):
        table.add_column(col, overflow="fold")
    for step in result.trace:
        table.add_row(step.name, json.dumps(step.inputs, default=str)[:120],
                      (f"[red]{step.error}[/]" if step.error else json.dumps(step.outputs, default=str)[:160]),
                      f"{step.seconds:.3f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command("chat")
    def chat(ctx: typer.Context,
             json_mode: Annotated[bool, typer.Option("--json", help="One turn per stdin line, one JSON object "
                                                                    "per output line.")] = False,
             route: Annotated[str | None, typer.Option(help="Force every turn to this route.")] = None,
             image: Annotated[Path | None, typer.Option(help="Image for the first turn.")] = None,
             tool_loop: Annotated[bool | None, typer.Option("--tool-loop/--no-tool-loop",
                                                            help="Let a tool-calling backend plan with tools.")] = None,
             max_steps: Annotated[int | None, typer.Option(min=1, help="Step limit of the tool loop.")] = None,
             trace: Annotated[bool, typer.Option("--trace", help="Show each turn's trace.")] = False) -> None:
        """Chat with scopebot in the terminal (or line by line with --json)."""
        settings = get_settings()
        with error_boundary():
            create = _factory(ctx)
            assistant = create(settings, tool_loop=tool_loop, max_steps=max_steps)
            reconfigure = getattr(sys.stdin, "reconfigure", None)
            if callable(reconfigure):  # bytes that are not UTF-8 arrive as lone surrogates, then cleaned
                reconfigure(errors="surrogateescape")
            if json_mode:
                failed = run_json(_ForcedRoute(assistant, route, image), sys.stdin)
                if failed:
                    raise typer.Exit(1)
                return
            from rich.console import Console

            _interactive(assistant, Console(), route, image, trace)


class _ForcedRoute:
    """Applies ``--route`` to every turn and ``--image`` to the first one in ``--json`` mode."""

    def __init__(self, assistant: Any, route: str | None, image: Path | None) -> None:
        self.assistant, self.route, self.image = assistant, route, image

    def turn(self, text: str, image: Any = None, force_route: str | None = None) -> Any:
        first_image, self.image = self.image, None
        return self.assistant.turn(text, image=image or first_image, force_route=force_route or self.route)

    def reset(self) -> None:
        self.assistant.reset()
