"""Evaluation suites: datasets in evals/datasets, one runner, reports."""
