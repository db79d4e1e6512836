"""Shared by the end-to-end code tests: one real sandbox per module and a request run through the plan path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scopebot.code.assistant import CodeAssistant
from scopebot.llm.scripted import ScriptedModel
from scopebot.sandbox.models import SandboxLimits
from scopebot.sandbox.runner import Sandbox


def module_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A kernel-isolated sandbox with one worker, for ``pytest.fixture(scope="module")``."""
    with Sandbox(SandboxLimits(timeout_s=60), workers=1, output_dir=tmp_path_factory.mktemp("runs")) as sb:
        yield sb


def run(sandbox: Sandbox, request: str, image: Path):  # noqa: ANN201 - a CodeResult
    """``request`` on ``image`` with the embedded planner (the scripted small model is never asked)."""
    return CodeAssistant(ScriptedModel(["x"], is_small=True), sandbox, None).run(request, image)
