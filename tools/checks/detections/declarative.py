"""Detections of the declarative concern (see catalog.yaml for the metadata).

Counting rules, one per check:

* DEC-PROVISIONERS: ``null_resource``/``terraform_data`` blocks with at least one provisioner; one
  location each. measures: ``provisioners`` (all of them), ``remote`` (remote-exec + file).
* DEC-TIMESTAMP-TRIGGER: those blocks whose triggers call ``timestamp()``; ref = the trigger's line.
* DEC-IGNORE-CHANGES: ``lifecycle.ignore_changes`` blocks; measures ``paths`` (distinct attribute
  paths as written, ``all`` counting as one) and ``unmarked`` (blocks without a marker comment).
* DEC-KUSTOMIZE-MISSING: references in ``kustomization.yaml`` files to local files that do not exist.
* DEC-FLUX-SUSPENDED / DEC-FLUX-NO-PRUNE: Flux Kustomizations with ``suspend: true`` /
  ``prune: false`` (unset prune is not counted), in code or live, one per namespace/name. ref = the
  ``suspend:`` / ``prune:`` line in code.

The checks that compare code with a cluster live in ``declarative_live.py``; the imperative steps
of docs and scripts in ``declarative_docs.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from domain.findings import Location
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.inventory import Inventory
from tools.inventory.models import CodeRef, EscapeHatch, FluxKustomization, LiveRef

AGENT = "declarative"
NO_TERRAFORM = "the estate has no Terraform"


def has_terraform(inventory: Inventory) -> bool:
    code = inventory.code
    return bool(code.resources or code.modules or code.providers or code.variables or code.backends)


# --------------------------------------------------------------------------- Terraform escape hatches


def _provisioner_detail(hatch: EscapeHatch) -> str:
    types = ", ".join(p.type for p in hatch.provisioners)
    hosts = sorted({p.connection_host for p in hatch.provisioners if p.connection_host})
    return types + (f" (host {', '.join(hosts)})" if hosts else "")


@detector("DEC-PROVISIONERS")
def provisioners(ctx: CheckContext) -> Detection:
    """Escape hatches with >= 1 provisioner; measures provisioners (total) and remote (remote-exec + file)."""
    if not has_terraform(ctx.inventory):
        return Detection(count=0, applicable=False, note=NO_TERRAFORM)
    hatches = [h for h in ctx.inventory.code.escape_hatches if h.provisioners]
    all_provisioners = [p for h in hatches for p in h.provisioners]
    return Detection(
        count=len(hatches),
        total=len(ctx.inventory.code.escape_hatches),
        locations=[
            Location(ref=str(h.source), subject=h.address, detail=_provisioner_detail(h)) for h in hatches
        ],
        measures={
            "provisioners": len(all_provisioners),
            "remote": sum(p.type in ("remote-exec", "file") for p in all_provisioners),
        },
    )


@detector("DEC-TIMESTAMP-TRIGGER")
def timestamp_trigger(ctx: CheckContext) -> Detection:
    """Escape hatches whose triggers call timestamp(), so they re-run on every apply."""
    if not has_terraform(ctx.inventory):
        return Detection(count=0, applicable=False, note=NO_TERRAFORM)
    hatches = [h for h in ctx.inventory.code.escape_hatches if h.timestamp_trigger]
    locations = []
    for hatch in hatches:
        keys = [k for k, expr in hatch.triggers.items() if "timestamp(" in expr]
        detail = "trigger " + ", ".join(keys) + " = timestamp()" if keys else "trigger = timestamp()"
        ref = f"{hatch.source.path}:{hatch.timestamp_line}" if hatch.timestamp_line else str(hatch.source)
        locations.append(Location(ref=ref, subject=hatch.address, detail=detail))
    return Detection(count=len(hatches), total=len(ctx.inventory.code.escape_hatches), locations=locations)


@detector("DEC-IGNORE-CHANGES")
def ignore_changes(ctx: CheckContext) -> Detection:
    """ignore_changes blocks; paths = distinct attribute paths (``all`` is one), unmarked = no marker."""
    if not has_terraform(ctx.inventory):
        return Detection(count=0, applicable=False, note=NO_TERRAFORM)
    blocks = ctx.inventory.code.ignore_changes
    paths = {" ".join(p.split()) for block in blocks for p in block.paths}
    locations = [
        Location(
            ref=str(block.source),
            subject=block.address,
            detail=", ".join(block.paths) + (f" [{block.marker}]" if block.marker else " (no marker)"),
        )
        for block in blocks
    ]
    return Detection(
        count=len(blocks),
        locations=locations,
        measures={"paths": len(paths), "unmarked": sum(block.marker is None for block in blocks)},
    )


# ------------------------------------------------------------------------------------- Kustomize


@detector("DEC-KUSTOMIZE-MISSING")
def kustomize_missing(ctx: CheckContext) -> Detection:
    """Sum of Kustomization.missing: one location per missing local reference, at the line that lists it
    (found with one repo_search per kustomization with missing entries; the file's line otherwise).
    total = references checked (resources/bases/components entries, plus other missing ones)."""
    kustomizations = ctx.inventory.code.kustomizations
    if not kustomizations:
        return Detection(count=0, applicable=False, note="no kustomization.yaml in the estate")
    locations: list[Location] = []
    evidence: list[str] = []
    for k in kustomizations:
        if not k.missing:
            continue
        entries = "|".join(re.escape(m) for m in k.missing)
        ev = ctx.toolbox.call(
            "repo_search", {"pattern": rf"^\s*-?\s*(?:path:\s*)?[\"']?(?:{entries})[\"']?\s*(?:#.*)?$",
                            "path": k.path}, agent=AGENT,
        )  # fmt: skip
        evidence.append(ev.id)
        data = ctx.toolbox.ledger.data(ev.id)
        lines: dict[str, int] = {}
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict) and isinstance(item.get("line"), int):
                text = str(item.get("text", ""))
                for missing in k.missing:
                    if missing in text:
                        lines.setdefault(missing, item["line"])
        for missing in k.missing:
            ref = f"{k.path}:{lines[missing]}" if missing in lines else str(k.source)
            locations.append(
                Location(ref=ref, subject=missing, detail=f"listed in {k.path}, not in the estate")
            )
    total = sum(
        len(k.resources) + len([m for m in k.missing if m not in k.resources]) for k in kustomizations
    )
    return Detection(count=len(locations), total=total, locations=locations, evidence=evidence)


# ------------------------------------------------------------------------------------------ Flux


def _flux_groups(inventory: Inventory) -> list[list[FluxKustomization]]:
    """Flux Kustomizations grouped by identity: code first, a live one joins a code one on ns/name
    (or on name alone when the code leaves the namespace to an overlay)."""
    groups: list[list[FluxKustomization]] = []
    first: dict[tuple[str | None, str | None], int] = {}  # (name, namespace) -> its first group

    def start(k: FluxKustomization) -> None:
        first.setdefault((k.name, k.namespace), len(groups))
        groups.append([k])

    for k in inventory.code.flux_kustomizations:
        start(k)
    for live in inventory.live.flux_kustomizations if inventory.live is not None else []:
        found = [first[key] for key in ((live.name, live.namespace), (live.name, None)) if key in first]
        if found:
            groups[min(found)].append(live)
        else:
            start(live)
    return groups


def _flux_check(
    ctx: CheckContext, flagged: Callable[[FluxKustomization], bool], what: str, field: str
) -> Detection:
    groups = _flux_groups(ctx.inventory)
    if not groups:
        return Detection(count=0, applicable=False, note="no Flux Kustomizations in the estate or cluster")
    locations = []
    for group in groups:
        code = [k for k in group if isinstance(k.source, CodeRef) and flagged(k)]
        live = [k for k in group if isinstance(k.source, LiveRef) and flagged(k)]
        if not code and not live:
            continue
        first = (code or live)[0]
        has_code = any(isinstance(k.source, CodeRef) for k in group)
        has_live = any(isinstance(k.source, LiveRef) for k in group)
        if code and live:
            where = "in code and live"
        elif code:
            where = "in code, not live" if has_live else "in code"
        else:
            where = "live only, not in code" if has_code else "live, no code defines it"
        ref = str(first.source)
        if isinstance(first.source, CodeRef) and field in first.lines:
            ref = f"{first.source.path}:{first.lines[field]}"
        locations.append(
            Location(
                ref=ref,
                subject=f"Kustomization/{first.namespace or '-'}/{first.name or '?'}",
                detail=f"{what} {where}" + (f"; path {first.path}" if first.path else ""),
            )
        )
    return Detection(count=len(locations), total=len(groups), locations=locations)


@detector("DEC-FLUX-SUSPENDED")
def flux_suspended(ctx: CheckContext) -> Detection:
    """Flux Kustomizations with suspend: true in code or live, counted once per namespace/name."""
    return _flux_check(ctx, lambda k: k.suspend, "suspended", "suspend")


@detector("DEC-FLUX-NO-PRUNE")
def flux_no_prune(ctx: CheckContext) -> Detection:
    """Flux Kustomizations with prune: false in code or live, counted once per namespace/name."""
    return _flux_check(ctx, lambda k: k.prune is False, "prune: false", "prune")
