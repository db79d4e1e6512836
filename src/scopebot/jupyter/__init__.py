"""scopebot in IPython and Jupyter: ``%load_ext scopebot`` (or ``%load_ext scopebot.jupyter``).

The magic lives in :mod:`scopebot.jupyter.magic`; IPython is imported only when the extension is
loaded, so ``import scopebot.jupyter`` stays light.
"""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    from scopebot.jupyter.magic import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from scopebot.jupyter.magic import unload_ipython_extension as unload

    unload(ipython)
