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
            from scopebot.llm.local import WorkerModel

            assert isinstance(model, WorkerModel)
            rows.append(("file", str(model.path)))
            ready = model.start()
            rows.append(("status", f"loaded in worker process {ready.get('pid')} (llama-cpp-python "
                                   f"{ready.get('llama_cpp')}, n_ctx={model.n_ctx}, threads={model.n_threads}, "
                                   f"n_batch={ready.get('n_batch')})"))
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


def self_test_rows() -> tuple[list[tuple[str, str]], bool]:
    """Run the local model's self-test now (ignoring the cached verdict) and describe the result."""
    from scopebot.llm import make_chat_model
    from scopebot.llm.local import WorkerModel
    from scopebot.llm.selftest import SelfTest
    from scopebot.settings import load_settings

    settings = load_settings()
    if settings.effective_backend not in ("embedded", "gguf"):
        return [("self-test", f"only for the local model (the backend is {settings.effective_backend})")], True
    try:
        model = make_chat_model(settings)
        assert isinstance(model, WorkerModel)
        tester = model.self_test or SelfTest(settings.home / "llm-selftest.json", timeout=settings.llm_worker_timeout)
        result = tester.verdict(model.spec, fresh=True)
    except ScopebotError as exc:
        return [("self-test", "could not run: " + user_message(exc))], False
    rows = [("model", model.name), ("file", str(model.path)),
            ("llama-cpp-python", result.key.get("llama_cpp", "?")), ("cpu", result.key.get("cpu", "?"))]
    rows += [(f"n_batch={a.n_batch}", f"{'ok' if a.ok else 'FAILED'}: {a.detail} ({a.seconds:.1f} s)")
             for a in result.attempts]
    rows.append(("verdict", result.summary()))
    rows.append(("cached in", str(tester.cache_path)))
    return rows, result.verdict != "failed"


def register(app: typer.Typer) -> None:
    """Add ``scopebot models`` to the CLI."""

    @app.command("models")
    def models(check: bool = typer.Option(True, "--check/--no-check",
                                          help="Load the local model / contact the endpoint."),
               self_test: bool = typer.Option(False, "--self-test",
                                              help="Check in child processes that the local model generates "
                                                   "with n_batch > 1 (and with n_batch=1); exit 1 if neither "
                                                   "works.")) -> None:
        """Show the configured chat model backend and whether it is loaded or reachable."""
        rows, ok = self_test_rows() if self_test else describe_models(check=check)
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            typer.echo(f"{label.ljust(width)}  {value}")
        if not ok:
            raise typer.Exit(code=1)
