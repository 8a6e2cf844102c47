"""One wording of what the render phase did, shared by ``infra-audit inventory`` and the report's gaps."""

from __future__ import annotations

from collections import Counter

from tools.inventory.models import HelmRender

CAUSES = {
    "chart_missing": "chart not in the cache (`infra-audit charts import`, or `--fetch-charts`)",
    "engine": "the Helm engine is not available on this platform",
    "chart_error": "the chart did not load or render",
    "unresolved": "the release's chart could not be resolved from the estate",
}


def render_line(renders: list[HelmRender]) -> str | None:
    """``rendered: N releases, M objects; not rendered: K (reasons)``, or None without releases."""
    if not renders:
        return None
    done = [r for r in renders if r.rendered]
    missed = Counter(CAUSES.get(r.cause or "", "other") for r in renders if not r.rendered)
    objects = sum(r.objects for r in done)
    line = f"rendered: {len(done)} releases, {objects} objects; not rendered: {len(renders) - len(done)}"
    if missed:
        line += " (" + "; ".join(f"{n}: {why}" for why, n in sorted(missed.items())) + ")"
    return line


def gap_lines(renders: list[HelmRender], cap: int = 10) -> list[str]:
    """One gap per cause: ``N of M Helm releases not rendered: <cause>: name (path:line), ...``."""
    lines = []
    for cause, why in CAUSES.items():
        missed = [r for r in renders if not r.rendered and r.cause == cause]
        if not missed:
            continue
        named = ", ".join(f"{r.namespace}/{r.name} ({r.source})" for r in missed[:cap])
        more = f", and {len(missed) - cap} more" if len(missed) > cap else ""
        lines.append(
            f"{len(missed)} of {len(renders)} Helm releases not rendered: {why}: {named}{more}; the checks "
            "that read containers (probes, images, resources, security contexts) exclude their workloads"
        )
    skipped = [r for r in renders if r.schema_skipped]
    if skipped:
        lines.append(
            f"{len(skipped)} Helm releases rendered without values-schema validation "
            "(their charts' schemas are not checked offline)"
        )
    return lines
