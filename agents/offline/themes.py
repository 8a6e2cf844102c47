"""Cross-cutting themes the offline synthesizer can name: key (as used in catalog.yaml) to title and hook.

A theme is reported only when the findings that survive the challenge hit at least two concerns.
"""

from __future__ import annotations

THEMES: dict[str, tuple[str, str]] = {
    "declarative-escape-hatches": (
        "Declarative escape hatches",
        "Provisioners, runbook steps and hand-made objects change the estate outside plan and git: "
        "no drift detection, and the next apply or rebuild does something else.",
    ),
    "observability-blind-spots": (
        "Observability has blind spots where the pain comes from",
        "Alerts exist, but not for the failure modes that actually hurt (OOM kills, unschedulable pods, "
        "full volumes, failing jobs), and some rules are never applied.",
    ),
    "supply-chain": (
        "Supply-chain hygiene: pinning, updates, verification",
        "Moving tags and unpinned charts, no dependency bot and no image verification: one theme that "
        "unifies security posture, maintenance toil and reproducibility.",
    ),
    "uneven-reliability": (
        "Probes, replicas and graceful shutdown are uneven",
        "Many workloads lack health probes, run one replica pinned by storage or Recreate, and stop "
        "without a grace period: the quiet, largest reliability debt.",
    ),
    "backup-coverage": (
        "Backup coverage is uneven and restores are untested",
        "Some volumes have no backup job, backup jobs fail unnoticed, and no restore has been rehearsed.",
    ),
    "admission-and-isolation": (
        "Admission and isolation are advisory only",
        "No NetworkPolicies, no Pod Security labels and policies in Audit: nothing stops a bad pod "
        "spec or lateral movement.",
    ),
}
