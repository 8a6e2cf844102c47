"""The published schema of audit.json: generated from the models, committed, and never drifting."""

from __future__ import annotations

import json

import pytest
from estates import REPO

from domain.identity import SEVERITY_NAMES
from domain.report import SCHEMA_VERSION, AuditReport
from pipeline.render.schema import SCHEMA_FILE, schema_text

pytestmark = pytest.mark.unit


def test_the_committed_schema_is_the_models_schema() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == schema_text(), "docs/audit.schema.json drifted from the models: run `make schema`"


def test_the_committed_check_reference_is_the_catalogs() -> None:
    from pipeline.render.checks_doc import CHECKS_FILE, checks_text
    from tools.checks.spec import load_catalog

    text = CHECKS_FILE.read_text(encoding="utf-8")
    assert text == checks_text(), "docs/checks.md drifted from the catalog: run `make schema`"
    assert all(f"\n## {spec.id}\n" in text for spec in load_catalog())  # every helpUri anchor exists


def test_the_schema_names_its_version_and_the_ci_fields() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["properties"]["schema_version"]["default"] == SCHEMA_VERSION
    finding = schema["$defs"]["Finding"]
    assert {"severity", "rule", "occurrences", "new", "locations"} <= set(finding["properties"])
    assert {"severity", "rule", "occurrences"} <= set(finding["required"])  # always written
    assert set(schema["$defs"]["Severity"]["enum"]) == set(SEVERITY_NAMES)
    assert {"baseline", "suppressions"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_a_written_report_has_exactly_the_schemas_fields(tmp_path: object) -> None:
    kept = AuditReport.model_validate_json((REPO / "reports/homelab/audit.json").read_text(encoding="utf-8"))
    data = json.loads(kept.model_dump_json())
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert data["schema_version"] == SCHEMA_VERSION
    assert set(data) == set(schema["properties"])
    finding_props = set(schema["$defs"]["Finding"]["properties"])
    assert all(set(f) == finding_props for f in data["findings"])
