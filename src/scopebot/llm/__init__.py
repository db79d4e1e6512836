"""Chat models: one interface (:class:`ChatModel`), four backends, one factory.

* ``embedded`` — SmolLM2-135M-Instruct via llama.cpp in a worker process (default; no key, no network);
* ``openai`` — any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp's server);
* ``gguf`` — a local GGUF file the user points to (``SCOPEBOT_LLM_GGUF_PATH``);
* ``scripted`` — the deterministic test double.

Importing this package stays light: ``openai`` is imported only when that backend is built by
:func:`make_chat_model`, and ``llama_cpp`` only ever in the worker process (:mod:`scopebot.llm.worker`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from scopebot.errors import ConfigurationError
from scopebot.llm.base import ChatDelta, ChatModel, ChatResponse, Message, ToolCall, ToolSpec
from scopebot.llm.errors import ContextOverflowError
from scopebot.llm.scripted import ScriptedModel

if TYPE_CHECKING:
    from scopebot.settings import Settings

__all__ = [
    "ChatDelta", "ChatModel", "ChatResponse", "ContextOverflowError", "Message", "ScriptedModel",
    "ToolCall", "ToolSpec", "make_chat_model", "scripted_echo_model",
]

#: Prefix of every reply of the ``scripted`` backend (so demos and tests can recognise it).
SCRIPTED_PREFIX = "Scripted reply."


def _echo(messages: Sequence[Message], tools: Sequence[ToolSpec] | None) -> str:
    question = next((m.content for m in reversed(messages) if m.role == "user"), "")
    first_line = question.strip().splitlines()[0][:200] if question.strip() else ""
    return f"{SCRIPTED_PREFIX} You asked: {first_line}"


def scripted_echo_model() -> ScriptedModel:
    """The ``scripted`` backend: a fixed reply that echoes the last user message's first line."""
    return ScriptedModel(_echo, name="scripted:echo", supports_tools=False, is_small=True)


def make_chat_model(settings: Settings) -> ChatModel:
    """Build the chat model chosen by ``settings.effective_backend``.

    Building is cheap: the embedded/GGUF worker starts on the first request (and is then shared by the
    whole process), and nothing is sent to an endpoint until the first request.
    """
    backend = settings.effective_backend
    if backend == "scripted":
        return scripted_echo_model()
    if backend in ("embedded", "gguf"):
        return make_local_model(settings)
    if backend == "openai":
        from scopebot.llm.openai_compat import OpenAICompatibleModel

        if settings.llm_base_url is None and settings.llm_api_key is None:
            raise ConfigurationError("the openai backend needs an endpoint or a key",
                                     hint="set SCOPEBOT_LLM_BASE_URL (e.g. http://127.0.0.1:8080/v1) for a "
                                          "local server, or OPENAI_API_KEY for api.openai.com")
        if settings.llm_base_url is None and not settings.llm_model:
            raise ConfigurationError("no model chosen for api.openai.com",
                                     hint="set SCOPEBOT_LLM_MODEL (e.g. gpt-4o-mini)")
        return OpenAICompatibleModel(settings.llm_base_url, settings.llm_model, settings.llm_api_key,
                                     timeout=settings.llm_timeout, max_tokens=settings.llm_max_tokens,
                                     temperature=settings.llm_temperature)
    raise ConfigurationError(f"unknown chat backend {backend!r}",
                             hint="set SCOPEBOT_LLM_BACKEND to embedded, openai, gguf or scripted")


def worker_command(settings: Settings) -> list[str] | None:
    """``settings.llm_worker_command`` split like a shell would; a leading ``python`` means this Python."""
    if not settings.llm_worker_command:
        return None
    import shlex
    import sys

    argv = shlex.split(settings.llm_worker_command)
    if argv and argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


def make_local_model(settings: Settings) -> ChatModel:
    """The ``embedded`` / ``gguf`` backend: llama.cpp in a worker process, self-tested on first use."""
    from scopebot.llm.local import WorkerModel
    from scopebot.llm.selftest import SelfTest

    path = None
    if settings.effective_backend == "gguf":
        if settings.llm_gguf_path is None:
            raise ConfigurationError("the gguf backend needs a model file",
                                     hint="set SCOPEBOT_LLM_GGUF_PATH=/path/to/model.gguf")
        path = settings.llm_gguf_path
    self_test = SelfTest(settings.home / "llm-selftest.json", timeout=settings.llm_worker_timeout) \
        if settings.llm_self_test else None
    return WorkerModel(path, n_ctx=settings.llm_context, n_threads=settings.llm_threads, n_batch=settings.llm_batch,
                       max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature,
                       command=worker_command(settings), timeout=settings.llm_worker_timeout,
                       start_timeout=max(settings.llm_worker_timeout, 60.0), self_test=self_test)
