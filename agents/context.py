"""What an agent needs from the run it is part of, as two small protocols.

Agents never import the graph: ``pipeline/context.RunContext`` satisfies ``AgentContext`` and
``pipeline/state.AuditState`` satisfies ``ResearchRecord`` structurally, so the pipeline wires
agents together without the agents knowing how.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from domain.concerns import Mode, Role
from domain.evidence import Evidence
from domain.findings import ConcernResult, Verdict
from tools.checks.spec import CheckContext
from tools.evidence import Ledger
from tools.inventory.inventory import Inventory
from tools.kube.backend import KubeBackend
from tools.registry import Toolbox

if TYPE_CHECKING:
    from agents.llm.accounting import Accountant
    from agents.llm.protocol import ModelClient
    from agents.llm.settings import RunBudget
    from agents.offline.recounter import Recounter
    from tools.helm.options import ChartOptions


class ProgressFn(Protocol):
    """progress(node, concern_or_role, message): how agents report to the live display.

    ``detail=True`` marks a step inside a branch (each recount, each agent turn): a terminal shows
    it in the branch's row; a log (a pipe, CI) keeps only the other lines, one per branch milestone.
    """

    def __call__(self, node: str, who: str, message: str, *, detail: bool = False) -> None: ...


class AgentContext(Protocol):
    """The run as an agent sees it: the estate, its inventory, the tools, the ledger, the model."""

    @property
    def run_id(self) -> str: ...
    @property
    def date(self) -> str: ...
    @property
    def estate(self) -> Path: ...
    @property
    def display_estate(self) -> str:
        """The estate path as the user typed it, for commands a reader pastes."""

    @property
    def display_cluster(self) -> str | None:
        """'live', a snapshot directory (shown escaped), or None."""

    @property
    def output_cap(self) -> int: ...
    @property
    def ledger(self) -> Ledger: ...
    @property
    def backend(self) -> KubeBackend | None: ...
    @property
    def progress(self) -> ProgressFn: ...
    @property
    def chart_options(self) -> ChartOptions:
        """Where the Helm releases' charts come from in this run (the cache, --fetch-charts)."""

    def inventory(self) -> Inventory: ...
    def toolbox(self, ledger: Ledger | None = None) -> Toolbox: ...
    def check_context(
        self, inventory: Inventory | None = None, ledger: Ledger | None = None
    ) -> CheckContext: ...
    def llm(self) -> tuple[ModelClient, Accountant, RunBudget]: ...
    def role_model(self, role: Role) -> str | None:
        """The model of ``role`` when it is not the run's (``--challenger-model``, ...)."""

    def estate_summary(self, inventory: Inventory) -> dict[str, Any]: ...
    def recounter(self) -> Recounter:
        """The run's recounter (the numbers challenger's commands): one per run, shared by the research
        branches, which start their checks' commands as they end, and the challenger."""


class ResearchRecord(Protocol):
    """What synthesis reads of a run: the research results and everything the challengers added."""

    @property
    def run_id(self) -> str: ...
    @property
    def date(self) -> str: ...
    @property
    def mode(self) -> Mode: ...
    @property
    def inventory_counts(self) -> Mapping[str, int]: ...
    @property
    def results(self) -> Mapping[str, ConcernResult]: ...
    @property
    def verdicts(self) -> Sequence[Verdict]: ...
    @property
    def challenge_evidence(self) -> Sequence[Evidence]: ...
    @property
    def gaps(self) -> Sequence[str]: ...
    @property
    def framings(self) -> Sequence[str]: ...
