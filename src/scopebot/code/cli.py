"""``scopebot code "request" [--image PATH] [--json]``: write, check, run and repair analysis code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scopebot.clitools import error_boundary, get_settings, print_json
from scopebot.code.assistant import CodeResult

if TYPE_CHECKING:
    from scopebot.llm.base import ChatModel
    from scopebot.settings import Settings

JSON_FIELDS = ("ok", "declined", "answer", "problems", "plan_text", "code", "ran", "stdout", "stderr", "error",
               "figures", "files", "rounds", "checks")


def render_result(result: CodeResult) -> str:
    """Terminal rendering: code, output, rounds, and the notes that explain where the answer came from."""
    parts = []
    if result.plan_text:
        parts.append("Plan:\n" + result.plan_text)
    parts.append(f"```python\n{result.code.rstrip()}\n```")
    if result.synthetic:
        parts.append(f"Ran on {result.synthetic}.")
    if result.stdout:
        parts.append("Output:\n" + result.stdout.rstrip())
    if result.error:
        parts.append("Error:\n" + result.error.rstrip())
    parts += [f"figure: {f}" for f in result.figures] + [f"file: {f}" for f in result.files]
    for r in result.rounds:
        status = "ok" if r.ok else (r.error or "failed").splitlines()[0]
        parts.append(f"round {r.index} ({r.source}): {status}")
    if result.answer:
        parts.append(("Answer (checked against the plan): " if result.ok else "Found: ") + "; ".join(result.answer))
    if result.declined:
        parts.append("Not answered: " + " ".join(result.notes))
    else:
        parts += [f"note: {n}" for n in result.notes]
    parts.append("ok: the request was answered" if result.ok else "ok: false (the request was NOT answered)")
    return "\n".join(parts)


def _model(settings: Settings) -> ChatModel:
    """The configured chat model (built lazily; the embedded one loads on first use)."""
    from scopebot.llm import make_chat_model

    return make_chat_model(settings)


def register(app: typer.Typer) -> None:
    @app.command("code")
    def code(request: Annotated[str, typer.Argument(help="What to analyse, e.g. 'count the nuclei'.")],
             image: Annotated[Path | None, typer.Option("--image", help="TIFF, OME-TIFF, PNG or JPEG to analyse; "
                                                                        "default: a synthetic image.")] = None,
             out: Annotated[Path | None, typer.Option("--out", help="Folder for figures and files (default: SCOPEBOT_HOME/runs).")] = None,
             as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False) -> None:
        """Write analysis code for a request, check it, run it in the sandbox and repair it."""
        import tempfile

        from scopebot.code.assistant import CodeAssistant
        from scopebot.imagefiles import checked_image
        from scopebot.sandbox.runner import Sandbox

        settings = get_settings()
        with error_boundary(), tempfile.TemporaryDirectory(prefix="scopebot-image-") as workdir:
            notes: list[str] = []
            if image is not None:  # one line for a folder, an empty or corrupt file; a JPEG becomes a PNG
                image = checked_image(image, Path(workdir), notes=notes)
            model = _model(settings)
            with Sandbox.from_settings(settings, output_dir=out or settings.home / "runs",
                                       workers=0) as sandbox:
                assistant = CodeAssistant(model, sandbox, _optional_kb(settings), prompts_dir=settings.prompts_dir,
                                          max_rounds=settings.code_repair_rounds)
                result = assistant.run(request, image)
            result.notes = notes + result.notes
        if as_json:
            data = result.to_json()
            print_json({**{k: data[k] for k in JSON_FIELDS}, **{k: v for k, v in data.items()
                                                                  if k not in JSON_FIELDS}})
        else:
            typer.echo(render_result(result))
        if not result.ok:
            raise typer.Exit(1)


def _optional_kb(settings: object) -> object | None:
    """The knowledge base for documentation context, or None when no index was built yet."""
    from scopebot.errors import MissingIndexError
    from scopebot.knowledge import KnowledgeBase

    try:
        return KnowledgeBase.open(settings)  # type: ignore[arg-type]
    except MissingIndexError:
        return None
