"""Kubernetes, Kustomize, Flux, Argo CD and Helm YAML for the generated bench estate.

The shapes are copied from the bundled FluxCD estate (``examples/gitops-base``) and the home-lab's
``gitops/`` (``examples/homelab``), then varied: workloads with and without probes and limits,
``:latest`` images, ``Recreate``, StatefulSets with ``volumeClaimTemplates``, CronJobs, PDBs and HPAs,
Flux ``Kustomization``s (pruning or not, one suspended), ``HelmRelease``s (pinned, ranges, ``*``),
PrometheusRules (some not wired into a kustomization), Helm values with alert rules, Argo CD
``Application``s and a few local Helm charts (templates are Go templating, not YAML).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from textwrap import indent

KUSTOMIZE = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


@dataclass
class YamlWorkload:
    kind: str  # Deployment | StatefulSet | DaemonSet | CronJob
    name: str
    ns: str
    image: str
    probes: str  # none | readiness | both
    resources: str  # full | requests | none | cpu_limit
    replicas: int
    strategy: str  # Recreate | surge | none
    secure: bool

    def container(self, rng: random.Random) -> str:
        out = f"""- name: {self.name}
  image: {self.image}
  ports:
    - name: http
      containerPort: {8000 + len(self.name)}
  env:
    - name: TZ
      value: Europe/Berlin
    - name: DB_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {self.name}-db
          key: password
"""
        if self.resources != "none":
            out += (
                f"  resources:\n    requests:\n      cpu: {rng.choice((10, 50, 100, 250))}m\n"
                f"      memory: {rng.choice((64, 128, 256, 512))}Mi\n"
            )
            out += {
                "full": f"    limits:\n      memory: {rng.choice((256, 512, 1024))}Mi\n",
                "cpu_limit": "    limits:\n      cpu: 500m\n      memory: 512Mi\n",
            }.get(self.resources, "")
        if self.probes in ("readiness", "both"):
            out += (
                "  readinessProbe:\n    httpGet:\n      path: /readyz\n      port: http\n"
                "    periodSeconds: 5\n"
            )
        if self.probes == "both":
            out += (
                "  livenessProbe:\n    httpGet:\n      path: /healthz\n      port: http\n"
                "    initialDelaySeconds: 10\n    periodSeconds: 20\n"
            )
        if self.secure:
            out += (
                "  securityContext:\n    allowPrivilegeEscalation: false\n"
                '    readOnlyRootFilesystem: true\n    capabilities:\n      drop: ["ALL"]\n'
            )
        return out + "  volumeMounts:\n    - name: data\n      mountPath: /data\n"

    def pod_spec(self, rng: random.Random, volumes: str) -> str:
        security = (
            "securityContext:\n  runAsNonRoot: true\n  seccompProfile:\n    type: RuntimeDefault\n"
            if self.secure
            else ""
        )
        restart = "restartPolicy: OnFailure\n" if self.kind == "CronJob" else ""
        body = restart + security + "containers:\n" + indent(self.container(rng), "  ") + volumes
        return "spec:\n" + indent(body, "  ")

    def cronjob(self, rng: random.Random) -> str:
        volumes = (
            f"volumes:\n  - name: data\n    nfs:\n      server: nas.example.internal\n"
            f"      path: /exports/backups/{self.name}\n"
        )
        return f"""apiVersion: batch/v1
kind: CronJob
metadata:
  name: {self.name}
  namespace: {self.ns}
spec:
  schedule: "{rng.randint(0, 59)} {rng.randint(0, 5)} * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
{indent(self.pod_spec(rng, volumes), "        ")}"""

    def documents(self, rng: random.Random) -> str:
        if self.kind == "CronJob":
            return self.cronjob(rng)
        sts = self.kind == "StatefulSet"
        head = f"serviceName: {self.name}\n" if sts else ""
        head += "" if self.kind == "DaemonSet" else f"replicas: {self.replicas}\n"
        if self.kind == "Deployment" and self.strategy == "Recreate":
            head += "strategy:\n  type: Recreate\n"
        elif self.kind == "Deployment" and self.strategy == "surge":
            head += (
                "strategy:\n  type: RollingUpdate\n  rollingUpdate:\n    maxSurge: 1\n    maxUnavailable: 0\n"
            )
        volumes = ""
        if not sts:
            volumes = (
                f"volumes:\n  - name: data\n    persistentVolumeClaim:\n      claimName: {self.name}-data\n"
            )
        tail = ""
        if sts:
            tail = (
                "volumeClaimTemplates:\n  - metadata:\n      name: data\n    spec:\n"
                '      accessModes: ["ReadWriteOnce"]\n      storageClassName: longhorn\n'
                "      resources:\n        requests:\n"
                f"          storage: {rng.choice((1, 5, 10, 20))}Gi\n"
            )
        label = f"app.kubernetes.io/name: {self.name}"
        spec = (
            f"{head}selector:\n  matchLabels:\n    {label}\ntemplate:\n  metadata:\n    labels:\n"
            f"      {label}\n{indent(self.pod_spec(rng, volumes), '  ')}{tail}"
        )
        docs = [
            f"apiVersion: apps/v1\nkind: {self.kind}\n{self.metadata()}  labels:\n    {label}\n"
            f"spec:\n{indent(spec, '  ')}",
            f"apiVersion: v1\nkind: Service\n{self.metadata()}spec:\n"
            + ("  clusterIP: None\n" if sts else "")
            + f"  selector:\n    {label}\n  ports:\n    - name: web\n      port: 80\n"
            "      targetPort: http\n",
        ]
        if not sts:
            docs.append(
                f"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {self.name}-data\n"
                f'  namespace: {self.ns}\nspec:\n  accessModes: ["ReadWriteOnce"]\n'
                f"  storageClassName: longhorn\n  resources:\n    requests:\n"
                f"      storage: {rng.choice((1, 2, 5))}Gi\n"
            )
        if self.replicas > 1:
            docs.append(
                f"apiVersion: policy/v1\nkind: PodDisruptionBudget\n{self.metadata()}spec:\n"
                f"  minAvailable: 1\n  selector:\n    matchLabels:\n      {label}\n"
            )
        if self.replicas > 1 and self.kind == "Deployment" and rng.random() < 0.5:
            docs.append(f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
{self.metadata()}spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {self.name}
  minReplicas: {self.replicas}
  maxReplicas: {self.replicas * 3}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
""")
        return "---\n".join(docs)

    def metadata(self) -> str:
        return f"metadata:\n  name: {self.name}\n  namespace: {self.ns}\n"


def namespace_yaml(ns: str, pss: str | None) -> str:
    labels = f"  labels:\n    pod-security.kubernetes.io/enforce: {pss}\n" if pss else ""
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n{labels}"


def network_policy_yaml(ns: str) -> str:
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
        f"  name: default-deny-ingress\n  namespace: {ns}\nspec:\n  podSelector: {{}}\n"
        '  policyTypes: ["Ingress"]\n'
    )


def kustomization_yaml(resources: list[str]) -> str:
    return KUSTOMIZE + "resources:\n" + "".join(f"  - {r}\n" for r in resources)


def flux_kustomization(name: str, path: str, prune: bool, suspend: bool, depends: str | None) -> str:
    extra = "  suspend: true\n" if suspend else ""
    extra += f"  dependsOn:\n    - name: {depends}\n" if depends else ""
    return f"""apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 10m
  path: {path}
  prune: {str(prune).lower()}
{extra}  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def gotk_sync(repo: str) -> str:
    return f"""# Generated by `flux bootstrap`, then edited: interval raised to 10m.
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  ref:
    branch: main
  secretRef:
    name: flux-system
  url: ssh://git@github.com/example-org/{repo}
---
{flux_kustomization("flux-system", "./gitops/clusters/prod", True, False, None)}"""


def helm_repository(name: str, ns: str, url: str) -> str:
    return (
        f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: {name}\n"
        f"  namespace: {ns}\nspec:\n  interval: 24h\n  url: {url}\n"
    )


def helm_release_yaml(rng: random.Random, name: str, ns: str, chart: str, version: str | None) -> str:
    pinned = f'      version: "{version}"\n' if version is not None else ""
    return f"""apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: {ns}
spec:
  interval: 30m
  chart:
    spec:
      chart: {chart}
{pinned}      sourceRef:
        kind: HelmRepository
        name: {chart}
  install:
    crds: CreateReplace
  upgrade:
    crds: CreateReplace
  values:
    replicaCount: {rng.choice((1, 2, 3))}
    resources:
      requests:
        cpu: 20m
        memory: 64Mi
      limits:
        memory: 256Mi
"""


def _rules(rng: random.Random, name: str, n: int, down: bool) -> str:
    out = ""
    for i in range(n):
        title = name.title().replace("-", "")
        expr = (
            f'up{{job="{name}"}} == 0'
            if down
            else f'rate(http_requests_total{{job="{name}",code=~"5.."}}[5m]) > {rng.randint(1, 9)}'
        )
        out += (
            f"- alert: {title}{'Down' if down else 'Errors'}{i}\n  expr: {expr}\n"
            f"  for: {rng.choice((5, 15, 30))}m\n  labels:\n"
            f"    severity: {rng.choice(('warning', 'critical'))}\n"
            f'  annotations:\n    summary: "{name} is failing ({{{{ $labels.instance }}}})"\n'
        )
    return out


def alert_rules(rng: random.Random, name: str, ns: str, n: int) -> str:
    return (
        f"apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: {name}-alerts\n"
        f"  namespace: {ns}\n  labels:\n    release: kube-prometheus-stack\nspec:\n  groups:\n"
        f"    - name: {name}\n      rules:\n{indent(_rules(rng, name, n, False), '        ')}"
    )


def helm_values(rng: random.Random, stack: str, alerts: int) -> str:
    out = f"""# {stack} values. Rendered with templatefile() from main.tf.

persistence:
  enabled: true
  size: {rng.choice((5, 10, 20, 50))}Gi

ingress:
  enabled: true
  ingressClassName: traefik
  hosts:
    - ${{host}}

resources:
  requests:
    cpu: 100m
    memory: 256Mi
  limits:
    memory: 1Gi
"""
    if alerts:
        out += (
            f"\nadditionalPrometheusRulesMap:\n  {stack}:\n    groups:\n      - name: {stack}.rules\n"
            f"        rules:\n{indent(_rules(rng, stack, alerts, True), '          ')}"
        )
    return out


def argo_application(app: str, pinned: bool) -> str:
    return f"""# {app}, from a third-party chart.
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {app}
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://charts.example.org/community
    chart: {app}
    targetRevision: {'"4.2.1"' if pinned else '"*"'}
    helm:
      releaseName: {app}
      valuesObject:
        ingress:
          enabled: true
          hosts:
            - host: {app}.home.example.net
  destination:
    server: https://kubernetes.default.svc
    namespace: {app}
  syncPolicy:
    automated:
      prune: false
      selfHeal: false
    syncOptions:
      - CreateNamespace=true
"""


def chart_files(name: str) -> dict[str, str]:
    full = '{{ include "chart.fullname" . }}'
    return {
        "Chart.yaml": f'apiVersion: v2\nname: {name}\nversion: 0.3.1\nappVersion: "1.0.0"\n',
        "values.yaml": f'replicaCount: 1\nimage:\n  repository: ghcr.io/example-org/{name}\n  tag: "1.0.0"\n',
        "templates/deployment.yaml": (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {full}\nspec:\n"
            "  replicas: {{ .Values.replicaCount }}\n  template:\n    spec:\n      containers:\n"
            "        - name: app\n"
            '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
        ),
        "templates/service.yaml": f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {full}\nspec:\n"
        "  ports:\n    - port: 80\n",
        "templates/_helpers.tpl": '{{- define "chart.fullname" -}}{{ .Release.Name }}{{- end }}\n',
    }
