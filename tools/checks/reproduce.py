"""How a check's number is reproduced with standard tools: the declaration and its shell text.

Each row of ``catalog.yaml`` may say, under ``reproduce:``, how each of its numbers (``count`` for
the main one, a measure's name for the others) is recounted without infra-audit:

* ``rg:`` a repo fact. ripgrep from the estate root, piped to ``wc -l`` (``count: lines``, one hit
  per line), ``awk`` (``matches``: every hit), ``wc -l`` over ``rg -l`` (``files``) or
  ``sort -u | wc -l`` over ``rg -o`` (``unique``, with ``replace:`` for a capture group).
* ``jq:`` a cluster fact. ``kubectl get TYPES -A -o json | jq FILTER`` for a live cluster, the same
  filter over the snapshot's files for a snapshot (``jq -s`` merges their ``items``); ``$now`` is
  the audit clock, ``$server`` the API server's version the run read (``kubectl version``). A type
  the cluster does not serve (a snapshot: has no file of) is left out of the command: kubectl would
  refuse the whole list, and the filter sees none of it, as the checks do.
  ``code:`` joins a live count with the estate's code: a ``python3 -c`` one-liner prints the JSON
  the filter reads as ``$code`` (``--argjson code "$(python3 -c ...)"``), e.g. the workloads the code
  defines, which the checks count from code rather than live.
* ``python:`` a count that needs structure: ``python3 -c CODE`` run at the estate root, the
  standard library and PyYAML only.
* ``script:`` a count that needs structure across formats: ``python3 tools/checks/reproduce_scripts/FILE
  ROOT ARGS`` (a file of infra-audit's source tree a reader can read and run alone, the standard
  library and PyYAML only; it reads YAML documents and Terraform ``kubernetes_*`` resources alike).
  With ``resources:`` the script also reads the cluster's objects of those types and joins them with
  the code's as the check does (``--live FILE`` per snapshot file; live, ``kubectl get TYPES -A -o json |``
  the script with ``--live -``): a cluster fact, exact only with a cluster.
* ``sum:`` a number made of parts (code and live): ``echo $(( $(a) + $(b) ))``.

``when:`` says for which estates the command is exact, all conditions at once: ``cluster``,
``no-cluster`` (a count of code is exact only without a cluster), ``no-code:FIELD`` (a count of
live objects is exact only when the code inventory has no such records, e.g. ``no-code:workloads``),
``no-live-items`` (a count of code is exact when the check counted no live object: the cluster added
nothing to this number; only for counts the cluster can add to but not take from, such as live
workloads no code defines; where a live object can take a code item out, a live PDB, NetworkPolicy,
HPA or claim, the condition is ``no-cluster``), ``no-live:FIELD`` (the cluster shows no such records:
a count of code is exact when the cluster adds none, e.g. ``no-live:alert_rules``).
A ``python:`` or ``script:`` command is never exact for an estate with Helm-rendered objects
(``RENDERED``): they are in no file it reads (unless ``helm_free: true``: it reads only objects no
render here added, Helm releases where ``no-code:rendered_helm_releases`` holds); nor where a
kustomization gives objects their namespace (``KUSTOMIZED``): the files do not say it; unless its number
depends on neither (``unrendered: true``: CI files, docs). A script with a rendering twin
(``HELM_TWINS``: ``objects_count.py`` and ``rendered_count.py``; ``ci_count.py``; ``joined_count.py``
for its namespace counts, SEC-NO-NETPOL and SCA-NO-QUOTA) is exact there through the twin, which adds
what ``helm template`` renders for the releases the estate's Flux and Argo CD objects declare
(``helm_releases.py`` finds them itself), leaving out those the audit did not render
(``--not-rendered=NS/NAME``); not where another kind of release was rendered (Terraform, Kustomize:
``HELM_ELSEWHERE``), nor, unless the count reads no namespace (``namespace_free: true``: counts of
workloads and containers), where a kustomization sets namespaces. In the sandbox its ``helm`` is
infra-audit's Helm engine (``tools/helm/template_cli.py``). A script that builds each kustomization
itself (``builds_kustomize: true``: ``namespaces_count.py`` through ``kustomize_build.py``, for the
Namespace objects, exact where ``no-code:rendered_namespaces`` holds) stays exact where kustomizations
set namespaces or build objects no file holds.
Where no declaration applies, the claim is *listed*: the ``path:line`` refs that make it up, not
recomputed. The numbers challenger runs these commands (``reproduce_run.py``), argv only.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools import pathnames

WHEN = re.compile(r"^(cluster|no-cluster|no-live-items|no-(?:code|live):[a-z_]+)$")
SCRIPTS = Path(__file__).resolve().parent / "reproduce_scripts"
SCRIPTS_SHOWN = "tools/checks/reproduce_scripts"
"""Where the appendix says the scripts are: their path in infra-audit's source tree."""
MAIN = "count"
"""The key of a check's main number under ``reproduce:``; any other key names a measure."""
RENDERED = "rendered_objects"
"""The code counts' key for objects the Helm engine rendered: a ``python:`` or ``script:`` command
reads the files as written, so it is not exact for an estate that has any (the claim is listed instead)."""
RENDERED_RULES = "rendered_alert_rules"
"""The code counts' key for alert rules of Helm-rendered objects (``no-code:rendered_alert_rules``): a
text check whose number depends on nothing else rendered declares ``unrendered: true`` and this."""
RENDERED_NAMESPACES = "rendered_namespaces"
"""The code counts' key for Namespace objects a Helm render made (``no-code:rendered_namespaces``)."""
RENDERED_RELEASES = "rendered_helm_releases"
"""The code counts' key for Helm releases a render may have added (a chart rendering a HelmRelease or
an Application): a count of releases as written is exact where there are none (``helm_free``)."""
HELM_ELSEWHERE = "helm_renders_elsewhere"
"""The code counts' key for releases rendered that are not a Flux HelmRelease or an Argo CD Application
(Terraform ``helm_release``, Kustomize ``helmCharts``): no rendering twin finds those."""
BUILT = "kustomize_built"
"""The code counts' key for objects a Kustomize build made that no file holds as such (a component's,
a generator's; cited at the kustomization), Namespaces aside (``built_namespaces``, a ``no-code:``
condition of the counts that read them): a command over the files as written is not exact then."""
HELM_TWINS = {
    "objects_count.py": "rendered_count.py",
    "ci_count.py": "rendered_ci_count.py",
    "joined_count.py": "rendered_joined_count.py",
}
"""A script over the files as written -> its twin over them and the estate's Helm renders (same
arguments, same checks, but for ``TWIN_CHECKS``)."""
TWIN_CHECKS = {"rendered_joined_count.py": frozenset({"SEC-NO-NETPOL", "SCA-NO-QUOTA"})}
"""A twin that counts only some of its script's checks: the others stay listed on a rendered estate."""
KUSTOMIZED = "kustomized_files"
"""The code counts' key for files whose objects a kustomization puts in a namespace (``kustomize_scope``):
a command over the files as written sees them without it, so it is not exact either."""
GITOPS_NAMESPACED = "gitops_namespaced_files"
"""The code counts' key for files a Flux Kustomization's ``targetNamespace`` (any object) or an Argo CD
Application's destination (Helm releases and what they render) puts in a namespace the files do not
say: a script over the files as written is not exact then; a rendering twin (``helm_releases.py``
places them) or the Namespace reader (``builds_kustomize``) is."""


class ReproSpec(BaseModel):
    """One standard-tool command that prints one number (exactly one of rg, jq, python, script, sum)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rg: str | None = Field(default=None, description="A ripgrep (Rust regex) pattern.")
    glob: tuple[str, ...] = Field(default=(), description="rg -g globs, in order.")
    flags: tuple[str, ...] = Field(default=(), description="Further rg flags: -i, -w, -F, -U.")
    count: Literal["lines", "matches", "files", "unique"] = "lines"
    replace: str | None = Field(default=None, description="rg -r for count: unique ($1: a group).")
    jq: str | None = Field(default=None, description="A jq filter over {items: [...]}.")
    resources: tuple[str, ...] = Field(
        default=(), description="Resource types (plural.group) a jq filter, or a script's --live, reads."
    )
    python: str | None = Field(default=None, description="python3 -c code; argv[1] is the root.")
    code: str | None = Field(
        default=None,
        description="With jq: python3 -c code (argv[1] the estate root) printing the JSON the filter reads "
        "as $code, the estate's own facts a live count is joined with (which workloads the code defines).",
    )
    script: str | None = Field(
        default=None, description="A file of reproduce_scripts/, run as python3 FILE ROOT ARGS."
    )
    args: tuple[str, ...] = Field(default=(), description="The script's arguments after the estate root.")
    unrendered: bool = Field(
        default=False,
        description="The number depends on neither Helm renders nor Kustomize namespaces (CI files, "
        "docs): a python or script command stays exact for an estate that has them.",
    )
    namespace_free: bool = Field(
        default=False,
        description="The number reads no object's namespace (counts of workloads, containers): a script "
        "stays exact where a kustomization sets namespaces the files do not say.",
    )
    helm_free: bool = Field(
        default=False,
        description="The number reads only objects no Helm render here can add to (with a no-code: "
        "condition saying so, e.g. no-code:rendered_helm_releases): Helm renders do not make it inexact.",
    )
    builds_kustomize: bool = Field(
        default=False,
        description="The script builds each kustomization as kustomize and Flux do (kustomize_build.py): "
        "the namespaces a kustomization sets and the objects a build makes do not make it inexact.",
    )
    sum: tuple[ReproSpec, ...] | None = Field(default=None, description="Parts added: $(( $(a) + $(b) )).")
    otherwise: ReproSpec | None = Field(
        default=None,
        description="The command where this one's conditions do not hold (e.g. code on one side, the "
        "cluster on the other); chosen by ``chosen()``.",
    )
    when: tuple[str, ...] = Field(
        default=(),
        description="Conditions for the command to be exact here, all of them: cluster, no-cluster, "
        "no-code:FIELD (the estate's code has no such records, e.g. no-code:workloads), no-live:FIELD "
        "(the cluster read has none).",
    )

    @model_validator(mode="after")
    def _one(self) -> ReproSpec:
        chosen = [k for k in ("rg", "jq", "python", "script", "sum") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError("a reproduce entry has exactly one of rg, jq, python, script, sum")
        if self.script is not None and not (SCRIPTS / self.script).is_file():
            raise ValueError(f"no reproduce script {self.script} in {SCRIPTS_SHOWN}")
        if self.jq is not None and not self.resources:
            raise ValueError("a jq entry names its resources")
        if self.resources and self.jq is None and self.script is None:
            raise ValueError("resources: are read by a jq filter or a script")
        if self.code is not None and self.jq is None:
            raise ValueError("code: is the $code of a jq entry")
        if any(not WHEN.match(w) for w in self.when):
            raise ValueError(
                f"when: conditions are cluster, no-cluster, no-live-items, no-code:FIELD or no-live:FIELD, "
                f"not {self.when}"
            )
        if set(self.flags) - RG_FLAGS:
            raise ValueError(f"rg flags are limited to {sorted(RG_FLAGS)}")
        return self


RG_FLAGS = frozenset({"-i", "-w", "-F", "-U"})
SKIPPED = (".git", ".terraform", ".terragrunt-cache")
"""Directories no repo command reads: git's own, and the tool caches the inventory walk skips."""


@dataclass(frozen=True)
class Where:
    """Where the run read its estate and cluster, as the user typed them (for pasteable commands)."""

    estate: str = "."
    snapshot_dirs: tuple[str, ...] = ()
    """Snapshots inside the estate (estate-relative): repo commands skip them."""
    cluster: str | None = None
    """The snapshot dir as typed, 'live', or None."""
    context: str | None = None
    kubeconfig: str | None = None
    now: str | None = None
    excluded: tuple[str, ...] = ()
    """Files the checks left out as not deployed (estate-relative, ``scope.py``): rg skips them."""
    charts: str | None = None
    """The chart cache the run rendered from: the sandbox's ``helm template`` reads it, offline."""
    server: str | None = None
    """The API server's version the run read (``$server`` in a jq filter)."""
    served: frozenset[str] | None = None
    """The resource types (``plural.group``) the cluster serves; None: not known, name them all."""

    def read(self, resources: tuple[str, ...]) -> tuple[str, ...]:
        """The resource types of a jq command the cluster serves (all when not known)."""
        return resources if self.served is None else tuple(r for r in resources if r in self.served)


def rg_argv(spec: ReproSpec, where: Where) -> list[str]:
    """rg's flags and pattern (run at the estate root), the same for the shell and the sandbox."""
    assert spec.rg is not None
    mode = {"lines": [], "matches": ["--count-matches"], "files": ["-l"], "unique": ["-o", "--no-filename"]}
    argv = ["--no-config", "--hidden", "--no-heading", *mode[spec.count]]
    if spec.replace is not None:
        argv += ["-r", spec.replace]
    argv += [*spec.flags, *[f"--glob={g}" for g in spec.glob], *[f"--glob=!{c}" for c in SKIPPED]]
    argv += [f"--glob=!{pathnames.glob_literal(s)}/**" for s in where.snapshot_dirs]
    argv += [f"--glob=!/{pathnames.glob_literal(f)}" for f in where.excluded]
    return [*argv, "--", spec.rg]


def snapshot_file(resource: str) -> str:
    """The snapshot file of ``plural.group`` (``deployments.apps`` → ``apps.v1.deployments.json``), at
    the version the resource table knows for it (``autoscaling.v2``, ``argoproj.io.v1alpha1``)."""
    from tools.kube.resources import BUILTIN, ResourceTable

    return f"{ResourceTable(list(BUILTIN)).resolve(resource).file_stem}.json"


_TAIL = {
    "lines": "| wc -l",
    "files": "| wc -l",
    "unique": "| sort -u | wc -l",
    "matches": "| awk -F: '{s+=$NF} END {print s+0}'",
}


def shell(spec: ReproSpec, where: Where) -> str:
    """The command a person pastes (from where the run was started) to get the number."""
    q = shlex.quote
    if spec.sum is not None:
        # "$( (cd ..." not "$((cd ...": a shell would read the latter as arithmetic
        return "echo $(( " + " + ".join(f"$( {shell(part, where)} )" for part in spec.sum) + " ))"
    if spec.rg is not None:
        args = " ".join(q(a) for a in rg_argv(spec, where))
        return f"(cd {q(where.estate)} && rg {args}) {_TAIL[spec.count]}"
    if spec.jq is not None:
        resources = where.read(spec.resources)
        if not resources:  # the cluster serves none of them: the filter over no objects
            return f"jq -n{_jq_args(spec, where)} {q('{items: []} | ' + spec.jq)}"
        if where.cluster == "live":
            return kubectl_form(spec, where, resources)
        snap = where.cluster or "."
        files = " ".join(q(f"{snap}/{snapshot_file(r)}") for r in resources)
        return f"jq -s{_jq_args(spec, where)} {q(merge_filter(spec.jq))} {files}"
    if spec.script is not None:
        resources = where.read(spec.resources)
        if spec.resources and where.cluster == "live" and resources:
            return kubectl_form(spec, where, resources)
        live = [f"{where.cluster or '.'}/{snapshot_file(r)}" for r in resources]
        args = " ".join(q(a) for a in script_args(spec, where, live))
        return f"python3 {SCRIPTS_SHOWN}/{spec.script} {q(where.estate)} {args}"
    assert spec.python is not None
    return f"python3 -c {q(spec.python)} {q(where.estate)}"


def _jq_args(spec: ReproSpec, where: Where) -> str:
    """``--arg`` of the run's facts the filter reads: the audit clock, the server's version."""
    q = shlex.quote
    facts = {"now": where.now, "server": where.server}
    text = "".join(f" --arg {k} {q(v)}" for k, v in facts.items() if v and f"${k}" in (spec.jq or ""))
    if spec.code is not None:
        text += f' --argjson code "$(python3 -c {q(spec.code)} {q(where.estate)})"'
    return text


def kubectl_form(spec: ReproSpec, where: Where, resources: tuple[str, ...] | None = None) -> str:
    """``kubectl get TYPES -A -o json | jq FILTER`` (or ``| python3 SCRIPT ROOT ARGS --live -``): the
    command on a live cluster (with the run's ``--context``/``--kubeconfig``); for a snapshot, what its
    files were listed from."""
    assert spec.jq is not None or (spec.script is not None and spec.resources)
    q = shlex.quote
    flags = (f" --context {q(where.context)}" if where.context else "") + (
        f" --kubeconfig {q(where.kubeconfig)}" if where.kubeconfig else ""
    )
    types = ",".join(resources or where.read(spec.resources) or spec.resources)
    if spec.script is not None:
        args = " ".join(q(a) for a in script_args(spec, where, ["-"]))
        script = f"python3 {SCRIPTS_SHOWN}/{spec.script} {q(where.estate)} {args}"
        return f"kubectl get {types} -A -o json{flags} | {script}"
    return f"kubectl get {types} -A -o json{flags} | jq{_jq_args(spec, where)} {q(spec.jq or '.')}"


def script_args(spec: ReproSpec, where: Where, live: list[str] | None = None) -> list[str]:
    """A script's arguments after the root: its own, ``--live`` and each cluster file it reads (``-``:
    stdin), then the paths it must not read (snapshot directories, files the checks left out as not
    deployed)."""
    reads = [arg for path in live or [] for arg in ("--live", path)]
    return [*spec.args, *reads, *where.snapshot_dirs, *where.excluded]


def reads_cluster(spec: ReproSpec) -> bool:
    """A jq filter, or a script joining the cluster's objects with the code's: a cluster fact."""
    return spec.jq is not None or (spec.script is not None and bool(spec.resources))


def merge_filter(jq: str) -> str:
    """The filter over slurped snapshot files: their items merged, as ``kubectl get a,b`` lists them."""
    return "{items: map(.items[])} | " + jq


def every_option(spec: ReproSpec | None) -> Iterator[ReproSpec]:
    """``spec``, the parts of its ``sum:`` and its ``otherwise:`` chain, each with their own, depth first."""
    if spec is None:
        return
    yield spec
    for part in spec.sum or ():
        yield from every_option(part)
    yield from every_option(spec.otherwise)


def chosen(
    spec: ReproSpec,
    code_counts: dict[str, int],
    *,
    cluster: bool,
    scoped_out: bool = False,
    live_items: bool = False,
    live_counts: dict[str, int] | None = None,
    helm: bool = False,
) -> ReproSpec | None:
    """The first of ``spec`` and its ``otherwise:`` chain that is exact for this run, or None.
    ``helm``: ``helm template`` can run (the Helm engine is here): an option whose script has a
    rendering twin is exact through the twin on an estate with Helm renders."""
    option: ReproSpec | None = spec
    while option is not None:
        if applies(
            option,
            code_counts,
            cluster=cluster,
            scoped_out=scoped_out,
            live_items=live_items,
            live_counts=live_counts,
        ):
            return option
        if helm and option.script in HELM_TWINS and code_counts.get(RENDERED, 0) and twin_counts(option):
            twin = option.model_copy(update={"script": HELM_TWINS[option.script]})
            if applies(twin, code_counts, cluster=cluster, scoped_out=scoped_out, live_items=live_items):
                return twin
        option = option.otherwise
    return None


def twin_counts(spec: ReproSpec) -> bool:
    """Whether the rendering twin of ``spec``'s script counts its check (``TWIN_CHECKS``)."""
    counted = TWIN_CHECKS.get(HELM_TWINS.get(spec.script or "", ""))
    return counted is None or (bool(spec.args) and spec.args[0] in counted)


def renders_helm(spec: ReproSpec) -> bool:
    """Whether the command runs ``helm template`` (a rendering twin)."""
    return spec.script in HELM_TWINS.values()


def applies(
    spec: ReproSpec,
    code_counts: dict[str, int],
    *,
    cluster: bool,
    scoped_out: bool = False,
    live_items: bool = False,
    live_counts: dict[str, int] | None = None,
) -> bool:
    """Whether the command is exact for this run: its conditions hold (a cluster fact needs a cluster).

    ``scoped_out``: the checks left files out as not deployed (``scope.py``). rg skips them
    (``Where.excluded``) and so does a ``script:`` (its arguments); a ``python:`` command reads every
    file, so it is not exact then.
    ``live_items``: the check counted live objects (the cluster added to its number).
    ``live_counts``: the cluster's records by field (``no-live:FIELD``); None: no cluster was read."""
    if spec.sum is not None and not all(
        applies(
            p,
            code_counts,
            cluster=cluster,
            scoped_out=scoped_out,
            live_items=live_items,
            live_counts=live_counts,
        )
        for p in spec.sum
    ):
        return False
    reads_files = spec.python is not None or spec.script is not None or spec.code is not None
    if (spec.python is not None or spec.code is not None) and scoped_out:
        return False  # a script is told the left-out files (script_args); python -c reads them all
    if reads_cluster(spec) and not cluster:
        return False
    if reads_files and not spec.unrendered:
        if code_counts.get(KUSTOMIZED, 0) and not (spec.namespace_free or spec.builds_kustomize):
            return False  # it reads the files as written: not the namespaces Kustomize gives them
        placed = spec.namespace_free or spec.builds_kustomize or renders_helm(spec)
        if code_counts.get(GITOPS_NAMESPACED, 0) and not placed:
            return False  # nor the namespace a Flux or Argo CD object gives what it deploys
        if code_counts.get(BUILT, 0) and not spec.builds_kustomize:
            return False  # nor the objects a Kustomize build made
        twin_ok = renders_helm(spec) and not code_counts.get(HELM_ELSEWHERE, 0)
        if code_counts.get(RENDERED, 0) and not (twin_ok or spec.helm_free):
            return False  # nor what Helm rendered
    for condition in spec.when:
        if condition == "cluster" and not cluster:
            return False
        if condition == "no-cluster" and cluster:
            return False
        if condition == "no-live-items" and live_items:
            return False
        if condition.startswith("no-code:") and code_counts.get(condition.removeprefix("no-code:"), 0):
            return False
        live = live_counts or {}
        if condition.startswith("no-live:") and live.get(condition.removeprefix("no-live:"), 0):
            return False
    return True
