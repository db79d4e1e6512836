"""Writing analysis code without running it (for clients that run it later, or not at all).

It follows the code assistant's strategy (:mod:`scopebot.code.assistant`): a small model answers
with the best-matching tested recipe; a capable model writes the code from the request, the
retrieved documentation and the closest recipe as an example. The code is statically checked
(:func:`scopebot.code.checks.check_code`); generated code that fails the checks is replaced by the
recipe when one matches. Running it is the caller's separate, explicit step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scopebot.errors import ConfigurationError

if TYPE_CHECKING:
    from scopebot.code.checks import CodeCheckReport
    from scopebot.index.protocols import Retriever
    from scopebot.llm.base import ChatModel


@dataclass
class Draft:
    """Code for a request, its static checks, and where it came from."""

    code: str
    checks: CodeCheckReport
    recipe: str | None = None
    notes: list[str] = field(default_factory=list)


def _context(retriever: Retriever | None, request: str) -> str:
    if retriever is None:
        return "(none)"
    hits = retriever.search(request, k=3)
    return "\n\n".join(f"[{h.chunk.key}] {h.chunk.breadcrumb}\n{h.chunk.body[:600]}" for h in hits) or "(none)"


def draft_code(request: str, model: ChatModel | None, *, retriever: Retriever | None = None,
               prompts_dir: Path | None = None, max_tokens: int = 700) -> Draft:
    """Code for ``request`` that reads its image from ``IMAGE_PATH``; never runs it."""
    from scopebot.code.assistant import extract_code, load_prompt
    from scopebot.code.checks import check_code
    from scopebot.code.library import RecipeLibrary
    from scopebot.llm.base import Message

    if not request.strip():
        raise ConfigurationError("empty request", hint="describe the analysis you want")
    recipes = RecipeLibrary()
    recipe = recipes.best(request)
    if model is None or model.is_small:
        if recipe is None:
            raise ConfigurationError(
                "no tested recipe matches this request, and the configured chat model is too small to write "
                "code", hint="rephrase it (e.g. 'count the nuclei', 'max projection', 'denoise') or configure "
                             "a larger model (SCOPEBOT_LLM_BASE_URL / SCOPEBOT_LLM_GGUF_PATH)")
        code = recipes.script(recipe.name)
        who = model.name if model is not None else "no model"
        return Draft(code=code, checks=check_code(code), recipe=recipe.name,
                     notes=[f"small model ({who}): the tested recipe '{recipe.name}'"])
    template = load_prompt("code_generate", prompts_dir)
    example = recipes.script(recipe.name) if recipe else "# (no close example)"
    prompt = template.render(request=request, context=_context(retriever, request), example=example)
    reply = model.complete([Message(role="user", content=prompt)], max_tokens=max_tokens)
    code = extract_code(reply.text)
    checks = check_code(code)
    blocking = [i for i in checks.issues if i.kind != "absolute_path"]
    if blocking and recipe is not None:
        fallback = recipes.script(recipe.name)
        return Draft(code=fallback, checks=check_code(fallback), recipe=recipe.name,
                     notes=[f"the model's code failed the static checks ({len(blocking)} problem(s)); "
                            f"this is the tested recipe '{recipe.name}' instead"])
    return Draft(code=code, checks=checks, notes=[f"written by {model.name}"])
