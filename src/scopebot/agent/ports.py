"""What the Assistant needs from each capability, as small Protocols, plus lazy adapters.

The Assistant depends only on these protocols, so unit tests inject tiny fakes and the agent stays
independent of how the answer pipeline, the recommender, the code assistant or the forum client are
built. The ``Lazy*`` adapters wrap the real classes and build them on first use (opening the index,
starting the sandbox and loading models only when a turn actually needs them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from scopebot.errors import ConfigurationError
from scopebot.index.models import SearchResult
from scopebot.llm.base import Message


@runtime_checkable
class Answerer(Protocol):
    """Grounded answers (``scopebot.answer.pipeline.AnswerPipeline``)."""

    def answer(self, question: str, history: Sequence[Message] | None = None, mode: str | None = None,
               strict: bool | None = None, extra_results: Sequence[SearchResult] | None = None) -> Any:
        """An ``Answer``-like object: ``answer``, ``abstained``, ``citations``, ``checks``..."""
        ...


@runtime_checkable
class NameCheck(Protocol):
    """The answer route's check for names no source knows, for every other route (tools, code)."""

    def unknown_names(self, text: str) -> list[str]:
        """Names in ``text`` (tools, plugins, models, functions) that no source, registry or installed
        package knows; empty when every name is known or none is given."""
        ...


@runtime_checkable
class ToolRecommender(Protocol):
    """Tool recommendations (``scopebot.tools.recommend.Recommender``)."""

    def recommend(self, request: str, interface: str = "any", dims: str = "any", k: int = 5) -> Any:
        """A ``Recommendation``: ``results``, ``nothing_fits``, ``nearest``, ``message``."""
        ...


@runtime_checkable
class Coder(Protocol):
    """Analysis code written and run in the sandbox (``scopebot.code.assistant.CodeAssistant``)."""

    def run(self, request: str, image: Path | None = None) -> Any:
        """A ``CodeResult``: ``code``, ``ran``, ``ok``, ``stdout``, ``error``, ``figures``..."""
        ...


@runtime_checkable
class ForumSearch(Protocol):
    """Live image.sc search (``scopebot.forum.live.LiveForumSearch``)."""

    def is_reachable(self) -> bool:
        ...

    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        ...


@runtime_checkable
class ImageInspector(Protocol):
    """Reads basic facts about an uploaded image (shape, type, range, channels)."""

    def inspect(self, path: Path) -> dict[str, Any]:
        ...


@runtime_checkable
class Searcher(Protocol):
    """Passage search for the tool loop's ``search_knowledge`` (a ``Retriever``)."""

    def search(self, query: str, k: int = 5, kinds: Sequence[str] | None = None) -> list[SearchResult]:
        ...


# --------------------------------------------------------------------------------------------------
# Lazy adapters
# --------------------------------------------------------------------------------------------------
T = TypeVar("T")


class Lazy(Generic[T]):
    """Builds a component with ``factory`` on first use (thread-safe) and keeps it."""

    def __init__(self, factory: Callable[[], T], name: str = "component") -> None:
        self._factory = factory
        self._name = name
        self._value: T | None = None
        self._built = False
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if not self._built:
                self._value = self._factory()
                self._built = True
            return self._value  # type: ignore[return-value]

    @property
    def built(self) -> bool:
        return self._built


class LazyAnswerer:
    """:class:`Answerer` over a lazily built ``AnswerPipeline``."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._lazy: Lazy[Any] = Lazy(factory, "answer pipeline")

    def answer(self, question: str, history: Sequence[Message] | None = None, mode: str | None = None,
               strict: bool | None = None, extra_results: Sequence[SearchResult] | None = None) -> Any:
        return self._lazy.get().answer(question, history=history, mode=mode, strict=strict,
                                       extra_results=extra_results)

    def stream(self, question: str, history: Sequence[Message] | None = None,
               extra_results: Sequence[SearchResult] | None = None) -> Iterator[Any]:
        """The pipeline's ``status``/``delta``/``final`` events."""
        yield from self._lazy.get().stream(question, history, None, None, extra_results)

    def unknown_names(self, text: str) -> list[str]:
        """:class:`NameCheck` by the pipeline's own evidence decision: the names for which ``scopebot ask``
        would abstain ("the question names 'X', which none of the sources ... mention")."""
        return list(self._lazy.get().unknown_names(text))


class LazyRecommender:
    """:class:`ToolRecommender` over a lazily built ``Recommender``."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._lazy: Lazy[Any] = Lazy(factory, "recommender")

    def recommend(self, request: str, interface: str = "any", dims: str = "any", k: int = 5) -> Any:
        return self._lazy.get().recommend(request, interface=interface, dims=dims, k=k)


class LazyCoder:
    """:class:`Coder` over a lazily built ``CodeAssistant``."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._lazy: Lazy[Any] = Lazy(factory, "code assistant")

    def run(self, request: str, image: Path | None = None) -> Any:
        return self._lazy.get().run(request, image=image)


class LazyForum:
    """:class:`ForumSearch` over a lazily built ``LiveForumSearch`` (None: the forum is switched off)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._lazy: Lazy[Any] = Lazy(factory, "forum search")

    def is_reachable(self) -> bool:
        live = self._lazy.get()
        return bool(live is not None and live.is_reachable())

    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        live = self._lazy.get()
        if live is None:
            raise ConfigurationError("live forum search is switched off",
                                     hint="set SCOPEBOT_FORUM_LIVE=true to search image.sc")
        return live.search(query, k)


class BasicImageInspector:
    """Reads an uploaded TIFF/PNG/JPEG in this process (numpy + tifffile/Pillow) and summarises it.

    It only reads pixel data (no code from the file is run) and caps the pixels it looks at, so a
    huge upload cannot exhaust memory.
    """

    MAX_BYTES = 512 * 1024 * 1024

    def inspect(self, path: Path) -> dict[str, Any]:
        import numpy as np

        path = Path(path)
        if not path.is_file():
            raise ConfigurationError(f"image not found: {path}", hint="upload the image again with /image PATH")
        if path.stat().st_size > self.MAX_BYTES:
            raise ConfigurationError(f"image too large to inspect: {path}", hint="crop or downsample it first")
        suffix = "".join(path.suffixes).lower()
        if suffix.endswith((".tif", ".tiff")):
            import tifffile

            with tifffile.TiffFile(path) as tif:
                series = tif.series[0]
                axes = getattr(series, "axes", "")
                data = series.asarray()
        else:
            from PIL import Image

            with Image.open(path) as img:
                axes = "YXS" if img.mode in ("RGB", "RGBA") else "YX"
                data = np.asarray(img)
        arr = np.asarray(data)
        info: dict[str, Any] = {"file": path.name, "shape": list(arr.shape), "dtype": str(arr.dtype),
                                "axes": axes, "ndim": int(arr.ndim)}
        if arr.size:
            sample = arr.reshape(-1)[:: max(1, arr.size // 2_000_000)].astype("float64")
            info.update(min=float(sample.min()), max=float(sample.max()), mean=round(float(sample.mean()), 3),
                        p1=float(np.percentile(sample, 1)), p99=float(np.percentile(sample, 99)))
        return info
