"""The JSON Schema of ``audit.json``, generated from the pydantic models: the contract of ``rerun``,
``diff``, ``--baseline`` and any tool that reads the report.

It is kept in ``docs/audit.schema.json`` (``make schema`` writes it; a test fails when the models and
the file drift). It describes the document as written (serialization mode: the derived ``severity``,
``rule`` and ``occurrences`` of each finding are in it) and carries ``schema_version``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from domain.report import SCHEMA_VERSION, AuditReport

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "audit.schema.json"


def audit_schema() -> dict[str, Any]:
    schema = AuditReport.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "infra-audit audit.json",
        "description": f"schema_version {SCHEMA_VERSION}: the audit report as infra-audit writes it.",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def schema_text() -> str:
    return json.dumps(audit_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else SCHEMA_FILE
    target.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
