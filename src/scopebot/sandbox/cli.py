"""``scopebot run FILE.py [--image PATH] [--timeout S] [--json]``: run given code in the sandbox."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scopebot.clitools import error_boundary, get_settings, print_json
from scopebot.errors import ConfigurationError
from scopebot.sandbox.models import RunResult


def render_run(result: RunResult) -> str:
    """Plain-text rendering of a run for the terminal."""
    lines = []
    if result.stdout:
        lines.append(result.stdout.rstrip())
    if result.stderr:
        lines.append("--- stderr ---\n" + result.stderr.rstrip())
    if result.traceback:
        lines.append("--- error ---\n" + result.traceback.rstrip())
    elif result.error:
        lines.append(f"--- error ---\n{result.error}")
    for fig in result.figures:
        lines.append(f"figure: {fig}")
    for f in result.files:
        lines.append(f"file: {f}")
    status = "ok" if result.ok else "failed"
    extra = f", limit hit: {result.limit_hit}" if result.limit_hit else ""
    extra += f", refused: {result.violation}" if result.violation else ""
    lines.append(f"[{status} in {result.duration_s:.2f}s{extra}; isolation: {', '.join(result.isolation)}]")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(file: Annotated[Path, typer.Argument(help="Python file to run in the sandbox.")],
            image: Annotated[Path | None, typer.Option("--image", help="Image copied into the working folder; "
                                                                       "its name is in IMAGE_PATH.")] = None,
            timeout: Annotated[float | None, typer.Option("--timeout", min=0.1, help="Wall-clock seconds.")] = None,
            out: Annotated[Path | None, typer.Option("--out", help="Folder for figures and written files.")] = None,
            data: Annotated[list[Path] | None, typer.Option(
                "--data", help="A file or folder copied into the working folder under its name (folders "
                               "with their sub-folders); repeatable.")] = None,
            python: Annotated[str | None, typer.Option(
                "--python", help="Python of the run, e.g. your venv's or conda env's bin/python "
                                 "(default: SCOPEBOT_SANDBOX_PYTHON, else scopebot's).")] = None,
            as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False) -> None:
        """Run a Python file in the sandbox (kernel boundary: namespaces, Landlock, seccomp, limits)."""
        from scopebot.sandbox.runner import Sandbox

        settings = get_settings()
        with error_boundary():
            if not file.is_file():
                raise ConfigurationError(f"file not found: {file}", hint="pass the path of a .py file")
            try:
                code = file.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise ConfigurationError(f"not a text file: {file}", hint="pass a Python source file") from None
            files: dict[str, Path] = {}
            globals_: dict[str, str] = {}
            if image is not None:
                from scopebot.code.assistant import validate_image

                image = validate_image(image)
                files[image.name] = image
                globals_["IMAGE_PATH"] = image.name
            for item in data or []:
                if not item.exists():
                    raise ConfigurationError(f"data not found: {item}", hint="pass an existing file or folder")
                files[item.name] = item
            with Sandbox.from_settings(settings, output_dir=out or settings.home / "runs", workers=0,
                                       python=python) as sb:
                result = sb.run(code, files=files, timeout=timeout, globals=globals_, filename=file.name)
        if as_json:
            print_json(result.model_dump(mode="json"))
        else:
            typer.echo(render_run(result))
        if not result.ok:
            raise typer.Exit(1)

    @app.command("sandbox-check")
    def sandbox_check(python: Annotated[str | None, typer.Option("--python", help="Python of the runs.")] = None,
                      as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """Say which kernel boundary sandbox runs get on this machine (and why, when there is none)."""
        from scopebot.sandbox.isolation import INSTALL_HINT, probe

        settings = get_settings()
        with error_boundary():
            iso = probe(settings.sandbox_isolation, python or settings.sandbox_python or sys.executable,
                        settings.sandbox_bwrap, settings.sandbox_unsafe_hook_only)
        info = {"kind": iso.kind, "kernel_enforced": iso.kernel_enforced, "layers": iso.layers(),
                "bwrap": iso.bwrap, "landlock_abi": iso.landlock_abi, "seccomp": iso.seccomp,
                "notes": list(iso.notes)}
        if as_json:
            print_json(info)
        else:
            typer.echo(f"sandbox: {iso.kind}; layers: {', '.join(iso.layers())}")
            for note in iso.notes:
                typer.echo(f"  {note}")
            if not iso.kernel_enforced:
                typer.echo(f"code is NOT run safely here: {INSTALL_HINT}")
        if not iso.kernel_enforced:
            raise typer.Exit(1)
