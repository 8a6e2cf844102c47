"""The shared Kubernetes object mapper: every kind, exact values, lines, and what must not appear."""

from __future__ import annotations

from textwrap import dedent
from typing import Any

import pytest

from tools.inventory.inventory import Records
from tools.inventory.k8s_objects import records_from_object
from tools.inventory.models import (
    HPA,
    PDB,
    PVC,
    AlertRule,
    ArgoApplication,
    CodeRef,
    Container,
    FluxKustomization,
    FluxSource,
    HelmRelease,
    LiveRef,
    Namespace,
    NetworkPolicy,
    Policy,
    PolicyRule,
    RBACBinding,
    RBACRole,
    RBACSubject,
    ResourceQuota,
    Resources,
    SecretManifest,
    SecurityContext,
    Volume,
    Workload,
)
from tools.inventory.yaml_lines import load_documents

pytestmark = pytest.mark.unit

PATH = "apps/web.yaml"
LIVE = LiveRef(cluster="lab", namespace="web", object_kind="Deployment", name="web")


def code(text: str) -> Records:
    """Map every document of ``text`` as a manifest at PATH, with lines."""
    records = Records()
    for doc in load_documents(dedent(text).lstrip("\n")):
        records.extend(
            records_from_object(doc.data, CodeRef(path=PATH, line=doc.line), "manifest", doc.line_of)
        )
    return records


def at(line: int) -> CodeRef:
    return CodeRef(path=PATH, line=line)


def only(records: Records, field: str) -> list[Any]:
    """The records of ``field``, asserting every other list is empty."""
    others = {name: count for name, count in records.counts().items() if count and name != field}
    assert others == {}
    items: list[Any] = getattr(records, field)
    return items


# ---------------------------------------------------------------------------------- workloads

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
  labels: {app: web, tier: front}
spec:
  replicas: 3
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 25%
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web-sa
      terminationGracePeriodSeconds: 45
      hostNetwork: true
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
      initContainers:
        - name: migrate
          image: ghcr.io/acme/web:1.2.3
      containers:
        - name: web
          image: ghcr.io/acme/web:1.2.3
          ports:
            - containerPort: 8080
            - containerPort: 9090
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
          livenessProbe: {httpGet: {path: /live, port: 8080}}
          startupProbe: {tcpSocket: {port: 8080}}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 1, memory: 256Mi}
          securityContext:
            privileged: false
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}
          lifecycle:
            preStop: {exec: {command: [sleep, "5"]}}
        - name: sidecar
          image: envoyproxy/envoy:v1.30.1
      volumes:
        - {name: data, persistentVolumeClaim: {claimName: web-data}}
        - {name: host, hostPath: {path: /var/run/docker.sock}}
        - {name: tmp, emptyDir: {}}
        - {name: conf, configMap: {name: web}}
        - {name: creds, secret: {secretName: web}}
        - {name: share, nfs: {server: nas, path: /export}}
        - {name: proj, projected: {sources: []}}
"""


def test_deployment_maps_every_field_with_container_lines() -> None:
    [workload] = only(code(DEPLOYMENT), "workloads")
    assert workload == Workload(
        kind="Deployment",
        name="web",
        namespace="web",
        origin="manifest",
        replicas=3,
        strategy="RollingUpdate",
        max_surge="1",
        max_unavailable="25%",
        termination_grace_period=45,
        host_network=True,
        pod_security=SecurityContext(
            run_as_non_root=True, run_as_user=1000, lines={"run_as_non_root": 24, "run_as_user": 25}
        ),
        service_account="web-sa",
        labels={"app": "web", "tier": "front"},
        selector={"app": "web"},
        containers=[
            Container(
                name="migrate", image="ghcr.io/acme/web:1.2.3", init=True, source=at(27), image_line=28
            ),
            Container(
                name="web",
                image="ghcr.io/acme/web:1.2.3",
                probes=["readiness", "liveness", "startup"],
                resources=Resources(
                    cpu_request="100m", memory_request="128Mi", cpu_limit="1", memory_limit="256Mi"
                ),
                security=SecurityContext(
                    privileged=False,
                    allow_privilege_escalation=False,
                    read_only_root_filesystem=True,
                    capabilities_add=["NET_BIND_SERVICE"],
                    capabilities_drop=["ALL"],
                    lines={"privileged": 42, "allow_privilege_escalation": 43, "capabilities_add": 45},
                ),
                pre_stop=True,
                ports=[8080, 9090],
                source=at(30),
                image_line=31,
            ),
            Container(name="sidecar", image="envoyproxy/envoy:v1.30.1", source=at(48), image_line=49),
        ],
        volumes=[
            Volume(name="data", type="pvc", claim_name="web-data"),
            Volume(name="host", type="host_path", host_path="/var/run/docker.sock"),
            Volume(name="tmp", type="empty_dir"),
            Volume(name="conf", type="config_map"),
            Volume(name="creds", type="secret"),
            Volume(name="share", type="nfs"),
            Volume(name="proj", type="other"),
        ],
        source=at(1),
        lines={"replicas": 8, "strategy": 10, "host_network": 22}
        | {
            f"volume:{name}": line
            for name, line in zip(
                ("data", "host", "tmp", "conf", "creds", "share", "proj"), range(51, 58), strict=True
            )
        },
    )


def test_live_object_keeps_the_live_source_and_no_lines() -> None:
    obj = load_documents(dedent(DEPLOYMENT))[0].data
    [workload] = records_from_object(obj, LIVE, "live").workloads
    assert workload.source == LIVE
    assert workload.origin == "live"
    assert [c.source for c in workload.containers] == [LIVE, LIVE, LIVE]
    assert [c.image_line for c in workload.containers] == [None, None, None]


def test_statefulset_update_strategy_and_volume_claim_templates() -> None:
    records = code(
        """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db, namespace: data}
        spec:
          replicas: 1
          updateStrategy: {type: OnDelete}
          template:
            spec:
              containers:
                - name: postgres
                  image: postgres:16
          volumeClaimTemplates:
            - metadata: {name: pgdata}
              spec:
                accessModes: [ReadWriteOnce]
                storageClassName: local-path
                resources: {requests: {storage: 20Gi}}
        """
    )
    [sts] = only(records, "workloads")
    assert (sts.kind, sts.replicas, sts.strategy, sts.max_surge, sts.max_unavailable) == (
        "StatefulSet",
        1,
        "OnDelete",
        None,
        None,
    )
    assert sts.volume_claim_templates == [
        PVC(
            name="pgdata",
            namespace="data",
            access_modes=["ReadWriteOnce"],
            storage="20Gi",
            storage_class="local-path",
            origin="manifest",
            source=at(13),
        )
    ]
    assert records.pvcs == []  # templates stay on the StatefulSet, not among standalone PVCs


def test_daemonset_job_cronjob_pod_replicaset() -> None:
    records = code(
        """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec:
          replicas: 9
          updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 2}}
          template:
            spec:
              hostPID: true
              hostIPC: true
              containers: [{name: agent, image: agent:1}]
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: once}
        spec:
          suspend: true
          template:
            spec:
              containers: [{name: run, image: tool:2}]
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: backup, namespace: ops}
        spec:
          schedule: "0 3 * * *"
          suspend: false
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                    - name: restic
                      image: restic/restic:0.16.4
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: debug}
        spec:
          containers:
            - name: shell
              image: busybox
        ---
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: rs}
        spec:
          replicas: 2
          template: {spec: {containers: [{name: c, image: c:1}]}}
        """
    )
    ds, job, cron, pod, rs = only(records, "workloads")
    assert (ds.kind, ds.replicas, ds.strategy, ds.max_unavailable, ds.host_pid, ds.host_ipc) == (
        "DaemonSet",
        None,
        "RollingUpdate",
        "2",
        True,
        True,
    )
    assert (job.kind, job.suspend, job.schedule, job.containers[0].image) == ("Job", True, None, "tool:2")
    assert (cron.kind, cron.schedule, cron.suspend, cron.namespace) == ("CronJob", "0 3 * * *", False, "ops")
    assert cron.containers == [
        Container(name="restic", image="restic/restic:0.16.4", source=at(33), image_line=34)
    ]
    assert (pod.kind, pod.containers[0].source, pod.containers[0].image_line) == ("Pod", at(41), 42)
    assert (rs.kind, rs.replicas, rs.source) == ("ReplicaSet", 2, at(44))
    assert [w.suspend for w in (ds, pod, rs)] == [None, None, None]


def test_wrong_types_count_as_absent_and_never_crash() -> None:
    obj: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": "web",
        "spec": {
            "replicas": "3",
            "strategy": ["RollingUpdate"],
            "selector": {"matchLabels": ["app"]},
            "template": {
                "spec": {
                    "hostNetwork": "yes",
                    "securityContext": {"runAsUser": "1000", "runAsNonRoot": "true"},
                    "containers": [
                        "nginx",
                        {
                            "name": 7,
                            "image": None,
                            "resources": "lots",
                            "ports": [{"containerPort": "80"}, 8080, {"containerPort": 81}],
                            "securityContext": {"capabilities": {"drop": "ALL"}},
                            "readinessProbe": True,
                            "lifecycle": {"preStop": None},
                        },
                    ],
                    "volumes": {"name": "x"},
                }
            },
        },
    }
    [workload] = records_from_object(obj, LIVE, "live").workloads
    assert workload == Workload(
        kind="Deployment",
        name=None,
        origin="live",
        containers=[Container(name="7", image=None, ports=[81], source=LIVE)],
        source=LIVE,
    )


@pytest.mark.parametrize(
    "obj",
    [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}},
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition"},
        {"apiVersion": "example.com/v1", "kind": "Deployment", "spec": {}},
        {"apiVersion": "kyverno.io/v2", "kind": "PolicyException"},
        {"apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate"},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy"},
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["a.yaml"]},
        {"apiVersion": "app.k8s.io/v1beta1", "kind": "Application"},
        {"kind": 3},
        {},
    ],
)
def test_unknown_or_foreign_kinds_give_empty_records(obj: dict[str, Any]) -> None:
    assert records_from_object(obj, LIVE, "live") == Records()


def test_not_a_dict_gives_empty_records() -> None:
    assert records_from_object(["not", "an", "object"], LIVE, "live") == Records()  # type: ignore[arg-type]


# ------------------------------------------------------------------------ cluster-level kinds


def test_namespace_pvc_pdb_hpa_netpol_quota() -> None:
    records = code(
        """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: apps
          labels:
            pod-security.kubernetes.io/enforce: restricted
            pod-security.kubernetes.io/warn: baseline
            team: core
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: data, namespace: apps}
        spec:
          accessModes: [ReadWriteMany]
          resources: {requests: {storage: 5Gi}}
        ---
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: web, namespace: apps}
        spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
        ---
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: web, namespace: apps}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
          minReplicas: 2
          maxReplicas: 10
        ---
        apiVersion: autoscaling/v1
        kind: HorizontalPodAutoscaler
        metadata: {name: old}
        spec: {scaleTargetRef: {kind: StatefulSet, name: db}, maxReplicas: 3}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny-all, namespace: apps}
        spec: {podSelector: {}}
        ---
        apiVersion: v1
        kind: ResourceQuota
        metadata: {name: q, namespace: apps}
        ---
        apiVersion: v1
        kind: LimitRange
        metadata: {name: lr, namespace: apps}
        """
    )
    [ns] = records.namespaces
    assert ns == Namespace(
        name="apps",
        labels={
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "baseline",
            "team": "core",
        },
        origin="manifest",
        source=at(1),
    )
    assert ns.pod_security == {"enforce": "restricted", "warn": "baseline"}
    assert records.pvcs == [
        PVC(
            name="data",
            namespace="apps",
            access_modes=["ReadWriteMany"],
            storage="5Gi",
            origin="manifest",
            source=at(10),
        )
    ]
    assert records.pdbs == [
        PDB(
            name="web",
            namespace="apps",
            selector={"app": "web"},
            min_available="1",
            origin="manifest",
            source=at(17),
        )
    ]
    assert records.hpas == [
        HPA(
            name="web",
            namespace="apps",
            target_kind="Deployment",
            target_name="web",
            min_replicas=2,
            max_replicas=10,
            origin="manifest",
            source=at(22),
        ),
        HPA(
            name="old",
            target_kind="StatefulSet",
            target_name="db",
            max_replicas=3,
            origin="manifest",
            source=at(30),
        ),
    ]
    assert records.network_policies == [
        NetworkPolicy(name="deny-all", namespace="apps", origin="manifest", source=at(35))
    ]
    assert records.quotas == [
        ResourceQuota(kind="ResourceQuota", name="q", namespace="apps", origin="manifest", source=at(40)),
        ResourceQuota(kind="LimitRange", name="lr", namespace="apps", origin="manifest", source=at(44)),
    ]
    assert records.workloads == []


def test_rbac_roles_and_bindings() -> None:
    records = code(
        """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: reader, namespace: ignored}
        rules:
          - apiGroups: ["", apps]
            resources: [pods, deployments]
            verbs: [get, list]
          - apiGroups: ["*"]
            resources: ["*"]
            verbs: ["*"]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: edit, namespace: apps}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: admins}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
        subjects:
          - {kind: ServiceAccount, name: ci, namespace: ci}
          - {kind: Group, name: "system:masters"}
          - {kind: User}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: edit, namespace: apps}
        roleRef: {kind: Role, name: edit}
        """
    )
    assert records.roles == [
        RBACRole(
            kind="ClusterRole",
            name="reader",
            rules=[
                PolicyRule(
                    api_groups=["", "apps"], resources=["pods", "deployments"], verbs=["get", "list"], line=5
                ),
                PolicyRule(api_groups=["*"], resources=["*"], verbs=["*"], line=8),
            ],
            origin="manifest",
            source=at(1),
        ),
        RBACRole(kind="Role", name="edit", namespace="apps", origin="manifest", source=at(12)),
    ]
    assert records.bindings == [
        RBACBinding(
            kind="ClusterRoleBinding",
            name="admins",
            role_kind="ClusterRole",
            role_name="cluster-admin",
            subjects=[
                RBACSubject(kind="ServiceAccount", name="ci", namespace="ci"),
                RBACSubject(kind="Group", name="system:masters"),
            ],
            origin="manifest",
            source=at(16),
        ),
        RBACBinding(
            kind="RoleBinding",
            name="edit",
            namespace="apps",
            role_kind="Role",
            role_name="edit",
            origin="manifest",
            source=at(25),
        ),
    ]


# --------------------------------------------------------------------------------- secrets

SECRET_VALUES = (
    "aHVudGVyMg==",
    "hunter2",
    "s3cr3t-token",
    "ENC[AES256_GCM,data:Zm9v,iv:YWJj,tag:eHl6,type:str]",
)


def test_secret_keeps_key_names_only() -> None:
    records = code(
        """
        apiVersion: v1
        kind: Secret
        metadata: {name: db, namespace: apps}
        type: Opaque
        data:
          password: aHVudGVyMg==
        stringData:
          password: hunter2
          token: s3cr3t-token
        """
    )
    [secret] = only(records, "secrets")
    assert secret == SecretManifest(
        name="db",
        namespace="apps",
        keys=["password", "token"],
        sops_encrypted=False,
        origin="manifest",
        source=at(1),
    )
    dumped = records.model_dump_json()
    assert not [value for value in SECRET_VALUES if value in dumped]


def test_sops_detected_by_block_or_by_encrypted_values() -> None:
    records = code(
        """
        apiVersion: v1
        kind: Secret
        metadata: {name: by-block}
        stringData: {token: plain-looking}
        sops:
          age: [{recipient: age1xyz}]
          version: 3.8.1
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: by-value}
        data:
          token: ENC[AES256_GCM,data:Zm9v,iv:YWJj,tag:eHl6,type:str]
        """
    )
    assert [(s.name, s.keys, s.sops_encrypted) for s in records.secrets] == [
        ("by-block", ["token"], True),
        ("by-value", ["token"], True),
    ]
    dumped = records.model_dump_json()
    assert "plain-looking" not in dumped
    assert "Zm9v" not in dumped


# ---------------------------------------------------------------------------- alerting rules


def test_prometheus_rule_alerts_with_lines_and_no_recording_rules() -> None:
    records = code(
        """
        apiVersion: monitoring.coreos.com/v1
        kind: PrometheusRule
        metadata: {name: rules, namespace: monitoring}
        spec:
          groups:
            - name: node
              rules:
                - record: node:cpu:rate5m
                  expr: rate(node_cpu_seconds_total[5m])
                - alert: NodeDown
                  expr: up{job="node"} == 0
                  for: 5m
            - name: always
              rules:
                - alert: Watchdog
                  expr: 1
        """
    )
    assert only(records, "alert_rules") == [
        AlertRule(alert="NodeDown", expr='up{job="node"} == 0', group="node", source=at(10)),
        AlertRule(alert="Watchdog", expr="1", group="always", source=at(15)),
    ]


# --------------------------------------------------------------------------- policy engines


def test_kyverno_modes_default_per_rule_and_failure_policy() -> None:
    records = code(
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: enforce-me}
        spec:
          validationFailureAction: Enforce
          failurePolicy: Ignore
          rules: [{name: r}]
        ---
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: audit-me}
        spec: {validationFailureAction: Audit}
        ---
        apiVersion: kyverno.io/v2beta1
        kind: ClusterPolicy
        metadata: {name: defaulted}
        spec:
          rules:
            - name: a
              validate: {failureAction: Enforce, message: no}
            - name: b
              validate: {message: no}
            - name: c
              validate: {failureAction: Audit}
        ---
        apiVersion: kyverno.io/v1
        kind: Policy
        metadata: {name: ns-policy, namespace: apps}
        spec: {validationFailureAction: enforce}
        """
    )
    assert only(records, "policies") == [
        Policy(
            engine="kyverno",
            kind="ClusterPolicy",
            name="enforce-me",
            mode="Enforce",
            failure_policy="Ignore",
            mode_line=5,
            origin="manifest",
            source=at(1),
        ),
        Policy(
            engine="kyverno",
            kind="ClusterPolicy",
            name="audit-me",
            mode="Audit",
            mode_line=12,
            origin="manifest",
            source=at(9),
        ),
        Policy(
            engine="kyverno",
            kind="ClusterPolicy",
            name="defaulted",
            mode="Audit",
            rule_modes=["Enforce", "Audit"],
            mode_line=20,
            origin="manifest",
            source=at(14),
        ),
        Policy(
            engine="kyverno",
            kind="Policy",
            name="ns-policy",
            namespace="apps",
            mode="enforce",
            mode_line=29,
            origin="manifest",
            source=at(26),
        ),
    ]


def test_gatekeeper_constraints_and_vap_bindings() -> None:
    records = code(
        """
        apiVersion: constraints.gatekeeper.sh/v1beta1
        kind: K8sRequiredLabels
        metadata: {name: must-have-owner}
        spec: {enforcementAction: dryrun}
        ---
        apiVersion: constraints.gatekeeper.sh/v1beta1
        kind: K8sPSPPrivilegedContainer
        metadata: {name: no-privileged}
        ---
        apiVersion: constraints.gatekeeper.sh/v1beta1
        kind: K8sAllowedRepos
        metadata: {name: repos}
        spec:
          enforcementAction: scoped
          scopedEnforcementActions:
            - {action: warn, enforcementPoints: [{name: validation.gatekeeper.sh}]}
            - {action: deny, enforcementPoints: [{name: gator.gatekeeper.sh}]}
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {name: replicas-limit}
        spec: {policyName: replicas, validationActions: [Warn, Audit]}
        """
    )
    assert [
        (p.engine, p.kind, p.name, p.mode, p.rule_modes, p.source) for p in only(records, "policies")
    ] == [
        ("gatekeeper", "K8sRequiredLabels", "must-have-owner", "dryrun", [], at(1)),
        ("gatekeeper", "K8sPSPPrivilegedContainer", "no-privileged", "deny", [], at(6)),
        ("gatekeeper", "K8sAllowedRepos", "repos", "scoped", ["warn", "deny"], at(10)),
        (
            "validating-admission-policy",
            "ValidatingAdmissionPolicyBinding",
            "replicas-limit",
            "Warn,Audit",
            [],
            at(19),
        ),
    ]


# ------------------------------------------------------------------------------------ Flux


def test_flux_helm_releases_versions_and_lines() -> None:
    records = code(
        """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: podinfo, namespace: apps}
        spec:
          interval: 10m
          chart:
            spec:
              chart: podinfo
              version: 6.5.4
              sourceRef: {kind: HelmRepository, name: podinfo, namespace: flux-system}
          valuesFrom:
            - {kind: ConfigMap, name: podinfo-values}
        ---
        apiVersion: helm.toolkit.fluxcd.io/v2beta1
        kind: HelmRelease
        metadata: {name: unpinned}
        spec:
          chart:
            spec:
              chart: redis
              sourceRef: {kind: HelmRepository, name: bitnami}
        ---
        apiVersion: helm.toolkit.fluxcd.io/v2beta2
        kind: HelmRelease
        metadata: {name: latest}
        spec:
          chart:
            spec:
              chart: nightly
              version: "v0.0.0-latest"
              sourceRef: {kind: HelmRepository, name: nightly}
        ---
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: oci}
        spec:
          chartRef: {kind: OCIRepository, name: podinfo-oci}
        """
    )
    assert only(records, "helm_releases") == [
        HelmRelease(
            defined_by="flux",
            name="podinfo",
            namespace="apps",
            chart="podinfo",
            version="6.5.4",
            version_line=9,
            repository="HelmRepository/flux-system/podinfo",
            values_files=["ConfigMap/podinfo-values"],
            source=at(1),
        ),
        HelmRelease(
            defined_by="flux",
            name="unpinned",
            chart="redis",
            repository="HelmRepository/bitnami",
            source=at(14),
        ),
        HelmRelease(
            defined_by="flux",
            name="latest",
            chart="nightly",
            version="v0.0.0-latest",
            version_line=30,
            repository="HelmRepository/nightly",
            source=at(23),
        ),
        HelmRelease(
            defined_by="flux",
            name="oci",
            chart="podinfo-oci",
            chart_ref="OCIRepository/podinfo-oci",
            repository="OCIRepository/podinfo-oci",
            source=at(33),
        ),
    ]


def test_flux_kustomizations_and_sources() -> None:
    records = code(
        """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: apps, namespace: flux-system}
        spec:
          interval: 10m
          path: ./apps/prod
          prune: true
          suspend: true
          sourceRef: {kind: GitRepository, name: flux-system}
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: infra}
        spec: {path: ./infra, sourceRef: {kind: GitRepository, name: flux-system}}
        ---
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata: {name: flux-system, namespace: flux-system}
        spec: {url: "ssh://git@github.com/acme/fleet", ref: {branch: main, tag: v1.0.0}}
        ---
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: HelmRepository
        metadata: {name: podinfo}
        spec: {url: "https://stefanprodan.github.io/podinfo"}
        ---
        apiVersion: source.toolkit.fluxcd.io/v1beta2
        kind: OCIRepository
        metadata: {name: podinfo-oci}
        spec: {url: "oci://ghcr.io/stefanprodan/charts/podinfo", ref: {semver: ">=6.0.0"}}
        ---
        apiVersion: source.toolkit.fluxcd.io/v1beta2
        kind: Bucket
        metadata: {name: artifacts}
        spec: {endpoint: minio.local:9000, bucketName: fleet}
        """
    )
    assert records.flux_kustomizations == [
        FluxKustomization(
            name="apps",
            namespace="flux-system",
            path="./apps/prod",
            source_ref="GitRepository/flux-system",
            prune=True,
            suspend=True,
            interval="10m",
            lines={"suspend": 8, "prune": 7},
            source=at(1),
        ),
        FluxKustomization(
            name="infra", path="./infra", source_ref="GitRepository/flux-system", source=at(11)
        ),
    ]
    assert records.flux_sources == [
        FluxSource(
            kind="GitRepository",
            name="flux-system",
            namespace="flux-system",
            url="ssh://git@github.com/acme/fleet",
            ref="v1.0.0",
            ref_line=19,
            source=at(16),
        ),
        FluxSource(
            kind="HelmRepository", name="podinfo", url="https://stefanprodan.github.io/podinfo", source=at(21)
        ),
        FluxSource(
            kind="OCIRepository",
            name="podinfo-oci",
            url="oci://ghcr.io/stefanprodan/charts/podinfo",
            ref=">=6.0.0",
            ref_line=29,
            source=at(26),
        ),
        FluxSource(kind="Bucket", name="artifacts", url="minio.local:9000", source=at(31)),
    ]
    assert records.kustomizations == []


# ----------------------------------------------------------------------------------- Argo CD

ARGO_CHART = """
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: grafana, namespace: argocd}
spec:
  project: platform
  source:
    repoURL: https://grafana.github.io/helm-charts
    chart: grafana
    targetRevision: 8.5.1
    helm: {valueFiles: [values-prod.yaml]}
  destination: {server: https://kubernetes.default.svc, namespace: monitoring}
  syncPolicy:
    automated: {prune: true}
"""


def test_argo_application_with_helm_chart_source() -> None:
    records = code(ARGO_CHART)
    assert records.argo_apps == [
        ArgoApplication(
            name="grafana",
            namespace="argocd",
            project="platform",
            repo_url="https://grafana.github.io/helm-charts",
            chart="grafana",
            target_revision="8.5.1",
            automated=True,
            prune=True,
            self_heal=False,
            destination_namespace="monitoring",
            source=at(1),
        )
    ]
    assert records.helm_releases == [
        HelmRelease(
            defined_by="argocd",
            name="grafana",
            namespace="monitoring",
            chart="grafana",
            version="8.5.1",
            version_line=9,
            repository="https://grafana.github.io/helm-charts",
            values_files=["values-prod.yaml"],
            source=at(1),
        )
    ]


def test_argo_application_live_status_and_git_path_source() -> None:
    obj: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "mealie", "namespace": "argocd"},
        "spec": {
            "source": {
                "repoURL": "https://git.example.com/apps.git",
                "path": "mealie",
                "targetRevision": "main",
            },
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
        "status": {"sync": {"status": "OutOfSync"}, "health": {"status": "Degraded"}},
    }
    source = LiveRef(cluster="lab", namespace="argocd", object_kind="Application", name="mealie")
    records = records_from_object(obj, source, "live")
    assert only(records, "argo_apps") == [
        ArgoApplication(
            name="mealie",
            namespace="argocd",
            repo_url="https://git.example.com/apps.git",
            path="mealie",
            target_revision="main",
            automated=True,
            prune=True,
            self_heal=True,
            sync_status="OutOfSync",
            health_status="Degraded",
            source=source,
        )
    ]


def test_argo_multi_source_manual_sync_and_disabled_automation() -> None:
    records = code(
        """
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {name: multi}
        spec:
          sources:
            - repoURL: https://git.example.com/values.git
              targetRevision: main
              ref: values
            - repoURL: https://charts.example.com
              chart: app
              targetRevision: 1.2.3
        ---
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {name: off}
        spec:
          source: {repoURL: https://git.example.com/a.git, path: a}
          syncPolicy: {automated: {enabled: false, prune: true}}
        """
    )
    multi, off = records.argo_apps
    assert (multi.repo_url, multi.chart, multi.target_revision, multi.automated) == (
        "https://git.example.com/values.git",
        None,
        "main",
        False,
    )
    assert [(h.name, h.chart, h.version, h.version_line) for h in records.helm_releases] == [
        ("multi", "app", "1.2.3", 11)
    ]
    assert (off.automated, off.prune, off.sync_status, off.health_status) == (False, True, None, None)


# ------------------------------------------------------------------------------------- Lists


def test_list_items_get_their_own_lines_in_code() -> None:
    records = code(
        """
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: Namespace
            metadata: {name: a}
          - "not an object"
          - apiVersion: apps/v1
            kind: Deployment
            metadata: {name: b}
            spec:
              template:
                spec:
                  containers:
                    - name: c
                      image: c:1
        """
    )
    assert [(n.name, n.source) for n in records.namespaces] == [("a", at(4))]
    [workload] = records.workloads
    assert (workload.source, workload.containers[0].source, workload.containers[0].image_line) == (
        at(8),
        at(15),
        16,
    )


def test_live_list_items_get_their_own_live_refs() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "DeploymentList",
        "items": [
            {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "web", "namespace": "apps"}},
            {
                "kind": "PersistentVolumeClaim",
                "apiVersion": "v1",
                "metadata": {"name": "data", "namespace": "apps"},
            },
        ],
    }
    records = records_from_object(obj, LiveRef(cluster="lab", object_kind="List", name=""), "live")
    assert [w.source for w in records.workloads] == [
        LiveRef(cluster="lab", namespace="apps", object_kind="Deployment", name="web")
    ]
    assert [p.source for p in records.pvcs] == [
        LiveRef(cluster="lab", namespace="apps", object_kind="PersistentVolumeClaim", name="data")
    ]


def test_alert_rules_in_inline_helm_values_of_flux_and_argo() -> None:
    records = code(
        """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: kps, namespace: monitoring}
        spec:
          chart: {spec: {chart: kube-prometheus-stack, version: 66.2.1}}
          values:
            additionalPrometheusRulesMap:
              lab:
                groups:
                  - name: lab
                    rules:
                      - alert: InlineFlux
                        expr: up == 0
        ---
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {name: prom}
        spec:
          source:
            repoURL: https://prometheus-community.github.io/helm-charts
            chart: prometheus
            targetRevision: 25.27.0
            helm:
              valuesObject:
                serverFiles:
                  alerting_rules.yml:
                    groups:
                      - name: argo
                        rules:
                          - alert: InlineArgo
                            expr: up == 0
        """
    )
    assert records.alert_rules == [
        AlertRule(alert="InlineFlux", expr="up == 0", group="lab", source=at(12)),
        AlertRule(alert="InlineArgo", expr="up == 0", group="argo", source=at(30)),
    ]
    assert [(h.defined_by, h.name, h.version, h.version_line) for h in records.helm_releases] == [
        ("flux", "kps", "66.2.1", 5),
        ("argocd", "prom", "25.27.0", 22),
    ]


def test_typed_api_list_items_take_kind_and_api_version_from_the_list() -> None:
    obj = {
        "apiVersion": "apps/v1",
        "kind": "DeploymentList",
        "items": [{"metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 2}}],
    }
    records = records_from_object(obj, LiveRef(cluster="lab", object_kind="DeploymentList", name=""), "live")
    assert [(w.kind, w.name, w.replicas, w.source) for w in records.workloads] == [
        (
            "Deployment",
            "web",
            2,
            LiveRef(cluster="lab", namespace="shop", object_kind="Deployment", name="web"),
        )
    ]
    assert "kind" not in obj["items"][0]  # the caller's object is left untouched
