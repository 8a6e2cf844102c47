"""The numbers challenger's recounter: which standard-tool command recounts each check's numbers here
(``plan``), run ahead together (``early`` as each research branch ends, ``ahead`` for the rest), then
read back one check at a time (``rerun``). One per run (``RunContext.recounter``): the facts a plan
reads (the code's counts, what the checks left out, the cluster's types) are worked out once, and the
commands a research branch's checks will be recounted with start while the other branches still run.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from agents.offline.render_facts import (
    kustomize_facts,
    rendered_namespaces,
    rendered_releases,
    rendered_rules,
)
from domain.concerns import agent_label
from domain.evidence import Evidence
from domain.findings import RawFinding
from domain.results import ToolResult, ToolStatus
from tools.checks.reproduce import (
    HELM_ELSEWHERE,
    MAIN,
    RENDERED,
    RENDERED_NAMESPACES,
    RENDERED_RELEASES,
    RENDERED_RULES,
    ReproSpec,
    Where,
    chosen,
    kubectl_form,
    reads_cluster,
    renders_helm,
    shell,
)
from tools.checks.reproduce_batch import Scripts, early, prefetch
from tools.checks.reproduce_jq import JqWork
from tools.checks.reproduce_run import HELM_SEAM, Listings, run_all
from tools.checks.spec import CheckContext, spec_by_id
from tools.evidence import Ledger
from tools.inventory.inventory import LiveState
from tools.inventory.models import LiveRef
from tools.inventory.scope import not_deployed
from tools.kube.backend import KubeBackend, KubeQueryError

if TYPE_CHECKING:
    from agents.context import AgentContext

AGENT = agent_label("challenge", "numbers")
INDEPENDENT = "reproduce"
"""Tool name of a recount made by a check's standard-tool commands."""
LISTED = "listed"
"""Tool name of a recount that could not be made: the claim is listed, not recomputed."""


def recount_id(eid: str) -> str:
    return f"{eid}.r"


def claimed(findings: Iterable[RawFinding], index: Mapping[str, Evidence]) -> list[Evidence]:
    """The evidence each numeric claim cites first, once each, in the findings' order: what the recount
    reruns (a claim without a value, or citing evidence not in ``index``, has nothing to rerun)."""
    cited = (c.evidence[0] for f in findings for c in f.claims if c.value is not None and c.evidence)
    return [index[eid] for eid in dict.fromkeys(cited) if eid in index]


class _Plan(NamedTuple):
    specs: dict[str, ReproSpec]
    """The command of each key (``count``, a measure) that is exact here."""
    where: Where


class Recounter:
    """Recounts evidence by independent commands over the run's one reading; each piece at most once."""

    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx
        self.ledger = Ledger(ctx.output_cap)
        self._check_ctx: CheckContext | None = None
        self.listings = Listings()  # each cluster type written once for every jq command
        self._left_out: tuple[str, ...] | None = None
        self._counts: dict[str, int] | None = None
        self._facts: dict[str, Any] | None = None
        self._live_refs: frozenset[str] | None = None
        self._plans: dict[str, _Plan] = {}
        self._lock = threading.RLock()  # research branches plan and send their commands in threads
        self._scripts: Scripts | None = None
        self._jq = JqWork()

    def start_round(self) -> None:
        """A new round of the challenge: a ledger of its own (what the plans found stays)."""
        with self._lock:
            self.ledger = Ledger(self.ctx.output_cap)
            self._check_ctx = None

    def end_round(self) -> None:
        """The round's answers are read: let its listings go (at 10k pods, 58 MiB of the cluster's JSON
        held through synthesis and rendering otherwise) and its batch child with them."""
        with self._lock:
            if self._scripts is not None:
                self._scripts.close()  # a child fed early whose answers no claim read
            self._jq.close()
            self.listings = Listings()
            self._scripts = None

    def let_go(self) -> None:
        """The run's report is made: let go of what holds the inventory (the check context, the plans,
        the facts worked out from it)."""
        with self._lock:
            self._check_ctx = None
            self._plans.clear()
            self._live_refs = None

    def scripts(self) -> Scripts:
        """The child running this run's python commands, fed by ``early`` and ``ahead``."""
        with self._lock:
            if self._scripts is None:  # the run's one jail, which needs no inventory (warm_early)
                self._scripts = Scripts(self.ctx.toolbox().jail, self.ctx.backend, self.listings)
            return self._scripts

    def left_out(self) -> tuple[str, ...]:
        """What the checks left out as not deployed (rg skips those files, python cannot: not exact).
        One answer per run: the inventory does not change, and working it out walks every record."""
        if self._left_out is None:
            self._left_out = tuple(not_deployed(self.check_context().inventory))
        return self._left_out

    def counts(self) -> dict[str, int]:
        """The code's record counts a command's ``when:`` reads, with the Helm renders and the files a
        kustomization gives a namespace: one answer per run (the inventory does not change)."""
        if self._counts is None:
            code = self.check_context().inventory.code
            self._counts = {
                **code.counts(),
                RENDERED: sum(r.objects for r in code.helm_renders if r.rendered),
                RENDERED_RULES: rendered_rules(code),
                RENDERED_RELEASES: rendered_releases(code),
                RENDERED_NAMESPACES: rendered_namespaces(code),
                HELM_ELSEWHERE: sum(
                    1 for r in code.helm_renders if r.rendered and r.defined_by not in GITOPS_RELEASES
                ),
                **kustomize_facts(code),
            }
        return self._counts

    def facts(self) -> dict[str, Any]:
        """What a cluster command names from the run's cluster (``cluster_facts``): read once per run."""
        if self._facts is None:
            self._facts = cluster_facts(self.ctx.backend)
        return self._facts

    def live_refs(self, live: LiveState) -> frozenset[str]:
        """The ref of every live record (and live container): a location is live when its ref is one."""
        if self._live_refs is None:
            self._live_refs = frozenset(live_refs(live))
        return self._live_refs

    def check_context(self) -> CheckContext:
        if self._check_ctx is None:
            self._check_ctx = self.ctx.check_context(ledger=self.ledger)
        return self._check_ctx

    def rerun(self, original: Evidence) -> Evidence:
        rid = recount_id(original.id)
        known = self.ledger.get(rid)
        if known is not None:
            return known
        if original.tool == "check":
            result = self.independent(original)
        else:
            evidence = self.check_context().toolbox.call(original.tool, dict(original.args), agent=AGENT)
            result = ToolResult(
                tool=evidence.tool,
                args=evidence.args,
                status=evidence.status,
                command=evidence.command,
                output=evidence.output,
                value=evidence.value,
                measures=evidence.measures,
                error=evidence.error,
                truncated=evidence.truncated,
            )
        return self.ledger.record(result, agent=AGENT, eid=rid)

    def counted_live(self, original: Evidence) -> bool:
        """Whether the check counted a live object (its locations, as the run's ledger holds them; the
        finding's refs are not enough: a model's finding may cite a few). Unknown counts as yes."""
        live = self.check_context().inventory.live
        if live is None:
            return False
        data = self.ctx.ledger.data(original.id)
        locations = data.get("locations") if isinstance(data, dict) else None
        if not isinstance(locations, list):
            return True
        refs = self.live_refs(live)
        return any(isinstance(loc, dict) and str(loc.get("ref", "")) in refs for loc in locations)

    def plan(self, original: Evidence) -> _Plan:
        with self._lock:
            return self._plan(original)

    def _plan(self, original: Evidence) -> _Plan:
        """The commands that recount a check's numbers here, by key, and where they run: one answer per
        piece of evidence (``ahead`` runs them all before any is asked)."""
        known = self._plans.get(original.id)
        if known is not None:
            return known
        check_id = str(original.args["id"])
        cctx = self.check_context()
        live = cctx.inventory.live
        code = cctx.inventory.code
        counts = self.counts()
        left_out = self.left_out()
        where = self.plan_where()
        live_counted = self.counted_live(original)
        # whether helm template can run matters only where a chart was rendered (``chosen``); asking
        # loads the Helm engine (a Go library, about 0.2 s), which an estate without one never needs
        helm = bool(counts.get(RENDERED)) and helm_here()
        options = {
            key: chosen(
                spec,
                counts,
                cluster=live is not None,
                scoped_out=bool(left_out),
                live_items=live_counted,
                live_counts=live.counts() if live is not None else None,
                helm=helm,
            )
            for key, spec in spec_by_id(check_id).reproduce.items()
        }
        not_rendered = tuple(
            f"--not-rendered={r.namespace}/{r.name}"
            for r in code.helm_renders
            if not r.rendered and r.defined_by in GITOPS_RELEASES
        )
        specs = {
            key: with_not_rendered(spec, not_rendered) for key, spec in options.items() if spec is not None
        }
        self._plans[original.id] = plan = _Plan(specs, where)
        return plan

    def warm_early(self) -> None:
        """Before the inventory is read: with a cluster, start the jq engine parsing its listings
        (``reproduce_jq``): it needs neither the inventory nor a plan, and parses beside the live
        inventory and the research, on the other core (about 2.5 s at 10k pods). And start the batch
        child reading the estate, with only the snapshots skipped (``warm`` says what else to skip
        once the inventory knows): each check hands its commands on as it ends, and on the bench's
        1,600-file estate the first job waited about 0.8 s for the reading. Never fails."""
        try:
            if self.ctx.backend is not None:
                self._jq.start(self.ctx.backend, self.listings)
        except Exception:  # an optimisation only: the challenge's jq reads the listings itself
            pass
        try:
            self.scripts().warm(list(self.ctx.toolbox().jail.snapshot_dirs))
        except Exception:  # an optimisation only: the scripts read the estate themselves
            return

    def warm(self) -> None:
        """Once the inventory is read: have the run's batch child read the estate's objects with what
        the commands skip, and work out what planning the first check's commands needs (the refs of
        the live records: 0.2-0.6 s at 10k pods, which the first research branch to hand a check on
        otherwise spent while the jq engine idled). Never fails."""
        try:
            with self._lock:
                where = self.plan_where()
                self.scripts().warm([*where.snapshot_dirs, *where.excluded])
                live = self.check_context().inventory.live
                if live is not None:
                    self.live_refs(live)
        except Exception:  # an optimisation only: the scripts read the estate themselves
            return

    def plan_where(self) -> Where:
        """Where this run's commands run, as ``plan`` gives it to each."""
        cctx = self.check_context()
        cache = self.ctx.chart_options.cache_dir
        return dataclasses.replace(
            cctx.where,
            excluded=self.left_out(),
            charts=str(cache) if cache is not None else None,
            **self.facts(),
        )

    def early(self, evidence: list[Evidence]) -> None:
        """Send the python commands recounting a research branch's checks to the run's batch child now,
        while the other branches still run (what they print is read in ``ahead``). Never fails: what
        could not be sent runs later."""
        try:
            plans = [self.plan(ev) for ev in evidence if ev.tool == "check"]
            if plans:
                specs = [s for p in plans for s in p.specs.values()]
                early(specs, plans[0].where, self.scripts())
                jail = self.check_context().toolbox.jail
                self._jq.submit(specs, jail, plans[0].where, self.ctx.backend, self.listings, early=True)
        except Exception:  # an optimisation only: the recount itself reports what goes wrong
            return

    def ahead(self, originals: list[Evidence]) -> None:
        """Run the commands of every check's evidence in ``originals`` now, together (``prefetch``):
        the python commands in the run's batch child (those ``early`` sent already running), every
        jq filter in one program; ``independent`` then reads what each printed."""
        unique = {ev.id: ev for ev in originals if ev.tool == "check"}
        plans = [self.plan(ev) for ev in unique.values()]
        if not plans:
            return
        where = plans[0].where  # one run: the same for every check
        specs = [spec for plan in plans for spec in plan.specs.values()]
        jail, backend, listings = self.check_context().toolbox.jail, self.ctx.backend, self.listings

        def filters(chosen: list[ReproSpec]) -> None:  # after the branches' own, by the same engine
            self._jq.submit(chosen, jail, where, backend, listings)
            self._jq.wait()

        prefetch(specs, where, self.scripts(), filters)

    def independent(self, original: Evidence) -> ToolResult:
        """The check's numbers, printed by the standard-tool commands its catalog row declares."""
        check_id, cctx, (specs, where) = str(original.args["id"]), self.check_context(), self.plan(original)
        args: dict[str, Any] = {"id": check_id, "check": original.command}
        if any(renders_helm(s) for s in specs.values()):
            args["rendered_by"] = HELM_SEAM
        if not specs:
            text = f"listed, not recomputed: no standard-tool command counts {check_id} exactly here"
            return ToolResult(
                tool=LISTED, args=args, status=ToolStatus.OK, command=original.command, output=text
            )
        commands = {key: shell(spec, where) for key, spec in specs.items()}
        if where.cluster != "live" and self.ctx.backend is not None:
            # a snapshot: the kubectl command its files were listed with, as a reader runs it live
            context = where.context or self.ctx.backend.info.context
            as_listed = dataclasses.replace(where, context=context)
            kubectl = {k: kubectl_form(s, as_listed) for k, s in specs.items() if reads_cluster(s)}
            if kubectl:
                args["kubectl"] = kubectl
        printed = run_all(specs, cctx.toolbox.jail, where, self.ctx.backend, self.listings)
        lines = [f"{commands[k]}\n→ {_n(p.value)}{_why(p.error)}" for k, p in printed.items()]
        failed = [f"{k}: {p.error}" for k, p in printed.items() if p.value is None]
        main = printed.get(MAIN)
        return ToolResult(
            tool=INDEPENDENT,
            args={**args, "commands": commands},
            status=ToolStatus.ERROR if failed else ToolStatus.OK,
            command=commands.get(MAIN, original.command),
            output="\n".join(lines),
            value=main.value if main else None,
            measures={k: p.value for k, p in printed.items() if k != MAIN and p.value is not None},
            error="; ".join(failed) or None,
        )


GITOPS_RELEASES = ("flux", "argocd")
"""The releases a rendering twin finds itself (``helm_releases.py``): Flux HelmReleases, Argo CD
Applications."""


def helm_here() -> bool:
    """Whether ``helm template`` can be served in the sandbox: the Helm engine imports here."""
    from tools.helm.engine import engine_problem

    return engine_problem() is None


def with_not_rendered(spec: ReproSpec, not_rendered: tuple[str, ...]) -> ReproSpec:
    """A rendering twin told the releases the audit did not render (their charts not in its cache):
    their objects are in none of its numbers, and the twin leaves them out too."""
    if not renders_helm(spec) or not not_rendered:
        return spec
    return spec.model_copy(update={"args": (*spec.args, *not_rendered)})


def live_refs(live: LiveState) -> set[str]:
    """The refs (``cluster/namespace/kind/name``) of every record the cluster gave, containers included."""
    sources: dict[int, LiveRef] = {}  # by identity: records share them (78k refs, 36k objects at 10k pods)
    for name in LiveState.model_fields:
        items = getattr(live, name)
        for item in items if isinstance(items, list) else ():
            sourced, contained = _fields_of(type(item))
            if sourced and isinstance(source := item.source, LiveRef):
                sources[id(source)] = source
            for container in item.containers if contained else ():
                if isinstance(source := getattr(container, "source", None), LiveRef):
                    sources[id(source)] = source
    return {str(source) for source in sources.values()}


_FIELDS: dict[type, tuple[bool, bool]] = {}


def _fields_of(cls: type) -> tuple[bool, bool]:
    """Whether a record class has a ``source`` and a ``containers`` field, asked once per class: asking
    each of 78,818 records and containers at 10k pods (``getattr`` with a default, an exception for
    most) took 0.27-0.28 s."""
    known = _FIELDS.get(cls)
    if known is None:
        fields = getattr(cls, "model_fields", {})
        known = _FIELDS[cls] = ("source" in fields, "containers" in fields)
    return known


def cluster_facts(backend: KubeBackend | None) -> dict[str, Any]:
    """What a jq command names from the run's cluster: the types it serves, the server's version."""
    if backend is None:
        return {}
    try:
        served = frozenset(r.qualified for r in backend.api_resources())
    except KubeQueryError:
        served = None  # discovery failed: name every type, as the checks' own reads found out
    return {"served": served, "server": backend.info.server_version}


def _why(error: str | None) -> str:
    return f" ({error})" if error else ""


def _n(value: float | None) -> str:
    return "nothing" if value is None else f"{value:g}"
