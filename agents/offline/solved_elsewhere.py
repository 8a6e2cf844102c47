"""Findings already solved elsewhere in the estate, by a mechanism the check itself does not read.

A detection looks for one way of doing a thing (a NetworkPolicy per namespace, an explicit alert
rule, a backup CronJob per volume). Estates often solve the same problem another way; when they do,
the intent challenger takes the finding (or the covered subjects) out and cites where the solution
lives. Each resolver is specific and conservative: it only claims what the other mechanism is known
to do.

* REL-ALERT-GAPS: kube-prometheus-stack ships default rules unless ``defaultRules.create: false``;
  its ``kubernetesApps`` group alerts on failed Jobs (KubeJobFailed) and ``kubernetesStorage`` on
  filling volumes (KubePersistentVolumeFillingUp), so those two categories are covered.
* SEC-NO-PSS: an API-server ``PodSecurityConfiguration`` whose defaults enforce baseline or
  restricted covers every namespace without a label (explicitly privileged ones stay).
* SEC-NO-NETPOL: a cluster-wide policy (CiliumClusterwideNetworkPolicy, Calico
  GlobalNetworkPolicy) means per-namespace NetworkPolicies are not the only isolation: reframed,
  since whether it covers these namespaces needs a reading of the policy.
* REL-PVC-NO-BACKUP: a Longhorn RecurringJob with task backup in the ``default`` group backs up
  every Longhorn volume.
* SCA-NO-QUOTA, SCA-NO-REQUESTS, SCA-NO-MEM-LIMIT: a LimitRange generated into namespaces by a
  Kyverno policy (``generated_defaults.py``).
* DEC-IMPERATIVE-DOCS: steps that all sit under a Markdown heading naming a bootstrap (``## Bootstrap
  (once)``, "one-time setup", "day 0") are the install GitOps cannot do for itself: reframed, still
  counted.
"""

from __future__ import annotations

import re
from typing import Any

from agents.offline.decisions import HEADING
from agents.offline.generated_defaults import generated_limit_ranges
from agents.offline.solution import AGENT, Resolver, Solution, search, yaml_docs
from domain.errors import SandboxViolation
from domain.findings import RawFinding
from tools.checks.detections.secret_values import fenced_lines
from tools.inventory.inventory import Inventory
from tools.registry import Toolbox


def kube_prometheus_defaults(finding: RawFinding, inventory: Inventory, toolbox: Toolbox) -> Solution | None:
    releases = [r for r in inventory.code.helm_releases if r.chart and "kube-prometheus-stack" in r.chart]
    if not releases:
        return None
    evidence, hits = search(toolbox, r"^defaultRules:", "*.{yaml,yml}")
    settings: dict[str, Any] = {}
    where = str(releases[0].source)
    for hit in hits:
        for doc in yaml_docs(toolbox, str(hit["path"])):
            if isinstance(doc, dict) and isinstance(doc.get("defaultRules"), dict):
                settings = doc["defaultRules"]
                where = f"{hit['path']}:{hit['line']}"
    if settings.get("create") is False:
        return None
    rules = settings.get("rules")
    groups: dict[str, Any] = rules if isinstance(rules, dict) else {}
    covered = []
    if groups.get("kubernetesApps", True) is not False:
        covered.append("alert-category/cronjob-failure")
    if groups.get("kubernetesStorage", True) is not False:
        covered.append("alert-category/pvc-capacity")
    return Solution(
        where=where,
        reason="kube-prometheus-stack default rules are on (KubeJobFailed in kubernetesApps, "
        "KubePersistentVolumeFillingUp in kubernetesStorage)",
        evidence=[evidence.id],
        subjects=covered,
    )


def pod_security_defaults(finding: RawFinding, inventory: Inventory, toolbox: Toolbox) -> Solution | None:
    evidence, hits = search(toolbox, r"kind:\s*PodSecurityConfiguration")
    for hit in hits:
        for doc in yaml_docs(toolbox, str(hit["path"])):
            for config in _pod_security_configs(doc):
                enforce = (config.get("defaults") or {}).get("enforce")
                if enforce in ("baseline", "restricted"):
                    missing = [
                        loc.subject for loc in finding.locations if (loc.detail or "").startswith("missing")
                    ]
                    return Solution(
                        where=f"{hit['path']}:{hit['line']}",
                        reason=f"the API server enforces Pod Security '{enforce}' by default for namespaces "
                        "without a label",
                        evidence=[evidence.id],
                        subjects=missing,
                    )
    return None


def _pod_security_configs(doc: Any) -> list[dict[str, Any]]:
    """PodSecurityConfiguration objects, alone or inside an AdmissionConfiguration's plugins."""
    if not isinstance(doc, dict):
        return []
    if doc.get("kind") == "PodSecurityConfiguration":
        return [doc]
    found = []
    for plugin in doc.get("plugins") or []:
        config = plugin.get("configuration") if isinstance(plugin, dict) else None
        if isinstance(config, dict) and config.get("kind") == "PodSecurityConfiguration":
            found.append(config)
    return found


def cluster_wide_network_policy(
    finding: RawFinding, inventory: Inventory, toolbox: Toolbox
) -> Solution | None:
    evidence, hits = search(toolbox, r"kind:\s*(CiliumClusterwideNetworkPolicy|GlobalNetworkPolicy)\b")
    if not hits:
        return None
    first = hits[0]
    where = f"{first['path']}:{first['line']}"
    return Solution(
        where=where,
        reason="a cluster-wide network policy exists",
        evidence=[evidence.id],
        reframe=f"Isolation is (also) defined cluster-wide at {where}: check that it default-denies these "
        "namespaces before adding per-namespace NetworkPolicies.",
    )


def longhorn_recurring_backup(finding: RawFinding, inventory: Inventory, toolbox: Toolbox) -> Solution | None:
    evidence, hits = search(toolbox, r"kind:\s*RecurringJob\b")
    for hit in hits:
        for doc in yaml_docs(toolbox, str(hit["path"])):
            spec = doc.get("spec") if isinstance(doc, dict) and doc.get("kind") == "RecurringJob" else None
            if (
                isinstance(spec, dict)
                and spec.get("task") == "backup"
                and "default" in (spec.get("groups") or [])
            ):
                classes = {(p.namespace, p.name): p.storage_class for p in inventory.code.pvcs}
                if inventory.live:
                    classes.update({(p.namespace, p.name): p.storage_class for p in inventory.live.pvcs})
                covered = []
                for loc in finding.locations:
                    _, ns, name = [*loc.subject.split("/"), "", ""][:3]
                    if "longhorn" in (classes.get((ns, name)) or ""):
                        covered.append(loc.subject)
                return Solution(
                    where=f"{hit['path']}:{hit['line']}",
                    reason="a Longhorn RecurringJob backs up every volume in the default group",
                    evidence=[evidence.id],
                    subjects=covered,
                )
    return None


BOOTSTRAP_HEADING = re.compile(
    r"\b(bootstrap(ping)?|one[- ]time|first[- ]time|initial (setup|install(ation)?)|day[- ]?(0|zero))\b", re.I
)
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_COMMENT_OPEN, _COMMENT_CLOSE = "<!--", "-->"


def bootstrap_steps(finding: RawFinding, inventory: Inventory, toolbox: Toolbox) -> Solution | None:
    """Every step of the finding under one heading (the nearest above it) that names a bootstrap: the
    one-time install of the controller itself, which no GitOps can do before it runs."""
    sections = set()
    for loc in finding.locations:
        path, _, number = loc.ref.rpartition(":")
        if not path.endswith((".md", ".markdown")) or not number.isdigit():
            return None  # a script's step, or no line: not a section of a document
        section = _bootstrap_section(_headings(toolbox, path), int(number))
        if section is None:
            return None  # a step outside any bootstrap section: the finding stands as it is
        sections.add((path, *section))
    if len(sections) != 1:
        return None  # no step, or steps in several sections: not one bootstrap to name
    [(path, line, title)] = sections
    evidence = toolbox.call("repo_read", {"path": path, "start": line, "end": line}, agent=AGENT)
    where = f"{path}:{line}"
    return Solution(
        where=where,
        reason="documented as a one-time bootstrap",
        evidence=[evidence.id],
        reframe=f"These are the one-time bootstrap under '{title}' ({where}): the install GitOps cannot "
        "do for itself. Keep them few, pinned and scripted, so that a rebuild repeats them exactly.",
    )


def _headings(toolbox: Toolbox, path: str) -> list[tuple[int, str]]:
    """The Markdown headings of ``path`` as (line, title): ``#`` headings and underlined (setext) ones,
    none inside fenced code (a shell comment is not a heading) or an HTML comment."""
    try:
        text = toolbox.jail.read_text(path)
    except (SandboxViolation, OSError):
        return []
    lines = text.splitlines()
    hidden = fenced_lines(text) | _html_comment_lines(lines)
    found = []
    for number, raw in enumerate(lines, 1):
        if number in hidden:
            continue
        if (heading := HEADING.match(raw)) is not None:
            found.append((number, heading[1]))
        elif _SETEXT.match(raw) and number > 1 and number - 1 not in hidden:
            above = lines[number - 2]
            if above.strip() and HEADING.match(above) is None and not _SETEXT.match(above):
                found.append((number - 1, above.strip()))
    return found


def _html_comment_lines(lines: list[str]) -> set[int]:
    """1-based numbers of the lines an HTML comment (``<!-- ... -->``) spans, in whole or in part."""
    inside, hidden = False, set()
    for number, raw in enumerate(lines, 1):
        if not inside and _COMMENT_OPEN not in raw:
            continue
        hidden.add(number)
        tail = raw.rsplit(_COMMENT_OPEN, 1)[-1] if _COMMENT_OPEN in raw else raw
        inside = _COMMENT_CLOSE not in tail
    return hidden


def _bootstrap_section(headings: list[tuple[int, str]], line: int) -> tuple[int, str] | None:
    """The nearest heading above ``line``, as (its line, its title), if it names a bootstrap."""
    above = [(at, title) for at, title in headings if at < line]
    if not above:
        return None
    at, title = max(above)
    return (at, title) if BOOTSTRAP_HEADING.search(title) else None


RESOLVERS: dict[str, Resolver] = {
    "REL-ALERT-GAPS": kube_prometheus_defaults,
    "SEC-NO-PSS": pod_security_defaults,
    "SEC-NO-NETPOL": cluster_wide_network_policy,
    "REL-PVC-NO-BACKUP": longhorn_recurring_backup,
    "SCA-NO-QUOTA": generated_limit_ranges,
    "SCA-NO-REQUESTS": generated_limit_ranges,
    "SCA-NO-MEM-LIMIT": generated_limit_ranges,
    "DEC-IMPERATIVE-DOCS": bootstrap_steps,
}


def solved_elsewhere(finding: RawFinding, inventory: Inventory, toolbox: Toolbox) -> Solution | None:
    resolver = RESOLVERS.get(finding.check or "")
    if resolver is None:
        return None
    solution = resolver(finding, inventory, toolbox)
    if solution is None or not (solution.subjects or solution.reframe):
        return None
    return solution
