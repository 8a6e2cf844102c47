"""SEC-DEFAULT-CREDENTIALS: a chart's documented default password left in the values that deploy it.

Counting rule: the ``password assignment`` candidates of ``secret_scan.py`` (the same searches as
SEC-PLAINTEXT-SECRET, answered from the ledger when both run) whose every value is a known chart
default (``secret_scan.CHART_DEFAULTS``: ``admin``, ``prom-operator``, ``minioadmin``, ``guest``,
``Harbor12345``...) and whose file is Helm values or hands values to a chart (``values*.yaml``, a
``HelmRelease``, a ``helm_release``, an Argo ``helm:`` source). One location per line; the subject is
the file's name; the value is never shown. Such a line is not also a plaintext secret: the fix is to
set a real password (from a Secret), not to rotate a leaked one. Not counted: the same words outside
chart values (a plaintext secret, or a placeholder), commented-out lines, example files.
"""

from __future__ import annotations

import posixpath

from domain.findings import Location
from tools.checks.detections.repo_evidence import problems
from tools.checks.detections.secret_scan import scan
from tools.checks.spec import CheckContext, Detection, detector


@detector("SEC-DEFAULT-CREDENTIALS")
def default_credentials(ctx: CheckContext) -> Detection:
    """Documented default passwords of charts (admin, prom-operator, minioadmin...) in Helm values or
    in what hands values to a chart; one location per line, never the value."""
    found = scan(ctx)
    locations = [
        Location(
            ref=c.hit.ref,
            subject=posixpath.basename(c.hit.path),
            detail="a chart's documented default password, left in its values",
        )
        for c in sorted(found.candidates, key=lambda c: (c.hit.path, c.hit.line))
        if c.default
    ]
    return Detection(
        count=len(locations), locations=locations, evidence=found.evidence, note=problems(*found.searches)
    )
