"""The run context: what every node shares but the checkpointed state does not carry.

The inventory, the ledger and the toolbox are rebuilt on resume (the parse is cheap and
deterministic); the state keeps only results. Nodes receive this through LangGraph's runtime
context, never through globals.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agents.context import ProgressFn
from domain.concerns import Role
from domain.findings import ConcernResult
from pipeline.settings import RunSettings
from tools.checks.reproduce import Where
from tools.checks.spec import CheckContext
from tools.evidence import Ledger
from tools.gc_pause import run_froze_heap
from tools.helm.options import ChartOptions
from tools.inventory.build import build_inventory
from tools.inventory.inventory import Inventory
from tools.kube.backend import KubeBackend
from tools.kube.read_once import read_once
from tools.malloc_arenas import trim
from tools.pathnames import shell_quote
from tools.registry import Toolbox
from tools.sandbox import Jail

if TYPE_CHECKING:
    from agents.llm.accounting import Accountant
    from agents.llm.protocol import ModelClient
    from agents.llm.settings import RunBudget
    from agents.offline.recounter import Recounter


def _quiet(node: str, who: str, message: str, *, detail: bool = False) -> None:
    return None


def recounted_types() -> frozenset[str]:
    """The resource types (``plural.group``) the catalog's cluster commands name (jq filters and the
    scripts that join the code with the cluster): kept for the recount."""
    from tools.checks.spec import catalog_types

    return frozenset(catalog_types())


@dataclass
class RunContext:
    settings: RunSettings
    ledger: Ledger
    backend: KubeBackend | None = None
    progress: ProgressFn = _quiet
    model: ModelClient | None = None
    """The model behind the LLM agents; None runs every role offline."""
    accountant: Accountant | None = None
    budget: RunBudget | None = None
    run_id: str = ""
    date: str = ""
    """The audit clock's text (``settings.date``), for prompts and reports."""
    traceback_dir: Path | None = None
    """Where a crashing node writes its traceback (the terminal gets one line naming the file)."""
    _inventory: Inventory | None = field(default=None, repr=False)
    _jail: Jail | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _slots: threading.BoundedSemaphore | None = field(default=None, repr=False)
    research: dict[str, ConcernResult] | None = None
    """The state's research results, which the challengers judge: handed over by ``challenge_round``,
    or read from the checkpoint by a resume (a ``ChallengeTask`` does not carry them)."""
    freeze_heap: bool = False
    """Freeze the heap once a cluster's inventory is built (a graph run, which ``release_heap`` ends)."""
    _froze: bool = field(default=False, repr=False)
    _recounter: Recounter | None = field(default=None, repr=False)
    _let_go: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        # a live cluster is read once: the recount's jq commands see the lists the audit made
        self.backend = read_once(self.backend, recounted_types())
        if self.settings.max_concurrency is not None:
            self._slots = threading.BoundedSemaphore(self.settings.max_concurrency)

    @contextmanager
    def agent_slot(self) -> Iterator[None]:
        """One of the ``--max-concurrency`` places a research branch or a challenger runs in.

        The limit is ours, not LangGraph's ``max_concurrency``: that one sizes the thread pool that
        also saves each finished branch's writes to the checkpoint, so with 1 a finished branch's
        writes queued behind the branches still to run, and a kill lost all of them
        (``pipeline/audit.py`` explains the pool size). A branch waiting here holds no slot.
        """
        if self._slots is None:
            yield
            return
        with self._slots:
            yield

    @property
    def estate(self) -> Path:
        return self.settings.estate

    @property
    def display_estate(self) -> str:
        return self.settings.display_estate

    @property
    def display_cluster(self) -> str | None:
        return self.settings.display_cluster

    @property
    def chart_options(self) -> ChartOptions:
        return self.settings.chart_options()

    @property
    def output_cap(self) -> int:
        return self.settings.output_cap

    def inventory(self) -> Inventory:
        """The estate's inventory, parsed once per process and shared by every node.

        With a cluster and ``freeze_heap``, the heap is then frozen (``gc.freeze()``) until
        ``release_heap``: the cluster's objects and records live as long as the run, hold no reference
        cycles, and at 10k pods every full collection of the run re-scanned them (5.8 s of a 19.6 s
        run). Without a cluster the collector is left as ``build_inventory`` leaves it: an estate's
        parse leaves HCL syntax trees in reference cycles, which only a collection frees."""
        with self._lock:
            if self._let_go:
                raise RuntimeError("the inventory was let go once the report was made")
            if self._inventory is None:
                self._inventory = build_inventory(
                    self.settings.estate, cluster=self.backend, charts=self.chart_options
                )
                live = self._inventory.live is not None
                if live and self.freeze_heap and gc.get_freeze_count() == 0:
                    gc.freeze()
                    self._froze = True
                    run_froze_heap(True)  # the collector's pauses freeze what they build with it
            return self._inventory

    def recounter(self) -> Recounter:
        """The run's recounter, made once (``agents/offline/recounter.py``)."""
        with self._lock:
            if self._recounter is None:
                from agents.offline.recounter import Recounter

                self._recounter = Recounter(self)
            return self._recounter

    def let_go(self) -> None:
        """Once the report is made nothing reads the estate's inventory or the cluster's objects again:
        let them go (a snapshot its objects' texts, a live cluster its kept lists; the recount its
        plans, which hold the inventory) and have the C heap give the freed pages back, before the
        reports are rendered on top. The run peaked while rendering: at 10k pods with a snapshot's
        texts (58 MiB and more) still held, on the bench's large estate with the parsed estate
        (docs/performance.md, ninth part). Reading either afterwards is an error.

        Nothing here needs the cyclic collector: the inventory is freed as its last reference goes
        (its scoped view is no longer a reference to itself), and a full collection of the unfrozen
        heap found 163 objects at 10k pods for 0.14-0.21 s, so the heap stays frozen until the graph
        returns (``release_heap``)."""
        release = getattr(self.backend, "release", None)
        if release is not None:
            release()
        with self._lock:
            self._inventory, self._let_go = None, True
            if self._recounter is not None:
                self._recounter.let_go()
        trim()

    def release_heap(self) -> None:
        """Give the objects ``inventory`` froze back to the collector (a run is over), and what the
        collector's pauses froze with them since (``tools/gc_pause.py``)."""
        with self._lock:
            if self._froze:
                gc.unfreeze()
                self._froze = False
                run_froze_heap(False)

    def toolbox(self, ledger: Ledger | None = None) -> Toolbox:
        """The tools over this run's estate; the jail is built once (it caches what it walks)."""
        with self._lock:
            if self._jail is None:
                self._jail = Jail(self.settings.estate, file_cap=self.settings.file_cap)
        return Toolbox(self._jail, self.backend, ledger or self.ledger)

    def llm(self) -> tuple[ModelClient, Accountant, RunBudget]:
        """The model, the accountant and the budget of an LLM run (all three are set together)."""
        assert self.model is not None and self.accountant is not None and self.budget is not None
        return self.model, self.accountant, self.budget

    def role_model(self, role: Role) -> str | None:
        """The model of ``role`` when not the run's (``--challenger-model``, ``--synthesizer-model``)."""
        return self.settings.llm.role_model(role) if self.settings.llm is not None else None

    def estate_summary(self, inventory: Inventory) -> dict[str, object]:
        """What a prompt says about the estate: its path, its cluster and its record counts (the render
        phase's own account, ``helm_renders``, is not a record of the estate: the gaps carry it)."""
        counts = {k: v for k, v in inventory.code.counts().items() if v and k != "helm_renders"}
        return {
            "path": self.settings.display_estate,
            "has_cluster": inventory.live is not None,
            "cluster_name": inventory.live.cluster.name if inventory.live else None,
            "counts": dict(sorted(counts.items())),
        }

    def command_prefix(self) -> str:
        prefix = f"infra-audit check {shell_quote(self.settings.display_estate)}"
        if self.settings.display_cluster:
            prefix += f" --cluster {shell_quote(self.settings.display_cluster)}"
        if self.settings.context:
            prefix += f" --context {self.settings.context}"
        return prefix

    def check_context(self, inventory: Inventory | None = None, ledger: Ledger | None = None) -> CheckContext:
        return CheckContext(
            inventory=inventory or self.inventory(),
            toolbox=self.toolbox(ledger),
            command_prefix=self.command_prefix(),
            now=self.settings.clock,
            where=self.where(),
        )

    def where(self) -> Where:
        """Where this run reads, as typed: what the standard-tool commands of the appendix name."""
        clock = self.settings.clock
        return Where(
            estate=self.settings.display_estate,
            snapshot_dirs=self.toolbox().jail.snapshot_dirs,
            cluster=self.settings.display_cluster,
            context=self.settings.context,
            kubeconfig=self.settings.kubeconfig if self.settings.cluster == "live" else None,
            now=clock.strftime("%Y-%m-%dT%H:%M:%SZ") if clock is not None else None,
        )
