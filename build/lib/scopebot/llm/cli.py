"""``scopebot models``: show the configured chat backend and whether it works (the key is never shown)."""

from __future__ import annotations

import typer

from scopebot.errors import ScopebotError, user_message


def describe_models(check: bool = True) -> tuple[list[tuple[str, str]], bool]:
    """Rows (label, value) describing the configured chat model, and whether it is usable.

    With ``check`` the embedded/GGUF model is loaded and an endpoint is asked for its models.
    """
    from scopebot.llm import make_chat_model
    from scopebot.settings import load_settings

    settings = load_settings()
    backend = settings.effective_backend
    rows: list[tuple[str, str]] = [("backend", backend)]
    if backend == "openai":
        rows.append(("endpoint", settings.llm_base_url or "https://api.openai.com/v1"))
        rows.append(("model (SCOPEBOT_LLM_MODEL)", settings.llm_model or "(endpoint's first model)"))
    if backend == "gguf":
        rows.append(("file (SCOPEBOT_LLM_GGUF_PATH)", str(settings.llm_gguf_path or "not set")))
    rows.append(("API key (OPENAI_API_KEY)", "set" if settings.llm_api_key else "not set"))
    try:
        model = make_chat_model(settings)
    except ScopebotError as exc:
        rows.append(("status", "not usable: " + user_message(exc)))
        return rows, False
    rows.insert(1, ("name", model.name))
    rows.append(("native tool calling", "yes" if model.supports_tools else "no"))
    rows.append(("answer mode for 'auto'", "extractive (small model)" if model.is_small else "generative"))
    if not check:
        return rows, True
    try:
        if backend in ("embedded", "gguf"):
            from scopebot.llm.embedded import LlamaCppModel

            assert isinstance(model, LlamaCppModel)
            rows.append(("file", str(model.path)))
            model.load()
            rows.append(("status", f"loaded (n_ctx={model.n_ctx}, threads={model.n_threads})"))
        elif backend == "openai":
            from scopebot.llm.openai_compat import OpenAICompatibleModel

            assert isinstance(model, OpenAICompatibleModel)
            available = model.list_models()
            shown = ", ".join(available[:10]) + (" …" if len(available) > 10 else "")
            rows.append(("status", f"reachable; serves {len(available)} model(s): {shown or 'none'}"))
        else:
            rows.append(("status", "ready (scripted test double)"))
    except ScopebotError as exc:
        rows.append(("status", "not usable: " + user_message(exc)))
        return rows, False
    return rows, True


def register(app: typer.Typer) -> None:
    """Add ``scopebot models`` to the CLI."""

    @app.command("models")
    def models(check: bool = typer.Option(True, "--check/--no-check",
                                          help="Load the local model / contact the endpoint.")) -> None:
        """Show the configured chat model backend and whether it is loaded or reachable."""
        rows, ok = describe_models(check=check)
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            typer.echo(f"{label.ljust(width)}  {value}")
        if not ok:
            raise typer.Exit(code=1)
