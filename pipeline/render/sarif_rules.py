"""The rules of ``audit.sarif``: text that is the same run to run, taken from the check catalog.

A rule is a check (or, for a finding no check produced, its stable ``LLM-<PREFIX>-<hash>`` rule). Its
short description is the catalog's title without its numbers ("Long-running workloads missing a
readiness or liveness probe"), its full description the rationale, its help the recommendation (text
and Markdown, with the command that reproduces it), and ``helpUri`` the check's entry in the project's
check reference (``docs/checks.md``). Security rules (a check whose concerns include security) carry
the ``security`` tag and a ``security-severity`` score, which is what GitHub code scanning reads to
show a severity instead of "error" for everything; every rule carries ``precision``.
"""

from __future__ import annotations

import re
from typing import Any

from domain.findings import Finding
from pipeline.render.text import concern_label

PROJECT_URL = "https://github.com/infra-audit/infra-audit"
"""The project's home (``informationUri``). Not reachable from where this project is built: set it to
where your copy is published."""
DOCS_URL = f"{PROJECT_URL}/blob/main/docs/checks.md"
"""The check reference (``docs/checks.md``, generated from the catalog); ``helpUri`` links to a check's
heading in it."""

SECURITY_SEVERITY = {5: "9.5", 4: "8.0", 3: "5.5", 2: "3.0", 1: "0.5"}
"""Impact -> GitHub's security-severity score: 9.0+ critical, 7.0+ high, 4.0+ medium, 0.1+ low."""
PROBLEM_SEVERITY = {5: "error", 4: "error", 3: "warning", 2: "recommendation", 1: "recommendation"}

_PLURAL = re.compile(r"\{count:[^|}]*\|([^}]*)\}")
_NUMBERED = re.compile(r"\s*\([^()]*\{[^}]*\}[^()]*\)")
_PLACEHOLDER = re.compile(r"\{[^}]*\}\s*")
_DIGITS = re.compile(r"\b\d+(\.\d+)?\b\s*(of\s+\d+\s*)?")

Json = dict[str, Any]


def level(impact: int) -> str:
    """SARIF level from impact: 5-4 error (outage or breach), 3 warning, 1-2 note."""
    if impact >= 4:
        return "error"
    return "warning" if impact == 3 else "note"


def stable_title(template: str) -> str:
    """A catalog title template without its numbers, plural: '{count} of {total} containers {count:has|
    have} no memory limit' -> 'Containers have no memory limit'."""
    text = _PLURAL.sub(r"\1", template)
    text = _NUMBERED.sub("", text)
    text = re.sub(r"^\{count\}\s+of\s+\{total\}\s+", "", text)
    text = _PLACEHOLDER.sub("", text).strip()
    return text[:1].upper() + text[1:]


def llm_title(title: str) -> str:
    """A model's finding title without its numbers (its rule id hashes the same words)."""
    text = _DIGITS.sub("", title).strip(" ;:,")
    return text[:1].upper() + text[1:] if text else title


def camel(rid: str) -> str:
    """``REL-NO-PROBES`` -> ``RelNoProbes``: SARIF wants a rule name that is an identifier."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rid) if part)


def rule(finding: Finding) -> Json:
    """The rule of ``finding``: stable text from the catalog, severity from the finding's impact."""
    from tools.checks.spec import load_catalog

    rid = finding.rule
    spec = next((s for s in load_catalog() if finding.checks and s.id == finding.checks[0]), None)
    reproduce = None
    if spec is not None:
        short, full, fix = stable_title(spec.title), spec.rationale, spec.recommendation
        concerns: tuple[str, ...] = spec.concerns
        reproduce = f"infra-audit check PATH {spec.id}"
    else:  # a model's own finding, or a check this version's catalog does not have
        short, full, fix = llm_title(finding.title), finding.summary, finding.recommendation
        concerns = tuple(finding.concerns)
    precision = "high" if finding.checks else "medium"
    security = "security" in concerns
    tags = (["security"] if security else []) + [concern_label(c) for c in concerns]
    markdown = f"**{short}**\n\n{full}\n\n**Fix:** {fix}"
    if reproduce:
        markdown += f"\n\nReproduce: `{reproduce}`"
    properties: Json = {
        "tags": tags,
        "precision": precision,
        "problem.severity": PROBLEM_SEVERITY[finding.impact],
        "concerns": list(concerns),
    }
    if security:
        properties["security-severity"] = SECURITY_SEVERITY[finding.impact]
    return {
        "id": rid,
        "name": camel(rid),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": fix, "markdown": markdown},
        "helpUri": f"{DOCS_URL}#{rid.lower()}",
        "defaultConfiguration": {"level": level(finding.impact)},
        "properties": properties,
    }
