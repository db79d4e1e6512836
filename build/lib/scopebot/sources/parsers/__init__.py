"""Built-in parsers; importing this package registers them (one module per source format)."""

from scopebot.sources.parsers import (  # noqa: F401  (imported for their @register side effect)
    awesome,
    biii,
    book,
    model_zoo,
    neubias,
    nfdi,
    notebooks,
    sites,
)
