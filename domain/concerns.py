"""The closed sets of an audit, each one table: concerns, challenger stances, modes, agent roles.

A concern is one row of ``CONCERN_TABLE``: its name, its R-code as the reports show it, the prefix of
its check ids and its label. Every other encoding (``CONCERNS``, ``CONCERN_CODES``, the check-id
pattern, parsing ``R1`` or ``reliability`` from a flag) is derived from that row, never written again.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, get_args

Concern = Literal["reliability", "declarative", "maintenance", "scalability", "security"]


class ConcernInfo(NamedTuple):
    name: Concern
    code: str
    """As the reports and the ``checks`` table show it: R1..R5."""
    prefix: str
    """Check ids of this concern start with it: REL-, DEC-, ..."""
    label: str


CONCERN_TABLE: tuple[ConcernInfo, ...] = (
    ConcernInfo("reliability", "R1", "REL", "Reliability"),
    ConcernInfo("declarative", "R2", "DEC", "Declarative coverage"),
    ConcernInfo("maintenance", "R3", "MNT", "Maintenance"),
    ConcernInfo("scalability", "R4", "SCA", "Scalability"),
    ConcernInfo("security", "R5", "SEC", "Security"),
)
assert tuple(row.name for row in CONCERN_TABLE) == get_args(Concern), "CONCERN_TABLE must match Concern"

CONCERNS: tuple[Concern, ...] = tuple(row.name for row in CONCERN_TABLE)
CONCERN_CODES: dict[Concern, str] = {row.name: row.code for row in CONCERN_TABLE}
CONCERN_INFO: dict[Concern, ConcernInfo] = {row.name: row for row in CONCERN_TABLE}
CHECK_ID_PATTERN = r"^(" + "|".join(row.prefix for row in CONCERN_TABLE) + r")-[A-Z0-9-]+$"

Stance = str
"""A challenger's stance: a name registered in ``agents/stances.py`` ('numbers', 'intent'), or the
label its offline verdicts carry when they run beside a model's ('recount': the mechanical recount
that still runs beside the LLM numbers challenger). An open set, so a stance is one registration."""

Mode = Literal["offline", "llm"]

Role = Literal["research", "challenge", "synthesize"]


def agent_label(role: Role, who: str | None = None) -> str:
    """The one label scheme for an agent, in usage rows, logs, evidence and requests:
    ``research:security``, ``challenge:numbers``, ``synthesize``."""
    return f"{role}:{who}" if who else role


def role_of(label: str | None) -> str | None:
    """The role of an agent label (``challenge:intent`` -> ``challenge``); None for no label."""
    return label.split(":", 1)[0] if label else None


def parse_concern(value: str) -> Concern | None:
    """A concern from its name or its R-code, case-insensitively; None when it is neither."""
    wanted = value.strip().lower()
    for row in CONCERN_TABLE:
        if wanted in (row.name, row.code.lower()):
            return row.name
    return None
