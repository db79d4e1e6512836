"""Shared test set-up: offline hygiene and settings pointing at a temporary home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.pop("OPENAI_API_KEY", None)
#: Variables that configure the test run itself, not scopebot: kept when every other SCOPEBOT_* setting
#: is removed (a developer's own settings must not change what the tests see).
TEST_RUN_VARIABLES = frozenset({"SCOPEBOT_VCR_RECORD", "SCOPEBOT_CHROMIUM"})
for _k in [k for k in os.environ if k.startswith("SCOPEBOT_") and k not in TEST_RUN_VARIABLES]:
    os.environ.pop(_k)

from scopebot.settings import Settings  # noqa: E402


@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    """Settings with a temporary home, the hash embedder and the project's manifest."""
    return Settings(home=tmp_path / "home", embedding_model="hash", chunk_size=400, chunk_overlap=60)

