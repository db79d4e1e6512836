"""Records of the agent: routes, trace steps, turn results and the agent's own payloads.

They are pydantic models so the terminal chat's ``--json`` lines, the UI and the eval reports all
serialise the same objects. Payloads produced by other areas (an ``Answer``, a ``Recommendation``,
a ``CodeResult``) are carried as they are in :attr:`TurnResult.payload` and serialised through
their own ``model_dump``/``to_json``.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, field_serializer

RouteLabel = Literal["question", "code", "tool", "forum", "chitchat", "out_of_scope"]
#: Every route the router can return (same labels as the routing eval dataset).
ROUTES: tuple[str, ...] = get_args(RouteLabel)

TurnKind = Literal["answer", "code", "tools", "forum", "chitchat", "refusal", "abstention", "clarification"]


class Route(BaseModel):
    """Where a turn goes, how sure the router is, and why (rules fired, nearest examples)."""

    label: RouteLabel
    confidence: float = Field(ge=0.0, le=1.0)
    reasons: list[str] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict, description="Combined score per route.")
    inherited: bool = Field(default=False, description="True when a follow-up took the previous route.")
    forced: bool = Field(default=False, description="True when the user chose the route.")
    also: list[RouteLabel] = Field(default_factory=list,
                                   description="Runner-up routes served as well when the router is unsure "
                                               "(e.g. an answer plus tool cards).")


class TraceStep(BaseModel):
    """One thing the agent did during a turn (routing, a pipeline call, one tool call...)."""

    name: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict, description="A short summary, not the payload.")
    seconds: float = 0.0
    error: str | None = None


class AgentEvent(BaseModel):
    """A progress event of :meth:`Assistant.stream_turn`: ``status``, ``delta`` or ``final``."""

    type: Literal["status", "delta", "final"]
    text: str = ""
    result: TurnResult | None = None


class ChitChatReply(BaseModel):
    """A fixed friendly reply (greeting, thanks, 'what can you do')."""

    text: str


class Refusal(BaseModel):
    """A polite refusal of a request outside microscopy and bioimage analysis."""

    text: str
    reason: str = "out_of_scope"


class Clarification(BaseModel):
    """A question back to the user: the turn cannot be served as asked ("which software would you recommend
    for it?" with nothing earlier for "it" to mean), and says what to add."""

    text: str
    reason: str = ""


class ForumHit(BaseModel):
    """One forum passage shown with a forum answer."""

    key: str
    title: str
    url: str
    snippet: str = ""


class ForumResult(BaseModel):
    """A forum-route turn: live hits (when the forum answered) and a grounded answer."""

    query: str
    reachable: bool
    message: str = ""
    hits: list[ForumHit] = Field(default_factory=list)
    answer: Any = None

    @field_serializer("answer")
    def _ser_answer(self, value: Any) -> Any:
        return dump_payload(value)


class LoopChecks(BaseModel):
    """Hallucination checks on the tool loop's final answer."""

    invalid_citations: int = Field(default=0, description="Citations to keys not gathered (removed).")
    removed_citations: list[str] = Field(default_factory=list)
    supported_fraction: float = 1.0
    unsupported_sentences: list[str] = Field(default_factory=list)
    sentences: int = 0


class LoopAnswer(BaseModel):
    """The final answer of the tool-calling loop, checked against the passages it gathered."""

    question: str
    answer: str = Field(description="Markdown answer; citations rendered as [1], [2] ...")
    answer_keys: str = Field(default="", description="The same answer with raw citation keys.")
    abstained: bool = False
    citations: list[dict[str, Any]] = Field(default_factory=list)
    checks: LoopChecks = Field(default_factory=LoopChecks)
    steps: int = 0
    stopped: Literal["final", "step_limit"] = "final"
    note: str = ""
    tool_results: list[Any] = Field(default_factory=list, description="Recommendations / code results made.")
    backend: str = ""

    @field_serializer("tool_results")
    def _ser_results(self, value: list[Any]) -> list[Any]:
        return [dump_payload(v) for v in value]


class TurnResult(BaseModel):
    """What one user turn produced: the route, the typed payload, a markdown rendering and a trace."""

    text: str = Field(description="The user's message.")
    route: RouteLabel
    confidence: float
    kind: TurnKind
    payload: Any = None
    markdown: str = ""
    trace: list[TraceStep] = Field(default_factory=list)
    image: str | None = None
    seconds: float = 0.0
    also: list[RouteLabel] = Field(default_factory=list, description="Runner-up routes served as well.")
    warnings: list[str] = Field(default_factory=list, description="What the user must know before the reply "
                                                                  "(a name no source knows), shown first.")
    extras: dict[str, Any] = Field(default_factory=dict,
                                   description="Payloads of the runner-up routes, e.g. {'tools': Recommendation}.")

    @field_serializer("payload")
    def _ser_payload(self, value: Any) -> Any:
        return dump_payload(value)

    @field_serializer("extras")
    def _ser_extras(self, value: dict[str, Any]) -> Any:
        return dump_payload(value)


def dump_payload(value: Any) -> Any:
    """JSON-ready form of a payload from any area (pydantic model, ``to_json`` object, dataclass)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [dump_payload(v) for v in value]
    if isinstance(value, dict):
        return {str(k): dump_payload(v) for k, v in value.items()}
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump_payload(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


AgentEvent.model_rebuild()
