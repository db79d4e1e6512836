"""Process-wide components of the web UI, built once and shared by every browser session.

The knowledge base, the embedder, the default chat model and the sandbox are expensive (an index
opened from disk, a model loaded in memory, warm worker processes), so one :class:`Services`
object per process builds each on first use, under a lock, and keeps it. Every Gradio session gets
its own light ``Assistant`` (its conversation memory) from :func:`make_assistant`, which wires the
shared components together with the session's own settings (backend, answer mode, strict mode).

The UI talks to this module only through the :class:`UIServices` protocol, so tests hand
``create_app`` a small fake instead.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import SecretStr

from scopebot.errors import ConfigurationError
from scopebot.settings import Settings, is_loopback
from scopebot.ui.safety import inline_text

#: Backends a user may pick in the settings panel (``gguf``/``scripted`` are for operators and tests).
UI_BACKENDS = ("embedded", "openai")
ANSWER_MODES = ("auto", "extractive", "generative")


@dataclass(frozen=True)
class SessionSettings:
    """What one browser session may change: chat backend, answer mode and strict mode.

    The API key is a :class:`~pydantic.SecretStr`; its ``repr`` never shows the value, so logging a
    ``SessionSettings`` cannot leak it.
    """

    backend: str = "embedded"
    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = field(default=None, repr=False)
    answer_mode: str = "auto"
    strict: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionSettings:
        """The session defaults: what the operator configured."""
        return cls(backend=settings.effective_backend, base_url=settings.llm_base_url, model=settings.llm_model,
                   api_key=settings.llm_api_key, answer_mode=settings.answer_mode, strict=settings.strict)

    def updated(self, **changes: Any) -> SessionSettings:
        """A copy with ``changes``; an empty ``api_key`` keeps the current key, strings are stripped."""
        if "api_key" in changes:
            key = changes["api_key"]
            if isinstance(key, str):
                changes["api_key"] = SecretStr(key.strip()) if key.strip() else self.api_key
        for name in ("base_url", "model"):
            if name in changes and isinstance(changes[name], str):
                changes[name] = changes[name].strip() or None
        new = replace(self, **changes)
        new.validate()
        return new

    def validate(self) -> None:
        """Raise :class:`ConfigurationError` for a combination that cannot work."""
        if self.answer_mode not in ANSWER_MODES:
            raise ConfigurationError(f"unknown answer mode {self.answer_mode!r}",
                                     hint="choose auto, extractive or generative")
        if self.backend == "openai" and not self.base_url and self.api_key is None:
            raise ConfigurationError("the OpenAI-compatible backend needs an endpoint URL or an API key",
                                     hint="enter the endpoint URL (e.g. http://127.0.0.1:8080/v1) or a key")
        if self.backend == "openai" and self.base_url:
            check_endpoint_url(self.base_url)

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with this session's choices applied (endpoint, model and key only for ``openai``)."""
        remote = self.backend == "openai"
        return settings.model_copy(update={
            "llm_backend": self.backend, "llm_base_url": self.base_url if remote else None,
            "llm_model": self.model if remote else None, "llm_api_key": self.api_key if remote else None,
            "answer_mode": self.answer_mode, "strict": self.strict})

    def model_key(self) -> tuple[str, str, str, str]:
        """Cache key of the chat model: the key enters only as a short hash."""
        if self.backend != "openai":  # the endpoint fields mean nothing to a local backend
            return (self.backend, "", "", "")
        secret = self.api_key.get_secret_value() if self.api_key is not None else ""
        digest = hashlib.sha256(secret.encode()).hexdigest()[:12] if secret else ""
        return (self.backend, self.base_url or "", self.model or "", digest)

    def describe(self) -> str:
        """One line for the UI; says whether a key is set, never what it is. Endpoint, model and key are
        shown only for the ``openai`` backend, the only one that uses them."""
        remote = self.backend == "openai"
        where = f" at {inline_text(self.base_url)}" if remote and self.base_url else ""
        # typed by the user: text, not markup
        model = f", model {inline_text(self.model)}" if remote and self.model else ""
        key = (", API key set (hidden)" if remote and self.api_key is not None
               and self.api_key.get_secret_value() else "")
        return (f"backend **{self.backend}**{where}{model}{key} · answer mode **{self.answer_mode}** · "
                f"strict **{'on' if self.strict else 'off'}**")


def check_endpoint_url(url: str) -> None:
    """Raise :class:`ConfigurationError` unless ``url`` is an http(s) URL with a host."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        ok = False
    if not ok or any(c.isspace() for c in url):
        raise ConfigurationError(f"the endpoint URL {url[:200]!r} is not an http(s) URL with a host",
                                 hint="enter it like http://127.0.0.1:8080/v1 in Settings → Endpoint URL")


@runtime_checkable
class UIServices(Protocol):
    """What the UI needs from the process: per-session assistants, sandbox runs, passage lookup."""

    settings: Settings

    def make_assistant(self, session: SessionSettings) -> Any:
        """An object with ``stream_turn(text, image=None, force_route=None)`` (and ``turn``)."""
        ...

    def run_code(self, code: str, image: Path | None = None) -> Any:
        """Run ``code`` in the sandbox with the image (or a synthetic one) as ``IMAGE_PATH``."""
        ...

    def passage_text(self, key: str) -> str | None:
        """The full text of a cited passage, or None when unknown."""
        ...

    @property
    def code_execution(self) -> bool:
        """Whether the Run button (and sandboxed code answers) are enabled."""
        ...


def code_execution_allowed(settings: Settings) -> bool:
    """Code runs only when allowed and the UI is either local-only or behind a login."""
    return bool(settings.allow_code_execution and (settings.auth or is_loopback(settings.host)))


def parse_auth(auth: str | None) -> list[tuple[str, str]] | None:
    """``'user:pw,user2:pw2'`` -> ``[('user', 'pw'), ('user2', 'pw2')]`` (None when unset)."""
    if not auth or not auth.strip():
        return None
    pairs: list[tuple[str, str]] = []
    for item in auth.split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            raise ConfigurationError("SCOPEBOT_AUTH must look like 'user:password[,user2:password2]'",
                                     hint="give every user a name and a password separated by ':'")
        pairs.append((user, password))
    return pairs


class Services:
    """The heavy components, built lazily (thread-safe) from :class:`Settings` and shared by sessions.

    Every component may be injected (tests, embedding scopebot elsewhere); what is not injected is
    built on first use.
    """

    def __init__(self, settings: Settings, *, knowledge: Any = None, chat_model: Any = None,
                 sandbox: Any = None, assistant_factory: Callable[[Services, SessionSettings], Any] | None = None,
                 code_execution: bool | None = None) -> None:
        self.settings = settings
        self._code_execution = code_execution_allowed(settings) if code_execution is None else code_execution
        self._lock = threading.RLock()
        self._knowledge = knowledge
        self._sandbox = sandbox
        self._models: dict[tuple[str, str, str, str], Any] = {}
        if chat_model is not None:
            self._models[SessionSettings.from_settings(settings).model_key()] = chat_model
        self._recommender: Any = None
        self._router: Any = None
        self._forum: Any = None
        self._forum_built = False
        self._entities: Any = None
        self._pipelines: dict[tuple[str, ...], Any] = {}
        self._coders: dict[tuple[str, ...], Any] = {}
        self._factory = assistant_factory or make_assistant
        self._closed = False

    @property
    def code_execution(self) -> bool:
        return self._code_execution

    # --- shared components --------------------------------------------------------------------
    @property
    def knowledge(self) -> Any:
        """The opened knowledge base (raises MissingIndexError with a hint when none is built)."""
        with self._lock:
            if self._knowledge is None:
                from scopebot.knowledge import KnowledgeBase

                self._knowledge = KnowledgeBase.open(self.settings, embedder=_embedder(self.settings))
            return self._knowledge

    @property
    def sandbox(self) -> Any:
        """The shared sandbox (disabled when code execution is not allowed)."""
        with self._lock:
            if self._sandbox is None:
                from scopebot.sandbox import Sandbox

                allowed = self.settings.model_copy(update={"allow_code_execution": self._code_execution})
                self._sandbox = Sandbox.from_settings(allowed)
            return self._sandbox

    @property
    def recommender(self) -> Any:
        """The tool recommender over the shared knowledge base."""
        with self._lock:
            if self._recommender is None:
                from scopebot.tools.factory import build_recommender

                self._recommender = build_recommender(self.settings, self.knowledge)
            return self._recommender

    @property
    def router(self) -> Any:
        """The turn router (its example embeddings are computed once per process)."""
        with self._lock:
            if self._router is None:
                from scopebot.agent.router import Router

                self._router = Router(getattr(self.knowledge, "embedder", None) or _embedder(self.settings))
            return self._router

    @property
    def forum(self) -> Any:
        """The live forum search, or None when it is switched off."""
        with self._lock:
            if not self._forum_built:
                from scopebot.forum.live import LiveForumSearch

                self._forum = LiveForumSearch.from_settings(self.settings)
                self._forum_built = True
            return self._forum

    def answer_pipeline(self, session: SessionSettings) -> Any:
        """An answer pipeline for ``session``'s backend, mode and strictness (cached)."""
        key = (*session.model_key(), session.answer_mode, str(session.strict))
        with self._lock:
            if key not in self._pipelines:
                from scopebot.answer.entities import EntityChecker
                from scopebot.answer.factory import build_answer_pipeline

                if self._entities is None:
                    self._entities = EntityChecker.from_retriever(self.knowledge)
                self._pipelines[key] = build_answer_pipeline(session.apply(self.settings), kb=self.knowledge,
                                                             model=self.chat_model(session),
                                                             entity_checker=self._entities)
            return self._pipelines[key]

    def code_assistant(self, session: SessionSettings) -> Any:
        """A code assistant for ``session``'s backend over the shared sandbox (cached)."""
        key = session.model_key()
        with self._lock:
            if key not in self._coders:
                from scopebot.code.assistant import CodeAssistant

                self._coders[key] = CodeAssistant(self.chat_model(session), self.sandbox, self.knowledge,
                                                  prompts_dir=self.settings.prompts_dir,
                                                  max_rounds=self.settings.code_repair_rounds)
            return self._coders[key]

    def chat_model(self, session: SessionSettings) -> Any:
        """The chat model for ``session``'s backend, one per distinct backend/endpoint/key."""
        key = session.model_key()
        with self._lock:
            if key not in self._models:
                from scopebot.llm import make_chat_model

                self._models[key] = make_chat_model(session.apply(self.settings))
            return self._models[key]

    # --- UIServices -------------------------------------------------------------------------
    def make_assistant(self, session: SessionSettings) -> Any:
        return self._factory(self, session)

    def run_code(self, code: str, image: Path | None = None) -> Any:
        if not self._code_execution:
            raise ConfigurationError("code execution is disabled on this server",
                                     hint="copy the code and run it locally, or ask the operator to enable "
                                          "login (SCOPEBOT_AUTH) and SCOPEBOT_ALLOW_CODE_EXECUTION")
        with _input_image(image) as (name, path):
            return self.sandbox.run(code, files={name: path}, globals={"IMAGE_PATH": name})

    def passage_text(self, key: str) -> str | None:
        try:
            chunk = self.knowledge.get(key)
        except Exception:  # noqa: BLE001 - a missing index only loses the expandable text
            return None
        return getattr(chunk, "body", None) if chunk is not None else None

    def close(self) -> None:
        """Stop the sandbox workers (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._sandbox is not None and hasattr(self._sandbox, "close"):
                self._sandbox.close()


def _embedder(settings: Settings) -> Any:
    """The server's query embedder (in a restartable child process, see ``index/embed_worker.py``)."""
    from scopebot.index.embed_worker import server_embedder

    return server_embedder(settings)


@contextmanager
def _input_image(image: Path | None) -> Iterator[tuple[str, Path]]:
    """``(name, path)`` of a run's input: the upload, or a synthetic image in a temporary folder."""
    if image is not None:
        image = Path(image)
        low = image.name.lower()
        suffix = ".ome.tif" if low.endswith((".ome.tif", ".ome.tiff")) else image.suffix.lower()
        yield "image" + suffix, image
        return
    from scopebot.code.synthetic import write_synthetic_image

    with tempfile.TemporaryDirectory(prefix="scopebot-ui-") as tmp:
        path, _ = write_synthetic_image(Path(tmp))
        yield "image.ome.tif", path


def make_assistant(services: Services, session: SessionSettings) -> Any:
    """A new ``Assistant`` for one browser session, over the shared components of ``services``.

    The session owns only its conversation state; the knowledge base, router, recommender, forum
    client, sandbox, answer pipelines and code assistants are shared (cached per backend/mode).
    """
    from scopebot.agent.assistant import Assistant
    from scopebot.agent.ports import BasicImageInspector, LazyAnswerer, LazyCoder, LazyForum, LazyRecommender

    settings = session.apply(services.settings)
    coder = LazyCoder(lambda: services.code_assistant(session)) if services.code_execution else None
    return Assistant(LazyAnswerer(lambda: services.answer_pipeline(session)),
                     LazyRecommender(lambda: services.recommender), coder,
                     LazyForum(lambda: services.forum), services.router, services.chat_model(session), settings,
                     searcher=_KnowledgeSearcher(services), inspector=BasicImageInspector())


class _KnowledgeSearcher:
    """The shared knowledge base as the tool loop's searcher, opened on first use."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def search(self, query: str, k: int = 5, kinds: Any = None) -> list[Any]:
        return self._services.knowledge.search(query, k=k, kinds=kinds)

    def get(self, key: str) -> Any:
        return self._services.knowledge.get(key)


def iter_events(assistant: Any, text: str, image: Path | None, force_route: str | None) -> Iterator[Any]:
    """The assistant's progress events, or a single final result when it cannot stream."""
    stream = getattr(assistant, "stream_turn", None)
    if stream is not None:
        yield from stream(text, image=image, force_route=force_route)
    else:
        yield assistant.turn(text, image=image, force_route=force_route)
