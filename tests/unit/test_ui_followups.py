"""The web UI's chat over the real Assistant (fake capabilities): the round-17 follow-up flow, as the page
shows it. The UI adds nothing of its own to a follow-up: what the coder receives is the user's words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_agent_fakes import make_assistant
from test_agent_followups import NamingAnswerer

from scopebot.settings import Settings
from scopebot.ui.history import FeedbackStore
from scopebot.ui.services import SessionSettings
from scopebot.ui.session import ChatSession


class AgentServices:
    """UIServices whose sessions get the real Assistant over the agent tests' fakes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.fakes: dict[str, Any] = {}

    def make_assistant(self, session: SessionSettings) -> Any:
        assistant, fakes = make_assistant(answerer=NamingAnswerer())
        self.fakes.update(fakes)
        return assistant

    def run_code(self, code: str, image: Path | None = None) -> Any:
        raise AssertionError("no Run button in these tests")

    def passage_text(self, key: str) -> str | None:
        return None

    @property
    def code_execution(self) -> bool:
        return True


def _session(tmp_path: Path) -> tuple[ChatSession, AgentServices]:
    settings = Settings(home=tmp_path / "home")
    services = AgentServices(settings)
    return ChatSession(services, FeedbackStore(settings.feedback_path), SessionSettings(),  # type: ignore[arg-type]
                       stream_interval_s=0.0), services


def test_a_code_follow_up_in_the_ui_sends_the_users_words_only(tmp_path: Path) -> None:
    session, services = _session(tmp_path)
    list(session.ask("count the nuclei and give me their mean area in um2", route="code"))
    final = list(session.ask("and how bright is the GFP in them?", route="code"))[-1]
    assert final.status.startswith("Done")
    request = services.fakes["coder"].calls[-1]["request"]
    assert request == "count the nuclei and give me their mean area in um2. and how bright is the GFP in them?"


def test_the_ui_shows_the_unknown_name_note_first_and_a_clarification_as_text(tmp_path: Path) -> None:
    session, _ = _session(tmp_path)
    final = list(session.ask("segment the nuclei with DeepBlobby3D and count them", route="code"))[-1]
    bubble = next(m["content"] for m in reversed(final.chat)
                  if m["role"] == "assistant" and isinstance(m["content"], str))
    assert "**Note:** 'DeepBlobby3D' is named in your request" in bubble
    assert bubble.index("**Note:**") < bubble.index("labels = segment")  # before the code
    fresh, _ = _session(tmp_path)  # nothing earlier for "it" to mean
    final = list(fresh.ask("Which software would you recommend for it?", route="tool"))[-1]
    assert final.status.startswith("Done") and "Which task or method do you mean?" in final.chat[-1]["content"]
