"""scopebot: a source-grounded assistant for microscopy and bioimage analysis."""

from typing import Any

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext scopebot`` in IPython/Jupyter (the magic is imported only now)."""
    from scopebot.jupyter.magic import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from scopebot.jupyter.magic import unload_ipython_extension as unload

    unload(ipython)
