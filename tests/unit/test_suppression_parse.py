"""Parsing inline suppressions in every comment syntax the catalog reads, and refusing bad ones."""

from __future__ import annotations

from datetime import date

import pytest

from agents.offline.suppressions import _target, parse
from domain.errors import SuppressionError

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    "line",
    [
        '# infra-audit:ignore SEC-X reason="why" until=2027-01-01',
        '  image: x  # infra-audit:ignore SEC-X reason="why" until=2027-01-01',
        '// infra-audit:ignore SEC-X reason="why" until=2027-01-01',
        '/* infra-audit:ignore SEC-X reason="why" until=2027-01-01 */',
        '<!-- infra-audit:ignore SEC-X reason="why" until=2027-01-01 -->',
        '{{/* infra-audit:ignore SEC-X reason="why" until=2027-01-01 */}}',
        '{{- /* infra-audit:ignore SEC-X reason="why" until=2027-01-01 */ -}}',
    ],
)
def test_every_comment_syntax(line: str) -> None:
    found = parse(line, "f:1", TODAY)
    assert found is not None
    assert (found.check, found.reason, found.until, found.state) == (
        "SEC-X",
        "why",
        date(2027, 1, 1),
        "unmatched",
    )


def test_not_in_a_comment_or_expired() -> None:
    assert parse('message = "infra-audit:ignore SEC-X reason=\\"x\\""', "f:1", TODAY) is None
    expired = parse('# infra-audit:ignore SEC-X reason="old" until=2026-01-01', "f:1", TODAY)
    assert expired is not None and expired.state == "expired"


@pytest.mark.parametrize(
    "line",
    [
        "# infra-audit:ignore SEC-X",
        '# infra-audit:ignore SEC-X reason=""',
        "# infra-audit:ignore SEC-X reason=x",
    ],
)
def test_no_reason_is_refused_with_where_it_is(line: str) -> None:
    with pytest.raises(SuppressionError) as err:
        parse(line, "stacks/a.tf:7", TODAY)
    assert str(err.value).startswith('stacks/a.tf:7: "infra-audit:ignore SEC-X" has no reason')


def test_a_bad_date_is_refused() -> None:
    with pytest.raises(SuppressionError) as err:
        parse('# infra-audit:ignore SEC-X reason="y" until=next-year', "a.yaml:3", TODAY)
    assert str(err.value).startswith("a.yaml:3: infra-audit:ignore SEC-X: until='next-year'")


def test_the_line_covered_is_its_own_or_the_first_code_line_after_the_comment_block() -> None:
    lines = ["resource x {", '  # infra-audit:ignore A reason="r"', "  # more words", "", "  image = y", "}"]
    assert _target(lines, 2) == 5
    assert _target(['  image: y  # infra-audit:ignore A reason="r"'], 1) == 1


def test_a_search_that_fails_stops_the_run_instead_of_unsuppressing() -> None:
    from types import SimpleNamespace

    from agents.offline.suppressions import scan
    from domain.evidence import Evidence
    from domain.results import ToolStatus

    failed = Evidence(
        id="E-1", tool="repo.search", args={}, command="rg", status=ToolStatus.ERROR, output="",
        truncated=False, sha256="0", error="rg: not found",
    )  # fmt: skip
    toolbox = SimpleNamespace(call=lambda *a, **k: failed, ledger=SimpleNamespace(data=lambda _id: None))
    ctx = SimpleNamespace(toolbox=lambda: toolbox)
    with pytest.raises(SuppressionError) as err:
        scan(ctx, TODAY)  # type: ignore[arg-type]
    assert str(err.value) == "cannot search the estate for infra-audit:ignore comments: rg: not found"
