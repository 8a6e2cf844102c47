"""``docs/checks.md``: the check reference, generated from the catalog; SARIF's ``helpUri`` of a rule
links to its heading (``#rel-probe-any``). ``make schema`` writes it with the schema; a test fails when
the catalog and the file drift."""

from __future__ import annotations

import sys
from pathlib import Path

from domain.identity import severity_of
from pipeline.render.sarif_rules import stable_title
from pipeline.render.text import concern_label

CHECKS_FILE = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def checks_text() -> str:
    from tools.checks.spec import load_catalog

    lines = [
        "# Check reference",
        "",
        "Generated from `tools/checks/catalog.yaml` (`make schema`); do not edit by hand. Each check's",
        "severity is its default impact's (a challenger or a model may change a finding's impact).",
    ]
    for spec in sorted(load_catalog(), key=lambda s: s.id):
        lines += [
            "",
            f"## {spec.id}",
            "",
            f"**{stable_title(spec.title)}**",
            "",
            f"- Concerns: {', '.join(concern_label(c) for c in spec.concerns)}",
            f"- Default severity: {severity_of(spec.impact)} (impact {spec.impact}, effort {spec.effort}, "
            f"risk {spec.risk})",
            f"- Reproduce: `infra-audit check PATH {spec.id}`",
            "",
            " ".join(spec.rationale.split()),
            "",
            f"**Fix:** {' '.join(spec.recommendation.split())}",
        ]
        if spec.dangerous:
            lines += ["", f"**Careful:** {' '.join(spec.dangerous.split())}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else CHECKS_FILE
    target.write_text(checks_text(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
