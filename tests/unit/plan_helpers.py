"""Shared by the planner tests."""

from __future__ import annotations

from scopebot.code.plan import AnalysisPlan


def plan_core(plan: AnalysisPlan) -> dict:
    """The plan without its explanation lists: what runs and what is promised."""
    data = plan.model_dump()
    data.pop("understood"), data.pop("not_understood"), data.pop("not_used")
    return data
