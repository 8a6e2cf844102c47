"""The vocabulary of an audit: concerns, findings, claims, verdicts, evidence, reports, errors, ranking.

It imports nothing of ours. ``tools/`` gathers evidence in these terms, ``agents/`` reasons in them,
``pipeline/`` wires and renders them.
"""
