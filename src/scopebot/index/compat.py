"""Whether an embedder's vectors are comparable with the vectors stored in an index.

Both MiniLM backends (torch and int8 ONNX) carry the same ``name``, so an index built by one is
searched with the other. That holds only while their vectors agree: a few probe chunks (the
shortest, so the check costs milliseconds) are embedded again and compared, by cosine, with their
stored vectors. Below ``Settings.embedding_tolerance`` search refuses the index with a message, and
``scopebot ingest`` re-embeds every chunk instead of reusing the stored vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scopebot.errors import ConfigurationError
from scopebot.index.embeddings import Embedder
from scopebot.index.manifest import IndexManifest
from scopebot.index.models import Chunk

#: Chunks re-embedded by the check.
PROBES = 4
#: The variant of builds made before variants were recorded (always sentence-transformers).
LEGACY_VARIANT = "torch"


def built_variant(manifest: IndexManifest) -> str:
    return manifest.embedder_variant or (LEGACY_VARIANT if manifest.embedder == "all-MiniLM-L6-v2" else "")


def probe_chunks(chunks: Sequence[Chunk], n: int = PROBES) -> list[Chunk]:
    """The ``n`` shortest chunks (ties broken by key, so the choice is stable)."""
    return sorted(chunks, key=lambda c: (len(c.text), c.key))[:n]


def agreement(embedder: Embedder, chunks: Sequence[Chunk], stored: Any) -> float | None:
    """Smallest cosine between ``embedder``'s vectors of the probe chunks and the stored ones
    (``stored.vectors(keys)``); None when no probe has a stored vector."""
    probes = probe_chunks(chunks)
    have = stored.vectors([c.key for c in probes])
    probes = [c for c in probes if c.key in have]
    if not probes:
        return None
    fresh = embedder.embed([c.text for c in probes])
    old = np.stack([have[c.key] for c in probes]).astype(np.float32)
    return float(np.min(np.sum(fresh * old, axis=1)))


def check_query_embedder(manifest: IndexManifest, embedder: Embedder, chunks: Sequence[Chunk], stored: Any,
                         tolerance: float) -> float | None:
    """Raise a :class:`ConfigurationError` when ``embedder`` cannot search this index; return the measured
    agreement (None when no measurement was needed)."""
    if embedder.name != manifest.embedder:
        raise ConfigurationError(
            f"The index was built with the embedder {manifest.embedder!r} but {embedder.name!r} is configured",
            hint="set SCOPEBOT_EMBEDDING_MODEL to match, or rebuild with `scopebot ingest --force`")
    built = built_variant(manifest)
    if not embedder.variant or not built or embedder.variant == built or not chunks:
        return None
    cos = manifest.variant_agreement.get(embedder.variant)
    if cos is None:
        cos = agreement(embedder, chunks, stored)
    if cos is not None and cos < tolerance:
        raise ConfigurationError(
            f"The index vectors were made by the {built} embedder and differ from the {embedder.variant} "
            f"query embedder's (cosine {cos:.4f} < {tolerance})",
            hint=f"rebuild them with `scopebot ingest --force`, or set SCOPEBOT_EMBEDDING_BACKEND={built}")
    return cos
