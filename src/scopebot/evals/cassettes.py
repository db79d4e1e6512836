"""Keeping recorded HTTP cassettes free of third-party text.

A chat model answering from source passages may quote them. Before a cassette is committed,
:func:`redact_cassette` rewrites every recorded chat-completion response (streamed or not): runs of
``min_words`` or more consecutive words that also occur in the knowledge sources are replaced by
``[…]``. Streamed responses are rebuilt as one content event plus the final event, which the
OpenAI SDK replays like the original stream.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

_WORD = re.compile(r"[A-Za-z0-9]+")
REDACTED = "[…]"


def _norm_words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def ngram_set(texts: Iterable[str], n: int) -> set[tuple[str, ...]]:
    """Every run of ``n`` consecutive (lower-cased) words in ``texts``."""
    grams: set[tuple[str, ...]] = set()
    for text in texts:
        words = _norm_words(text)
        grams.update(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return grams


def redact_text(text: str, grams: set[tuple[str, ...]], n: int) -> str:
    """``text`` with every word that belongs to a source ``n``-gram replaced (runs collapse to one marker)."""
    matches = list(_WORD.finditer(text))
    words = [m.group(0).lower() for m in matches]
    hit = [False] * len(words)
    for i in range(len(words) - n + 1):
        if tuple(words[i:i + n]) in grams:
            for j in range(i, i + n):
                hit[j] = True
    if not any(hit):
        return text
    out: list[str] = []
    pos = 0
    in_run = False
    for m, h in zip(matches, hit, strict=True):
        if h:
            if not in_run:
                out.append(text[pos:m.start()] + REDACTED)
                in_run = True
            pos = m.end()
        else:
            out.append(text[pos:m.start()])
            out.append(m.group(0))
            in_run = False
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _redact_body(body: str, grams: set[tuple[str, ...]], n: int) -> str:
    if body.lstrip().startswith("data:"):
        events = [ln[5:].strip() for ln in body.splitlines() if ln.startswith("data:")]
        chunks = [json.loads(e) for e in events if e and e != "[DONE]"]
        if not chunks:
            return body
        content = "".join((c["choices"][0].get("delta") or {}).get("content") or "" for c in chunks if c.get("choices"))
        first, last = chunks[0], chunks[-1]
        merged = json.loads(json.dumps(first))
        merged["choices"][0]["delta"] = {"role": "assistant", "content": redact_text(content, grams, n)}
        merged["choices"][0]["finish_reason"] = None
        out = [merged]
        if last is not first:
            tail = json.loads(json.dumps(last))
            if tail.get("choices"):
                tail["choices"][0]["delta"] = {}
            out.append(tail)
        return "".join(f"data: {json.dumps(c)}\n\n" for c in out) + "data: [DONE]\n\n"
    try:
        data = json.loads(body)
    except ValueError:
        return body
    for choice in data.get("choices", []):
        msg = choice.get("message") or {}
        if isinstance(msg.get("content"), str):
            msg["content"] = redact_text(msg["content"], grams, n)
    return json.dumps(data)


def redact_cassette(path: Path, source_texts: Iterable[str], *, min_words: int = 8) -> int:
    """Rewrite the cassette at ``path`` in place; returns the number of responses changed."""
    import yaml

    grams = ngram_set(source_texts, min_words)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    changed = 0
    for interaction in data.get("interactions", []):
        body = interaction.get("response", {}).get("body", {})
        old = body.get("string")
        if isinstance(old, bytes):
            old = old.decode("utf-8")
        if not isinstance(old, str):
            continue
        new = _redact_body(old, grams, min_words)
        if new != old:
            body["string"] = new
            headers = interaction["response"].get("headers", {})
            for key in list(headers):
                if key.lower() == "content-length":
                    headers[key] = [str(len(new.encode("utf-8")))]
            changed += 1
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return changed


def source_texts(sources_dir: Path) -> Iterable[str]:
    """The text files of the offline knowledge sources (for building the n-gram set)."""
    for p in sorted(sources_dir.rglob("*")):
        if p.is_file() and p.suffix.lower() in {".md", ".qmd", ".yml", ".yaml", ".jsonl", ".json", ".ttl", ".tsv"}:
            yield p.read_text(encoding="utf-8", errors="replace")
