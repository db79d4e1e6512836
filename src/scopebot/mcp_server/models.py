"""Typed results of scopebot's tools for outside clients (MCP tools, the Jupyter magic).

Each model is the ``structuredContent`` of one MCP tool, so its JSON schema is the tool's
``outputSchema``. Passages carry their citation key and a ``resource_uri`` a client can read to open
the cited passage (``scopebot://passage/<key>``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from scopebot.answer.models import CheckReport
from scopebot.code.checks import CodeCheckReport
from scopebot.sandbox.models import LimitName
from scopebot.tools.models import ToolResult

#: URI scheme of scopebot's MCP resources.
SCHEME = "scopebot"


def passage_uri(key: str) -> str:
    """The resource URI of one indexed passage."""
    return f"{SCHEME}://passage/{key}"


class Passage(BaseModel):
    """One retrieved passage with its citation key and deep link."""

    key: str = Field(description="Citation key, e.g. 'bk-3f9a2c1d'; cite it as [bk-3f9a2c1d].")
    title: str = Field(description="Document title (chapter, tool, lesson, model, forum topic).")
    section: str = Field(default="", description="Most specific section heading.")
    breadcrumb: str = Field(default="", description="Source › Document › Section.")
    url: str = Field(default="", description="Deep link to the section (page#anchor).")
    source: str = Field(default="", description="Source id, e.g. 'janelia-book', 'biii'.")
    kind: str = Field(default="", description="Source kind: book, registry, model-zoo, training or forum.")
    score: float = Field(default=0.0, description="Fused relevance score (higher is better).")
    text: str = Field(default="", description="The passage text (without its breadcrumb line).")
    resource_uri: str = Field(default="", description="MCP resource that returns this passage.")


class SearchOutput(BaseModel):
    """Result of ``search``."""

    query: str
    kinds: list[str] = Field(default_factory=list, description="Source kinds searched (empty = all).")
    results: list[Passage] = Field(default_factory=list)


class CitationOut(BaseModel):
    """One numbered reference of an answer."""

    n: int = Field(description="Number used in the answer text: [n].")
    key: str
    title: str = ""
    section: str = ""
    url: str = ""
    source: str = ""
    resource_uri: str = ""
    part: int = Field(default=0, description="Which passage of the same section, when an answer cites several.")


class AskOutput(BaseModel):
    """Result of ``ask``: the grounded answer, its references and the hallucination-check report."""

    question: str
    answer: str = Field(description="Markdown answer with numbered citations [1], [2] ...")
    abstained: bool = Field(description="True when the sources do not support an answer.")
    abstain_reason: str = ""
    citations: list[CitationOut] = Field(default_factory=list)
    closest_sources: list[CitationOut] = Field(default_factory=list,
                                               description="When abstaining: the nearest passages found.")
    checks: CheckReport = Field(description="Invalid citations, supported fraction, unknown names, ...")
    check_summary: str = Field(default="", description="The check report in one line.")
    backend: str = ""
    mode: str = ""


class ToolsOutput(BaseModel):
    """Result of ``recommend_tools``: registry-checked tools and Model Zoo models."""

    query: str
    message: str = ""
    nothing_fits: bool = False
    results: list[ToolResult] = Field(default_factory=list)
    nearest: list[ToolResult] = Field(default_factory=list,
                                      description="When nothing fits: the nearest entries (may not fit).")


class RunOutput(BaseModel):
    """Result of ``run_code``: what the sandboxed run printed, raised and wrote."""

    ok: bool = Field(description="True when the code ran to the end.")
    stdout: str = ""
    stderr: str = ""
    error: str | None = None
    traceback: str | None = None
    figures: list[str] = Field(default_factory=list, description="PNG files of the figures (server paths).")
    files: list[str] = Field(default_factory=list, description="Files the code wrote, copied out.")
    duration_s: float = 0.0
    limit_hit: LimitName | None = None
    violation: str | None = Field(default=None, description="What the sandbox refused, if anything.")
    isolation: list[str] = Field(default_factory=list, description="Sandbox layers active for this run.")
    inputs: list[str] = Field(default_factory=list, description="Input file names in the working folder.")


#: ``answered``: ran and printed every quantity the plan promised; ``not_answered``: ran (or tried) but did
#: not; ``declined``: the request cannot be answered as asked (nothing ran); ``not_run``: code shown, not run.
AnalysisStatus = Literal["answered", "not_answered", "declined", "not_run"]


class AnalysisOutput(BaseModel):
    """Result of ``analyse_image``: the code assistant's plan and code for an image, run when asked."""

    request: str
    code: str = Field(description="The Python code (reads the image from IMAGE_PATH); the code a run would run.")
    checks: CodeCheckReport | None = Field(default=None, description="Static checks of the code.")
    ran: bool = Field(description="Whether the code was run in the sandbox.")
    ok: bool = Field(description="True only when the code ran and printed every quantity the plan promised "
                                 "(never when nothing ran).")
    status: AnalysisStatus = Field(default="not_run", description="answered, not_answered, declined or not_run.")
    declined: bool = Field(default=False, description="The request cannot be answered as asked (see problems).")
    plan_text: str | None = Field(default=None, description="The plan as a checklist.")
    answer: list[str] = Field(default_factory=list, description="Promised quantities found, with units.")
    problems: list[str] = Field(default_factory=list, description="Promises not kept / why not answered.")
    values: dict[str, dict] = Field(default_factory=dict, description="Summary numbers {name: {value, unit}}.")
    stdout: str = ""
    error: str | None = None
    figures: list[str] = Field(default_factory=list)
    recipe: str | None = Field(default=None, description="The tested recipe the code comes from, if any.")
    isolation: list[str] = Field(default_factory=list, description="Sandbox layers active for the run.")
    image: dict[str, Any] = Field(default_factory=dict, description="Shape, dtype, axes, intensity range.")
    notes: list[str] = Field(default_factory=list)


class ForumOutput(BaseModel):
    """Result of ``forum_search``: image.sc topics as citable passages, or why the forum was not used."""

    query: str
    reachable: bool
    message: str = ""
    results: list[Passage] = Field(default_factory=list)
