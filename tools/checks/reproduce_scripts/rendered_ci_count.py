"""Print ``ci_count.py``'s numbers, SEC-NO-IMAGE-VERIFY with the Helm releases rendered by ``helm template``.

The same rule as ``ci_count.py``, with the objects ``helm template`` renders for the releases the
estate's Flux and Argo CD objects declare (``helm_releases.py``) among those that can verify images
(a Kyverno policy, a sigstore ClusterImagePolicy a chart renders counts as one written in a file).
``--not-rendered=NS/NAME`` leaves out a release the audit could not render.

    python3 tools/checks/reproduce_scripts/rendered_ci_count.py ROOT SEC-NO-IMAGE-VERIFY \\
        [--not-rendered=NS/NAME ...] [SKIP_DIR ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from ci_count import CHECKS, charts, ci_runs, verifies
from helm_releases import rendered
from k8s_objects import objects

LEFT_OUT = "--not-rendered="


def no_image_verify(root: Path, skip: tuple[str, ...], left_out: set[str]) -> int:
    releases = set(charts(root, skip))
    found = objects(root, skip) + rendered(root, skip, left_out)
    verification = any(verifies(o) for o in found) or bool({"connaisseur", "ratify"} & releases)
    _, runs = ci_runs(root, skip)
    scanning = "scan" in runs or bool({"trivy-operator", "harbor"} & releases)
    return int(not verification) + int(not scanning)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in CHECKS:
        print(
            "usage: rendered_ci_count.py ROOT CHECK [--not-rendered=NS/NAME ...] [SKIP_DIR ...]; "
            f"CHECK one of {sorted(CHECKS)}",
            file=sys.stderr,
        )
        return 2
    left_out = {a.removeprefix(LEFT_OUT) for a in argv[2:] if a.startswith(LEFT_OUT)}
    skip = tuple(a for a in argv[2:] if not a.startswith(LEFT_OUT))
    root = Path(argv[0])
    # the CI files and what they validate are files as written: only image verification reads renders
    count = (
        no_image_verify(root, skip, left_out)
        if argv[1] == "SEC-NO-IMAGE-VERIFY"
        else CHECKS[argv[1]](root, skip)
    )
    print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
