"""Any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp's server) via the ``openai`` SDK.

Streaming and native tool calling are supported. Failures are mapped to scopebot errors that say
what to change: an unreachable endpoint, a rejected key, an unknown model, a context overflow. The
API key lives only inside the SDK client; it never appears in ``repr``/``str``, logs or error text
(every message passes through :func:`~scopebot.llm.errors.scrub`). Local servers need no key, so a
dummy one is used when none is configured.

Tests inject an ``httpx2.Client`` (``http_client=``; httpx2 is the HTTP library of this openai SDK)
with a mock transport, or record/replay HTTP with
vcrpy; nothing is monkeypatched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from scopebot.errors import ConfigurationError, ModelError, ScopebotError
from scopebot.llm.base import ChatDelta, ChatModel, ChatResponse, Message, ToolSpec
from scopebot.llm.errors import ContextOverflowError, scrub
from scopebot.llm.openai_format import (
    ToolCallAssembler,
    messages_to_openai,
    tool_call_from_openai,
    tools_to_openai,
)

if TYPE_CHECKING:
    import httpx2

_log = logging.getLogger(__name__)

DUMMY_API_KEY = "sk-no-key-required"
OPENAI_BASE_URL = "https://api.openai.com/v1"
_CONTEXT_WORDS = ("context length", "context window", "context_length_exceeded", "maximum context",
                  "context size", "exceed_context_size", "too many tokens", "exceeds the context",
                  "prompt is too long")


#: The structured-output request forms, most standard first: OpenAI's (also vLLM, llama.cpp's C++ server,
#: Ollama) and the ``json_object`` + ``schema`` form of llama-cpp-python's server.
JSON_FORMATS: tuple[Callable[[str, dict[str, Any]], dict[str, Any]], ...] = (
    lambda name, schema: {"type": "json_schema", "json_schema": {"name": name, "schema": schema}},
    lambda name, schema: {"type": "json_object", "schema": schema},
)


class OpenAICompatibleModel(ChatModel):
    """Chat through an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    ``model=None`` uses the endpoint's first listed model (handy for single-model local servers).
    ``tool_choice`` is sent with every request that has tools: "auto" (default), "required", or
    ``{"type": "function", "function": {"name": ...}}`` to force one tool.
    """

    supports_tools = True
    supports_json_schema = True

    def __init__(self, base_url: str | None = None, model: str | None = None,
                 api_key: str | SecretStr | None = None, *, timeout: float = 60.0,
                 max_tokens: int = 256, temperature: float = 0.0, max_retries: int = 1,
                 tool_choice: str | dict[str, Any] = "auto", is_small: bool = False,
                 http_client: httpx2.Client | None = None) -> None:
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ConfigurationError("the openai package is not installed",
                                     hint="pip install openai") from exc
        secret = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        self.base_url = (base_url or OPENAI_BASE_URL).rstrip("/")
        self.key_is_set = bool(secret)
        self._secret = SecretStr(secret or "")
        self._model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.is_small = is_small
        self.tool_choice = tool_choice
        #: Which of :data:`JSON_FORMATS` this endpoint accepts (moves on once when one is refused).
        self._json_format = 0
        try:
            self._client = openai.OpenAI(base_url=self.base_url, api_key=secret or DUMMY_API_KEY,
                                         timeout=timeout, max_retries=max_retries, http_client=http_client)
        except Exception as exc:  # noqa: BLE001 - an unparsable URL ("http://[::1", spaces, ...)
            raise ConfigurationError(f"the endpoint URL {self.base_url!r} is not a valid URL ({exc})",
                                     hint="check SCOPEBOT_LLM_BASE_URL: e.g. http://127.0.0.1:8080/v1") from None

    # -- identity (never shows the key) ----------------------------------------------------------
    @property
    def name(self) -> str:  # type: ignore[override]
        return f"openai:{self._model or 'auto'}"

    def __repr__(self) -> str:
        return (f"OpenAICompatibleModel(base_url={self.base_url!r}, model={self._model!r}, "
                f"api_key={'set' if self.key_is_set else 'not set'})")

    __str__ = __repr__

    # -- models ------------------------------------------------------------------------------------
    def list_models(self) -> list[str]:
        """Model ids the endpoint serves (raises a scopebot error when it cannot be asked)."""
        try:
            return sorted(m.id for m in self._client.models.list())
        except Exception as exc:  # noqa: BLE001 - mapped to a scopebot error
            raise self._map_error(exc) from None

    @property
    def model(self) -> str:
        """The configured model, or the endpoint's only/first model for local servers when unset."""
        if self._model is None:
            try:
                available = self.list_models()
            except ScopebotError as exc:
                raise ConfigurationError("no chat model is configured and the endpoint could not list its "
                                         f"models ({exc.message})",
                                         hint="set SCOPEBOT_LLM_MODEL to the model's name") from None
            if not available:
                raise ConfigurationError(f"the endpoint at {self.base_url} lists no models",
                                         hint="set SCOPEBOT_LLM_MODEL to the model's name")
            self._model = available[0]
        return self._model

    # -- chat --------------------------------------------------------------------------------------
    def _request(self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None,
                 max_tokens: int | None, temperature: float | None,
                 stop: Sequence[str] | None) -> dict[str, Any]:
        if not messages:
            raise ConfigurationError("no messages to send to the chat model", hint="pass at least one message")
        request: dict[str, Any] = {
            "model": self.model, "messages": messages_to_openai(messages),
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": self.temperature if temperature is None else temperature,
        }
        if stop:
            request["stop"] = list(stop)
        openai_tools = tools_to_openai(tools)
        if openai_tools:
            request["tools"] = openai_tools
            # OpenAI defaults to "auto" when tools are given; llama.cpp's Python server ignores the
            # tools unless tool_choice is sent, so it is always sent explicitly.
            request["tool_choice"] = self.tool_choice
        return request

    def stream(self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
               max_tokens: int | None = None, temperature: float | None = None,
               stop: Sequence[str] | None = None) -> Iterator[ChatDelta]:
        """Stream text deltas; tool calls are assembled from fragments and yielded whole at the end."""
        request = self._request(messages, tools, max_tokens, temperature, stop)
        assembler = ToolCallAssembler()
        finish: str | None = None
        got_text = False
        try:
            response = self._client.chat.completions.create(stream=True, **request)
            with response:
                for chunk in response:
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    finish = choice.finish_reason or finish
                    delta = choice.delta
                    if delta is None:
                        continue
                    for fragment in delta.tool_calls or []:
                        assembler.add(fragment)
                    if delta.content:
                        got_text = True
                        yield ChatDelta(text=delta.content)
        except ScopebotError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a scopebot error
            raise self._map_error(exc) from None
        if finish is None and not got_text and not assembler:
            # llama-cpp-python's server fails *after* sending 200 when asked to stream with
            # tool_choice="auto"; the same request without streaming works, so fall back to it once.
            if tools:
                _log.info("empty streamed reply with tools from %s; retrying without streaming", self.base_url)
                # That server also drops the kept-alive connection, so allow one retry on a fresh one.
                retrying = self._client.with_options(max_retries=max(1, self._client.max_retries))
                response = self._complete(retrying, request)
                if response.text:
                    yield ChatDelta(text=response.text)
                yield ChatDelta(tool_calls=response.tool_calls, finish_reason=response.finish_reason)
                return
            raise ModelError(f"the endpoint at {self.base_url} closed the stream without any answer",
                             hint="check the server's logs")
        yield ChatDelta(tool_calls=assembler.finish(), finish_reason=finish or "stop")

    def complete(self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
                 max_tokens: int | None = None, temperature: float | None = None,
                 stop: Sequence[str] | None = None) -> ChatResponse:
        """One non-streamed request (cheaper than assembling a stream when nobody watches it)."""
        return self._complete(self._client, self._request(messages, tools, max_tokens, temperature, stop))

    def complete_json(self, messages: Sequence[Message], schema: dict[str, Any], *, name: str = "reply",
                      max_tokens: int | None = None, temperature: float | None = None) -> ChatResponse:
        """Structured output: OpenAI's ``json_schema`` response format, or, where the endpoint refuses
        it (llama-cpp-python's server knows only ``json_object``), ``json_object`` with the schema."""
        import openai

        request = self._request(messages, None, max_tokens, temperature, None)
        while True:
            request["response_format"] = JSON_FORMATS[self._json_format](name, schema)
            try:
                result = self._client.chat.completions.create(**request)
            except openai.APIStatusError as exc:
                # 400/422 usually; llama-cpp-python's server answers its own validation error with 500
                if self._json_format + 1 < len(JSON_FORMATS) and "response_format" in _error_text(exc):
                    _log.info("%s refused response_format %s; trying the next form", self.base_url,
                              request["response_format"]["type"])
                    self._json_format += 1
                    continue
                raise self._map_error(exc) from None
            except Exception as exc:  # noqa: BLE001 - mapped to a scopebot error
                raise self._map_error(exc) from None
            return self._response(result)

    def _complete(self, client: Any, request: dict[str, Any]) -> ChatResponse:
        try:
            result = client.chat.completions.create(**request)
        except Exception as exc:  # noqa: BLE001 - mapped to a scopebot error
            raise self._map_error(exc) from None
        return self._response(result)

    def _response(self, result: Any) -> ChatResponse:
        if not result.choices:
            raise ModelError(f"{self.name} returned no choices", hint="check the endpoint's logs")
        choice = result.choices[0]
        calls = [tool_call_from_openai(c, i) for i, c in enumerate(choice.message.tool_calls or [])]
        return ChatResponse(text=choice.message.content or "", tool_calls=calls,
                            finish_reason=choice.finish_reason or "stop")

    # -- errors ------------------------------------------------------------------------------------
    def _clean(self, text: str) -> str:
        return scrub(text, self._secret.get_secret_value())

    def _map_error(self, exc: Exception) -> ScopebotError:
        """Translate an ``openai`` exception into a scopebot error that says what to change."""
        import openai

        url = self.base_url
        if isinstance(exc, openai.APITimeoutError):
            return ModelError(f"the endpoint at {url} did not answer in time",
                              hint="check the server is healthy, or raise SCOPEBOT_LLM_TIMEOUT")
        if isinstance(exc, openai.APIConnectionError):
            return ModelError(f"endpoint unreachable at {url}",
                              hint="check SCOPEBOT_LLM_BASE_URL / is the server running?")
        if not isinstance(exc, openai.APIStatusError):
            return ModelError(f"unexpected failure talking to {url}: {self._clean(type(exc).__name__)}: "
                              f"{self._clean(str(exc))}", hint="check the endpoint's logs")
        status = exc.status_code
        detail = self._clean(_error_text(exc))
        if status == 401 or (status == 403 and "key" in detail.lower()):
            return ConfigurationError(f"the API key was rejected by {url} (HTTP {status})",
                                      hint="check OPENAI_API_KEY" + ("" if self.key_is_set else
                                                                     " (it is not set)"))
        if status == 403:
            return ConfigurationError(f"access denied by {url} (HTTP 403): {detail}",
                                      hint="check the key's permissions for this model (OPENAI_API_KEY)")
        lowered = detail.lower()
        if any(word in lowered for word in _CONTEXT_WORDS):
            return ContextOverflowError(f"the prompt does not fit in {self.name}'s context window: {detail}")
        if status == 404 or (status == 400 and "model" in lowered and
                             ("not found" in lowered or "does not exist" in lowered)):
            return self._unknown_model(status, detail)
        if status == 429:
            return ModelError(f"the endpoint at {url} is rate limiting requests: {detail}",
                              hint="wait and retry, or check the account's quota")
        if status >= 500:
            return ModelError(f"the endpoint at {url} failed (HTTP {status}): {detail}",
                              hint="check the server's logs; retry later")
        return ModelError(f"the endpoint at {url} refused the request (HTTP {status}): {detail}",
                          hint="check SCOPEBOT_LLM_MODEL and the server's supported options")

    def _unknown_model(self, status: int, detail: str) -> ScopebotError:
        try:
            available = self.list_models()
        except ScopebotError:
            available = None
        if available is None:
            if not detail or detail.lower().startswith("error code"):
                # no OpenAI-style error body and no model list: something else answers at this address
                return ConfigurationError(
                    f"no OpenAI-compatible server answers at {self.base_url}: it gave HTTP {status} with no "
                    "error message, and no model list",
                    hint="check SCOPEBOT_LLM_BASE_URL (host, port, and usually a /v1 ending); a proxy or "
                         "firewall may be answering for an address it cannot reach")
            return ConfigurationError(f"{self.base_url} answered HTTP {status} ({detail})",
                                      hint="check SCOPEBOT_LLM_BASE_URL (usually ends in /v1) and "
                                           "SCOPEBOT_LLM_MODEL")
        shown = ", ".join(available[:20]) + (" …" if len(available) > 20 else "") or "none"
        return ConfigurationError(f"unknown model {self._model!r} at {self.base_url}",
                                  hint=f"check SCOPEBOT_LLM_MODEL (available: {shown})")


def _error_text(exc: Any) -> str:
    """The server's error message from an ``APIStatusError`` (body ``{"error": {"message": ...}}``)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            parts = [str(inner.get(k)) for k in ("message", "code") if inner.get(k)]
            if parts:
                return " ".join(parts)
        elif isinstance(inner, str):
            return inner
    return str(getattr(exc, "message", "") or exc)
