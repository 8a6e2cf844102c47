"""Where alert rules are deployed from: the wiring of rule files, and rules written in chart templates.

A rule is *wired* when something that is itself deployed applies it:

* a kustomization that references its file and is deployed: the path of a Flux Kustomization or an
  Argo CD Application, or a kustomization such a one includes (through ``resources``, any depth). An
  estate with neither Flux Kustomizations nor Argo CD Applications is applied some other way (by hand,
  by CI), so there every kustomization counts as deployed;
* a Flux Kustomization whose path holds no kustomization file applies every manifest under it;
* a chart: rule files inside a chart directory (``rules/``, ``files/``) and rules in its templates are
  loaded by the chart (``.Files.Glob``, ``include``), never by Kustomize.

Rules in Go templates (``.tpl`` files and templated YAML under a chart's ``templates/``) are read by
lines, since the file is not YAML: each ``alert:`` line is a rule, its ``expr:`` the text after it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from tools.inventory.inventory import Records
from tools.inventory.models import AlertRule, CodeRef

_ALERT = re.compile(r"""^(\s*)(?:-\s*)?alert:\s*["']?([A-Za-z_][\w:-]*)""")
_EXPR = re.compile(r"^(\s*)(?:-\s*)?expr:\s*[|>]?[-+]?\s*(.*)$")

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
Exists = Callable[[str, bool], "bool | None"]
Local = Callable[[str], "str | None"]


def rules_from_template(path: str, text: str) -> list[AlertRule]:
    """Alerting rules in a Go template, one per ``alert:`` line, with the ``expr`` that follows it."""
    lines = text.splitlines()
    rules: list[AlertRule] = []
    for index, line in enumerate(lines):
        match = _ALERT.match(line)
        if match is None:
            continue
        expr = ""
        for follow in lines[index + 1 :]:
            if _ALERT.match(follow):
                break
            if (found := _EXPR.match(follow)) is not None:
                expr = found.group(2)
                break
        rules.append(AlertRule(alert=match.group(2), expr=expr, source=CodeRef(path=path, line=index + 1)))
    return rules


def deployed_kustomizations(records: Records, local: Local, exists: Exists) -> set[str] | None:
    """Directories of the kustomizations something deployed applies; None when the estate has no
    GitOps object that would say (then every kustomization is taken as applied)."""
    roots = [flux.path for flux in records.flux_kustomizations] + [app.path for app in records.argo_apps]
    if not roots:
        return None
    by_dir = {posixpath.dirname(k.path) or ".": k for k in records.kustomizations}
    stack = [d for root in roots if root and (d := local(root)) is not None and d in by_dir]
    seen: set[str] = set()
    while stack:
        directory = stack.pop()
        if directory in seen:
            continue
        seen.add(directory)
        base = "" if directory == "." else directory
        for entry in by_dir[directory].resources:
            target = local(posixpath.join(base, entry))
            if target is not None and target in by_dir and exists(target, False):
                stack.append(target)
    return seen


def wire(
    records: Records,
    wirable: list[AlertRule],
    referenced_by: dict[str, set[str]],
    local: Local,
    exists: Exists,
) -> None:
    """Mark ``wired = False`` on each rule of ``wirable`` that nothing deployed applies."""
    applied_dirs = [
        directory
        for flux in records.flux_kustomizations
        if (directory := local(flux.path or "")) is not None
        and exists(directory, False)
        and not any(exists(f"{directory}/{name}", True) for name in KUSTOMIZATION_NAMES)
    ]
    prefixes = tuple("" if d == "." else d + "/" for d in applied_dirs)
    deployed = deployed_kustomizations(records, local, exists)
    for rule in wirable:
        path = rule.source.path if isinstance(rule.source, CodeRef) else None
        if path is None or path.startswith(prefixes):
            continue
        owners = referenced_by.get(path, set())
        if not owners or (deployed is not None and not owners & deployed):
            rule.wired = False
