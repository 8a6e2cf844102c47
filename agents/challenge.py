"""What one challenger returns, whatever its stance and whether a model or code wrote it."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.evidence import Evidence
from domain.findings import Verdict


@dataclass
class ChallengeOutcome:
    verdicts: list[Verdict] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    """Evidence the challenger gathered itself (what its verdicts cite beyond the research's)."""
    gaps: list[str] = field(default_factory=list)
    framings: list[str] = field(default_factory=list)

    def add(self, other: ChallengeOutcome) -> None:
        self.verdicts += other.verdicts
        self.evidence += other.evidence
        self.gaps += other.gaps
        self.framings += other.framings
