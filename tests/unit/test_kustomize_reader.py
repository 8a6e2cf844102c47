"""The reader's kustomize (``kustomize_build.py``) and its Namespace count (``namespaces_count.py``).

The goldens in tests/fixtures/kustomize_namespaces/golden/ were generated once with Debian's kubectl
(kubectl 1.32.4, kustomize 5.5.0: ``kubectl kustomize tests/fixtures/kustomize_namespaces/<case> >
golden/<case with / as ->.yaml``); the reader's Namespaces must equal theirs, and so must its
Namespaces of the engine's own kustomize fixtures (tests/fixtures/kustomize). Where kubectl is on
PATH the goldens are checked against it again.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.offline.render_facts import kustomize_facts, rendered_namespaces
from tests.helm_charts import write
from tests.reader_scripts import script_module
from tools.checks.reproduce import (
    BUILT,
    GITOPS_NAMESPACED,
    KUSTOMIZED,
    RENDERED,
    RENDERED_NAMESPACES,
    SCRIPTS,
    chosen,
)
from tools.checks.spec import spec_by_id
from tools.inventory.inventory import Records
from tools.inventory.models import (
    CodeRef,
    DeployedPath,
    FluxKustomization,
    HelmRender,
    Namespace,
    NetworkPolicy,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
CASES = {
    **{c: FIXTURES / "kustomize_namespaces" for c in ("component", "order", "rename/overlay", "ops")},
    **{
        c: FIXTURES / "kustomize"
        for c in (
            "transforms/overlay",
            "patches",
            "generators",
            "images",
            "components/app",
            "merge/overlay",
            "smp",
        )
    },
}


def _namespaces(docs: list[Any]) -> list[dict[str, Any]]:
    found = [d for d in docs if isinstance(d, dict) and d.get("kind") == "Namespace"]
    return sorted(found, key=lambda d: str(d["metadata"]["name"]))


def _golden(case: str) -> str:
    return (CASES[case] / "golden" / f"{case.replace('/', '-')}.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_readers_namespaces_are_kubectl_kustomizes(case: str) -> None:
    reader = script_module("kustomize_build")
    built = reader.build_dir((CASES[case] / case).resolve(), reader.Build())
    assert _namespaces([r.obj for r in built]) == _namespaces(list(yaml.safe_load_all(_golden(case))))


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH (the goldens stand)")
@pytest.mark.parametrize("case", ["component", "order", "rename/overlay", "ops"])
def test_the_goldens_are_what_kubectl_kustomize_prints(case: str) -> None:
    done = subprocess.run(
        ["kubectl", "kustomize", str(CASES[case] / case)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert list(yaml.safe_load_all(done.stdout)) == list(yaml.safe_load_all(_golden(case)))


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = SCRIPTS / "namespaces_count.py"
    return subprocess.run(
        [sys.executable, str(script), str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_flux_homelab_namespaces_as_flux_builds_them() -> None:
    """The common component's Namespace ``_`` is renamed by each namespace's kustomization and labelled
    baseline; home's and kube-system's own patches make them privileged; kube-system is left out."""
    done = _run(ROOT / "examples" / "flux-homelab", "--list")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "cert-manager baseline",
        "home privileged",
        "media baseline",
        "network baseline",
        "observability baseline",
    ]
    counts = {
        c: _run(ROOT / "examples" / "flux-homelab", c).stdout for c in ("SEC-NO-PSS", "SEC-NO-PSS:missing")
    }
    assert counts == {"SEC-NO-PSS": "1\n", "SEC-NO-PSS:missing": "0\n"}


NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
FLUX = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: {name}, namespace: flux-system}}
spec:
  path: ./{path}
{spec}"""


def test_a_flux_kustomization_lays_its_fields_over_the_build(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            # no kustomization.yaml at the path: Flux makes one of every manifest under it
            "apps/db/namespace.yaml": NS.format(name="placeholder")
            + "  labels:\n    pod-security.kubernetes.io/enforce: ${PSS_LEVEL}\n    note: $${KEPT}\n",
            "apps/db/ks.yaml": FLUX.format(
                name="db",
                path="apps/db",
                spec="  targetNamespace: databases\n  postBuild:\n    substituteFrom:\n"
                "      - {kind: ConfigMap, name: cluster-settings}\n",
            ),
            "apps/web/namespace.yaml": NS.format(name="web"),
            "apps/web/ks.yaml": FLUX.format(
                name="web",
                path="apps/web",
                spec="  commonMetadata:\n    labels:\n      pod-security.kubernetes.io/enforce: restricted\n"
                "  patches:\n    - target: {kind: Namespace}\n      patch: |-\n"
                "        - op: add\n          path: /metadata/labels\n"
                "          value: {pod-security.kubernetes.io/warn: restricted}\n",
            ),
            "settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cluster-settings}\n"
            "data: {PSS_LEVEL: privileged}\n",
            # a path no Flux Kustomization reads and no kustomization builds: read as written
            "loose/namespace.yaml": NS.format(name="loose"),
        },
    )
    reader = script_module("namespaces_count")
    found = {o["metadata"]["name"]: o["metadata"].get("labels") for o in reader.namespaces(root)}
    assert found == {
        "databases": {"pod-security.kubernetes.io/enforce": "privileged", "note": "${KEPT}"},
        "web": {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
        },
        "loose": None,
    }
    assert "placeholder" not in found  # the file as written is the build's: never counted twice


def test_a_root_that_fails_to_build_has_what_it_includes_built_alone(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "infra/kustomization.yaml": "resources: [./storage, ./missing.yaml, ./ops.yaml]\n",
            "infra/ops.yaml": NS.format(name="ops"),
            "infra/storage/kustomization.yaml": "namespace: longhorn-system\nresources: [ns.yaml]\n"
            "patches:\n  - path: pss.yaml\n",
            "infra/storage/ns.yaml": NS.format(name="storage"),
            # a patch file: a partial Namespace that is no Namespace of its own
            "infra/storage/pss.yaml": NS.format(name="storage")
            + "  labels:\n    pod-security.kubernetes.io/enforce: privileged\n",
        },
    )
    done = _run(root, "--list")
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["longhorn-system privileged", "ops -"]
    assert done.stderr.count("not built") == 1 and "missing.yaml does not exist" in done.stderr


@pytest.mark.parametrize(
    ("files", "why"),
    [
        ({"k/kustomization.yaml": "resources:\n  - github.com/org/repo//base?ref=v1\n"}, "remote resource"),
        (
            {"k/kustomization.yaml": "resources: [a.yaml]\nreplacements: [{path: r.yaml}]\n", "k/a.yaml": ""},
            "replacements",
        ),
        (
            {
                "app.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\n"
                "spec: {source: {path: k, kustomize: {commonLabels: {a: b}}}}\n"
            },
            "Argo CD kustomize options",
        ),
        (
            {
                "k/ns.yaml": NS.format(name="${FROM_SECRET}"),
                "ks.yaml": FLUX.format(
                    name="k",
                    path="k",
                    spec="  postBuild:\n    substituteFrom:\n      - {kind: Secret, name: s}\n",
                ),
            },
            "${FROM_SECRET}",
        ),
    ],
)
def test_what_the_reader_cannot_build_is_refused_in_one_line(
    tmp_path: Path, files: dict[str, str], why: str
) -> None:
    done = _run(write(tmp_path, files), "SEC-NO-PSS")
    assert done.returncode == 3 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and why in done.stderr


def test_the_pod_security_count_is_built_where_a_kustomization_made_the_namespaces() -> None:
    spec = spec_by_id("SEC-NO-PSS").reproduce["count"]
    flux_homelab = {RENDERED: 40, KUSTOMIZED: 3, BUILT: 12, "built_namespaces": 6, RENDERED_NAMESPACES: 0}
    picked = chosen(spec, flux_homelab, cluster=False, helm=True)
    assert picked is not None and picked.script == "namespaces_count.py"
    assert chosen(spec, {**flux_homelab, RENDERED_NAMESPACES: 1}, cluster=False, helm=True) is None
    as_written = chosen(spec, {"namespaces": 4}, cluster=False, helm=True)
    assert as_written is not None and as_written.script == "objects_count.py"
    # with a cluster, the join reads the code's Namespaces as written: listed where a build made them
    assert chosen(spec, {**flux_homelab, "namespaces": 6}, cluster=True, helm=True) is None


def test_a_namespace_a_chart_rendered_is_counted_as_rendered() -> None:
    release = CodeRef(path="apps/hr.yaml", line=3)
    code = Records(
        helm_renders=[
            HelmRender(
                defined_by="flux",
                name="y",
                namespace="apps",
                chart="oci://x/y",
                rendered=True,
                objects=2,
                source=release,
            )
        ],
        namespaces=[
            Namespace(name="from-chart", origin="manifest", source=release),
            Namespace(name="written", origin="manifest", source=CodeRef(path="ns.yaml", line=1)),
        ],
    )
    assert rendered_namespaces(code) == 1


def test_a_target_that_is_not_a_regular_expression_fails_that_build_only(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "bad/kustomization.yaml": "resources: [ns.yaml]\npatches:\n"
            "  - target: {kind: Namespace, name: 'a('}\n"
            "    patch: |-\n      - {op: add, path: /metadata/labels, value: {x: y}}\n",
            "bad/ns.yaml": NS.format(name="kept"),
        },
    )
    done = _run(root, "--list")
    assert done.returncode == 0 and done.stdout.splitlines() == ["kept -"]  # its file, read as written
    assert "not a regular expression" in done.stderr and "Traceback" not in done.stderr


def _deployed(via: str, name: str, files: list[str]) -> DeployedPath:
    return DeployedPath(
        path="apps", via=via, name=name, built=False, files=files, source=CodeRef(path="ks.yaml", line=1)
    )  # type: ignore[arg-type]


def test_a_flux_target_namespace_keeps_a_file_command_from_recounting_what_it_places() -> None:
    """flux-homelab without its charts: its NetworkPolicies name no namespace, their Flux Kustomization's
    ``targetNamespace`` does. ``joined_count.py`` reads them as written and printed 0 of 5 (the check:
    3), and the recount *corrected* the finding to 0. Now it is listed; the rendering twin and the
    Namespace reader, which place what Flux deploys, stay exact."""
    policy = NetworkPolicy(
        name="np", origin="manifest", namespace="home", source=CodeRef(path="apps/np.yaml", line=2)
    )
    code = Records(
        flux_kustomizations=[
            FluxKustomization(name="home", target_namespace="home", source=CodeRef(path="ks.yaml", line=1))
        ],
        deployed_paths=[_deployed("flux", "home", ["apps/np.yaml"])],
        network_policies=[policy],
    )
    facts = kustomize_facts(code)
    assert facts[GITOPS_NAMESPACED] == 1 and facts[KUSTOMIZED] == 0
    netpol = spec_by_id("SEC-NO-NETPOL").reproduce["count"]
    assert chosen(netpol, facts, cluster=False, helm=True) is None  # listed, not recounted wrongly
    twin = chosen(netpol, {**facts, RENDERED: 3}, cluster=False, helm=True)
    assert twin is not None and twin.script == "rendered_joined_count.py"
    pss = chosen(spec_by_id("SEC-NO-PSS").reproduce["count"], {**facts, "built_namespaces": 1}, cluster=False)
    assert pss is not None and pss.script == "namespaces_count.py"
    # without a targetNamespace, Flux leaves the file's (absent) namespace: the files as written are exact
    untargeted = code.model_copy(
        update={
            "flux_kustomizations": [FluxKustomization(name="home", source=CodeRef(path="ks.yaml", line=1))]
        }
    )
    assert kustomize_facts(untargeted)[GITOPS_NAMESPACED] == 0
    # an Argo CD Application's plain objects: nothing places them, not even a twin
    argo = code.model_copy(update={"deployed_paths": [_deployed("argocd", "home", ["apps/np.yaml"])]})
    assert kustomize_facts(argo)[KUSTOMIZED] == 1
    assert chosen(netpol, {**kustomize_facts(argo), RENDERED: 3}, cluster=False, helm=True) is None
