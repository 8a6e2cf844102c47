"""Generate a large, realistic infrastructure estate for the benchmarks: deterministic, seeded, offline.

The default is the size of a big home-lab: 110 Terragrunt stacks, 340 ``.tf`` files of about 50,000
lines, Flux/Kustomize/Argo CD YAML, Helm values with alert rules, runbooks with imperative steps,
scripts, dashboards and docs, 1,600 files in all. The HCL and YAML shapes come from the bundled
estates (``bench/estate_*.py``), varied so that the checks of the catalog have something to find
and the parsers see realistic input. The same arguments always write byte-identical files.

    .venv/bin/python bench/generate.py /tmp/big-estate          # prints the counts
    .venv/bin/python bench/generate.py /tmp/big-estate --seed 3 --stacks 60
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import estate_docs as D
from bench import estate_hcl as H
from bench import estate_workloads as K
from bench import estate_yaml as Y

APPS = (
    "adguard",
    "authentik",
    "bazarr",
    "bookstack",
    "calibre-web",
    "changedetection",
    "code-server",
    "cyberchef",
    "dashy",
    "duplicati",
    "emby",
    "esphome",
    "excalidraw",
    "filebrowser",
    "firefly",
    "freshrss",
    "frigate",
    "gitea",
    "gotify",
    "grocy",
    "heimdall",
    "home-assistant",
    "homebox",
    "immich",
    "invidious",
    "jellyfin",
    "jellyseerr",
    "joplin",
    "kavita",
    "keycloak",
    "komga",
    "lidarr",
    "linkding",
    "mealie",
    "memos",
    "minio",
    "miniflux",
    "mosquitto",
    "navidrome",
    "netbox",
    "nextcloud",
    "nodered",
    "ntfy",
    "ollama",
    "open-webui",
    "outline",
    "overseerr",
    "paperless",
    "photoprism",
    "pihole",
    "plex",
    "portainer",
    "prowlarr",
    "qbittorrent",
    "radarr",
    "readarr",
    "redis",
    "sabnzbd",
    "searxng",
    "semaphore",
    "sonarr",
    "speedtest",
    "stirling-pdf",
    "syncthing",
    "tandoor",
    "tautulli",
    "uptime-kuma",
    "vaultwarden",
    "vikunja",
    "wallabag",
    "wger",
    "wikijs",
    "woodpecker",
    "zigbee2mqtt",
    "zitadel",
    "n8n",
    "huginn",
    "kanboard",
    "leantime",
    "synapse",
    "element",
    "mastodon",
    "lemmy",
    "pixelfed",
    "peertube",
    "owncast",
    "audiobookshelf",
    "romm",
    "scrutiny",
    "netdata",
    "loki",
    "tempo",
    "mimir",
    "thanos",
    "victoria-metrics",
    "alloy",
    "vector",
    "influxdb",
    "telegraf",
    "unifi",
    "omada",
    "headscale",
    "cloudflared",
    "external-dns",
    "velero",
    "kopia",
    "harbor",
    "act-runner",
    "atuin",
    "actual",
    "linkwarden",
    "shlink",
    "plausible",
    "umami",
    "matomo",
    "gatus",
    "homarr",
)
ORGS = ("example-org", "linuxserver", "homelab", "acme", "selfhosted")
EXTRA_TF = ("helm.tf", "ops.tf", "policies.tf", "backup.tf", "network.tf", "data.tf")
MODULES = (
    "ingress-route",
    "middleware-chain",
    "service-monitor",
    "tls-route",
    "basic-auth-route",
    "ip-allowlist-route",
    "tcp-route",
    "redirect-route",
)
TOPICS = ("Single replica", "No CPU limits", "Privileged container", "Host networking", "Recreate strategy")
SUFFIXES = ("worker", "db", "backup", "agent", "cache", "web")


@dataclass
class EstateCounts:
    files: int = 0
    tf_files: int = 0
    tf_lines: int = 0
    hcl_files: int = 0  # Terragrunt .hcl (lock files not counted)
    yaml_files: int = 0
    yaml_docs: int = 0  # documents in the YAML files the parser reads (chart templates not counted)
    stacks: int = 0
    workloads_hcl: int = 0
    workloads_yaml: int = 0
    helm_releases: int = 0
    by_suffix: dict[str, int] = field(default_factory=dict)


class Writer:
    """Writes files under a root and keeps the counts the benchmark reports."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.counts = EstateCounts()

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        c = self.counts
        c.files += 1
        suffix = Path(rel).suffix or Path(rel).name
        c.by_suffix[suffix] = c.by_suffix.get(suffix, 0) + 1
        if rel.endswith(".tf"):
            c.tf_files += 1
            c.tf_lines += text.count("\n")
        elif rel.endswith(".hcl") and not rel.endswith(".terraform.lock.hcl"):
            c.hcl_files += 1
        elif rel.endswith((".yaml", ".yml")):
            c.yaml_files += 1
            if "/templates/" not in rel:
                c.yaml_docs += 1 + sum(1 for line in text.splitlines() if line == "---")


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def image(rng: random.Random, app: str, var: str) -> str:
    base = rng.choice(K.IMAGES).format(org=rng.choice(ORGS), app=app)
    style = pick(rng, {"var": 0.55, "tag": 0.25, "latest": 0.12, "untagged": 0.08})
    if style == "var":
        return f'"{base}:${{var.{var}}}"'
    if style == "tag":
        return f'"{base}:{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"'
    return f'"{base}:latest"' if style == "latest" else f'"{base}"'


def container(
    rng: random.Random, name: str, img: str, port: int, mounts: list[tuple[str, str]]
) -> K.Container:
    return K.Container(
        name=name,
        image=img,
        port=port,
        mounts=mounts,
        env=rng.randint(0, 3),
        probes=pick(rng, {"both": 0.45, "readiness": 0.25, "none": 0.25, "startup": 0.05}),
        resources=pick(rng, {"full": 0.5, "requests": 0.25, "none": 0.15, "cpu_limit": 0.1}),
        security=pick(rng, {"none": 0.55, "nonroot": 0.35, "root": 0.07, "privileged": 0.03}),
    )


class Stack:
    """One Terragrunt stack: terragrunt.hcl, main.tf, variables.tf, its extra .tf files and side files."""

    def __init__(
        self, rng: random.Random, w: Writer, app: str, index: int, extras: list[str], earlier: list[str]
    ) -> None:
        self.rng, self.w, self.app, self.index, self.extras = rng, w, app, index, extras
        self.dir = f"stacks/{app}"
        self.res = K.ident(app)
        self.ns = app if rng.random() < 0.85 else f"{app}-system"
        self.override = f"{app}-prod" if rng.random() < 0.1 else None
        self.ns_expr = "var.namespace"
        if rng.random() >= 0.7:
            self.ns_expr = f"kubernetes_namespace_v1.{self.res}.metadata[0].name"
        self.version_var = f"{self.res}_version"
        self.deps = rng.sample(earlier, k=min(len(earlier), rng.randint(0, 2)))
        self.kinds: list[str] = []

    def workload(self, i: int, kind: str) -> list[str]:
        rng, app = self.rng, self.app
        name = app if i == 0 else f"{app}-{SUFFIXES[i + (kind == 'StatefulSet')]}"
        port = 2000 + (self.index * 17 + i * 101) % 7000
        out: list[str] = []
        mounts: list[tuple[str, str]] = []
        volumes: list[tuple[str, str]] = []
        if kind == "StatefulSet":
            mounts.append(("data", "/var/lib/data"))
        elif kind in ("Deployment", "DaemonSet") and rng.random() < 0.55:
            claim = f"{name}-data"
            storage = rng.choice(("proxmox-csi", "nfs-client", "longhorn"))
            out.append(K.pvc(claim, self.ns_expr, f"{rng.choice((1, 5, 10, 50, 100))}Gi", storage))
            claim_ref = f"kubernetes_persistent_volume_claim_v1.{K.ident(claim)}.metadata[0].name"
            volumes.append(("data", f"pvc:{claim_ref}"))
            mounts.append(("data", "/data"))
        if rng.random() < 0.3:
            volumes.append(("config", f"secret:{name}-config"))
            mounts.append(("config", "/config"))
        if kind == "CronJob":
            volumes.append(("backups", f"nfs:/srv/nfs/backups/{app}"))
            mounts.append(("backups", "/backups"))
        if kind == "DaemonSet" and rng.random() < 0.5:
            volumes.append(("host", "host_path:/var/log"))
            mounts.append(("host", "/host/var/log"))
        containers = [container(rng, name, image(rng, app, self.version_var), port, mounts)]
        if rng.random() < 0.25:
            sidecar = image(rng, f"{app}-exporter", self.version_var)
            containers.append(container(rng, f"{name}-sidecar", sidecar, port + 1, []))
        if kind == "CronJob":
            containers[0].command = f'["/bin/sh", "-c", "{app}-cli dump > /backups/{app}/$(date +%F).dump"]'
        init = None
        if rng.random() < 0.25:
            init = K.Container(
                name="wait-for-db",
                image='"busybox:1.36"',
                port=0,
                env=0,
                resources=rng.choice(("full", "none")),
                command='["sh", "-c", "until nc -z db 5432; do sleep 2; done"]',
            )
        strategy = None
        if volumes and rng.random() < 0.5:
            strategy = "Recreate"
        elif kind == "Deployment":
            strategy = pick(rng, {"RollingUpdate": 0.4, "surge": 0.2, "none": 0.4})
        elif kind == "StatefulSet" and rng.random() < 0.2:
            strategy = "OnDelete"
        wl = K.Workload(
            kind=kind,
            rtype=rng.choice(K.WORKLOAD_TYPES[kind]),
            name=name,
            namespace=self.ns_expr,
            containers=containers,
            init=init,
            replicas=int(pick(rng, {"1": 0.55, "2": 0.3, "3": 0.15})),
            strategy=strategy,
            grace=rng.choice((30, 60, 120)) if rng.random() < 0.3 else None,
            volumes=volumes,
            vct=f"{rng.choice((5, 10, 20, 50))}Gi" if kind == "StatefulSet" else None,
            schedule=f"{rng.randint(0, 59)} {rng.randint(0, 5)} * * *",
            host_network=kind == "DaemonSet" and rng.random() < 0.5,
            comment=f"{name}: {kind.lower()} of the {app} stack." if rng.random() < 0.4 else None,
        )
        ignore = pick(rng, {"marker": 0.55, "plain": 0.1, "annotations": 0.05, "none": 0.3})
        wl.ignore = None if ignore == "none" else ignore
        self.kinds.append(kind)
        self.w.counts.workloads_hcl += 1
        out.append(wl.text())
        if kind in ("Deployment", "StatefulSet"):
            out.append(K.service(name, self.ns_expr, port, headless=kind == "StatefulSet"))
        if kind == "Deployment" and wl.replicas > 1 and rng.random() < 0.5:
            out.append(K.pdb(name, self.ns_expr, 1))
        return out

    def main_tf(self) -> str:
        rng = self.rng
        pss = pick(rng, {"": 0.5, "baseline": 0.25, "restricted": 0.15, "privileged": 0.1})
        parts = [
            f"# {self.app}: generated bench stack {self.index}.\n# Backups: see README.md.\n",
            H.required_providers(rng, "helm.tf" in self.extras, "ops.tf" in self.extras),
            K.namespace(self.res, "var.namespace", pss or None),
        ]
        weights = {"Deployment": 0.5, "StatefulSet": 0.25, "CronJob": 0.17, "DaemonSet": 0.04, "Job": 0.04}
        for i in range(int(pick(rng, {"1": 0.15, "2": 0.35, "3": 0.35, "4": 0.15}))):
            parts += self.workload(i, "Deployment" if i == 0 else pick(rng, weights))
        if rng.random() < 0.3:
            parts.append(K.secret(f"{self.app}-db", self.ns_expr, rng.random() < 0.4, self.index))
        if "Deployment" in self.kinds:
            parts.append(H.route_module(self.app, self.ns_expr, self.res, 2000 + (self.index * 17) % 7000))
        parts.append(
            f'locals {{\n  {self.res}_users = ["admin", "{self.app}-bot"]\n'
            f'  host_config = yamlencode({{ name = "{self.app}" }})\n}}\n'
        )
        return "\n".join(parts)

    def extra(self, name: str) -> str:
        rng, app, ns = self.rng, self.app, self.ns
        if name == "helm.tf":
            out = []
            for _ in range(rng.randint(1, 2)):
                mode = pick(rng, {"templatefile": 0.4, "yamlencode": 0.4, "set": 0.2})
                chart, pinned = rng.choice(H.HELM_CHARTS), rng.random() < 0.75
                out.append(H.helm_release(rng, app, self.ns_expr, chart, mode, pinned))
                self.w.counts.helm_releases += 1
                if mode == "templatefile" and not (self.w.root / self.dir / "values.yaml").exists():
                    self.w.write(f"{self.dir}/values.yaml", Y.helm_values(rng, app, rng.randint(0, 4)))
            return "\n".join(out)
        if name == "ops.tf":
            return H.provisioners(rng, app, ns, rng.randint(1, 3))
        if name == "policies.tf":
            return "\n".join(
                [
                    H.kyverno_policy(
                        f"{app}-require-limits",
                        rng.choice(("Audit", "Enforce")),
                        '{ resources = { limits = { memory = "?*" } } }',
                    ),
                    H.kyverno_policy(
                        f"{app}-disallow-latest",
                        rng.choice(("Audit", "Enforce")),
                        '{ image = "*:* & !*:latest" }',
                    ),
                    H.manifest_deployment(
                        f"{app}-exporter",
                        ns,
                        f"ghcr.io/example-org/{app}-exporter:latest",
                        rng.random() < 0.5,
                    ),
                ]
            )
        if name == "backup.tf":
            restic = K.Container(
                name="restic",
                image='"restic/restic:0.17.1"',
                port=0,
                env=2,
                mounts=[("backups", "/backups")],
                command='["restic", "backup", "/backups"]',
            )
            wl = K.Workload(
                kind="CronJob",
                rtype="kubernetes_cron_job_v1",
                name=f"{app}-offsite",
                namespace=self.ns_expr,
                containers=[restic],
                ignore="marker",
                volumes=[("backups", f"nfs:/srv/nfs/backups/{app}")],
                schedule=f"{rng.randint(0, 59)} 4 * * 0",
            )
            self.w.counts.workloads_hcl += 1
            self.kinds.append("CronJob")
            return wl.text()
        if name == "network.tf":
            hpa = [K.hpa(app, self.ns_expr)] if "Deployment" in self.kinds else []
            return "\n".join([K.network_policy(app, self.ns_expr), *hpa])
        modules = [H.remote_module(rng, app, i) for i in range(rng.randint(1, 2))]
        data = (
            f'data "kubernetes_config_map_v1" "{self.res}_cluster_info" {{\n  metadata {{\n'
            f'    name      = "cluster-info"\n    namespace = "kube-public"\n  }}\n}}\n'
        )
        return "\n".join([*modules, data])

    def build(self) -> None:
        rng, w = self.rng, self.w
        w.write(f"{self.dir}/terragrunt.hcl", H.terragrunt(self.app, self.override, self.deps))
        extras = {name: self.extra(name) for name in self.extras}
        w.write(f"{self.dir}/main.tf", self.main_tf())
        version = f"v{rng.randint(1, 4)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}"
        w.write(f"{self.dir}/variables.tf", H.variables(self.app, self.ns, version, rng.randint(2, 8)))
        for name, text in extras.items():
            w.write(f"{self.dir}/{name}", text)
        digest = hashlib.sha256(self.app.encode()).hexdigest()
        w.write(f"{self.dir}/.terraform.lock.hcl", H.LOCK_FILE.format(h1=digest[:44], h2=digest))
        w.write(f"{self.dir}/README.md", D.stack_readme(self.app, self.ns, self.kinds))
        for i in range(rng.randint(0, 3)):
            w.write(
                f"{self.dir}/files/{self.app}-{i}.conf",
                f"# {self.app} config {i}\nlisten = 0.0.0.0:{8000 + i}\nlog_level = info\n",
            )


def gitops(rng: random.Random, w: Writer, apps: list[str]) -> None:
    g = "gitops"
    w.write(f"{g}/clusters/prod/flux-system/gotk-sync.yaml", Y.gotk_sync("homelab"))
    w.write(f"{g}/clusters/prod/flux-system/kustomization.yaml", Y.kustomization_yaml(["gotk-sync.yaml"]))
    w.write(
        f"{g}/clusters/prod/infrastructure.yaml",
        Y.flux_kustomization("infrastructure", "./gitops/infrastructure", True, False, None),
    )
    w.write(
        f"{g}/clusters/prod/apps.yaml",
        Y.flux_kustomization("apps", "./gitops/apps", True, False, "infrastructure"),
    )
    w.write(
        f"{g}/clusters/prod/experiments.yaml",
        Y.flux_kustomization("experiments", "./gitops/experiments", False, True, None),
    )
    for i, app in enumerate(apps):
        d = f"{g}/apps/{app}"
        files = ["namespace.yaml"]
        w.write(f"{d}/namespace.yaml", Y.namespace_yaml(app, rng.choice((None, "baseline", "restricted"))))
        kinds = ["Deployment", *rng.sample(["StatefulSet", "CronJob", "Deployment"], k=rng.randint(0, 2))]
        for j, kind in enumerate(kinds):
            tag = rng.choice(("1.4.2", "2.0.1", "latest", "3.11.0", "0.9.7"))
            wl = Y.YamlWorkload(
                kind=kind,
                name=app if j == 0 else f"{app}-{kind.lower()}",
                ns=app,
                image=f"ghcr.io/{rng.choice(ORGS)}/{app}:{tag}",
                probes=pick(rng, {"both": 0.5, "readiness": 0.25, "none": 0.25}),
                resources=pick(rng, {"full": 0.5, "requests": 0.3, "none": 0.1, "cpu_limit": 0.1}),
                replicas=int(pick(rng, {"1": 0.5, "2": 0.35, "3": 0.15})),
                strategy=pick(rng, {"Recreate": 0.3, "surge": 0.3, "none": 0.4}),
                secure=rng.random() < 0.5,
            )
            file = f"{kind.lower()}{j or ''}.yaml"
            w.write(f"{d}/{file}", wl.documents(rng))
            w.counts.workloads_yaml += 1
            files.append(file)
        if rng.random() < 0.4:
            w.write(f"{d}/networkpolicy.yaml", Y.network_policy_yaml(app))
            files.append("networkpolicy.yaml")
        if rng.random() < 0.5:
            w.write(f"{d}/alerts.yaml", Y.alert_rules(rng, app, app, rng.randint(1, 4)))
            if rng.random() < 0.7:
                files.append("alerts.yaml")  # the others exist but no kustomization wires them in
        listed = files + (["missing-patch.yaml"] if i % 17 == 5 else [])
        w.write(f"{d}/kustomization.yaml", Y.kustomization_yaml(listed))
    w.write(f"{g}/apps/kustomization.yaml", Y.kustomization_yaml(apps))
    for chart, repo, version in H.HELM_CHARTS:
        d = f"{g}/infrastructure/{chart}"
        w.write(f"{d}/namespace.yaml", Y.namespace_yaml(chart, rng.choice((None, "privileged", "baseline"))))
        w.write(f"{d}/source.yaml", Y.helm_repository(chart, chart, repo))
        pinned = pick(rng, {"exact": 0.6, "range": 0.2, "star": 0.1, "none": 0.1})
        ver = {"exact": version, "range": ">=1.0.0", "star": "*", "none": None}[pinned]
        w.write(f"{d}/helmrelease.yaml", Y.helm_release_yaml(rng, chart, chart, chart, ver))
        w.counts.helm_releases += 1
        if rng.random() < 0.5:
            w.write(f"{d}/values.yaml", Y.helm_values(rng, chart, rng.randint(1, 3)))
        w.write(
            f"{d}/kustomization.yaml",
            Y.kustomization_yaml(["namespace.yaml", "source.yaml", "helmrelease.yaml"]),
        )
    w.write(f"{g}/infrastructure/kustomization.yaml", Y.kustomization_yaml([c for c, _, _ in H.HELM_CHARTS]))
    for i in range(20):
        app = apps[(i * 7) % len(apps)]
        w.write(f"{g}/argo/{app}.yaml", Y.argo_application(f"{app}-extra", rng.random() < 0.6))
    for name in ("platform-chart", "homelab-common", "backup-jobs", "edge-proxy"):
        for rel, text in Y.chart_files(name).items():
            w.write(f"charts/{name}/{rel}", text)


def docs(rng: random.Random, w: Writer, apps: list[str], stack_apps: list[str]) -> None:
    for i, app in enumerate(apps[:60]):  # every ninth runbook cites a file that does not exist
        path = f"stacks/{app}/main.tf" if app in stack_apps and i % 9 else f"stacks/{app}/old-main.tf"
        w.write(f"docs/runbooks/{app}.md", D.runbook(rng, app, app, path))
    for i in range(20):
        app = stack_apps[(i * 5) % len(stack_apps)]
        w.write(f"docs/decisions/{i + 1:04d}-{app}.md", D.decision(i + 1, app, TOPICS[i % len(TOPICS)]))
    for app in stack_apps[:40]:
        w.write(f"scripts/{app}-maintenance.sh", D.script(app))
    w.write(
        "README.md",
        "# Generated bench lab\n\nTerragrunt stacks in `stacks/`, Flux in `gitops/`, "
        "runbooks in `docs/runbooks/`.\n",
    )
    w.write(".woodpecker.yml", D.WOODPECKER)
    w.write(".github/workflows/ci.yaml", D.GITHUB_CI)
    w.write("renovate.json", D.RENOVATE)
    w.write(".infra-audit.yaml", D.INFRA_AUDIT)
    w.write("terragrunt.hcl", H.ROOT_TERRAGRUNT)


def assign_extras(rng: random.Random, stacks: int, count: int) -> list[list[str]]:
    """Spread ``count`` extra .tf files over the stacks, at most one of each kind per stack."""
    extras: list[list[str]] = [[] for _ in range(stacks)]
    order = list(range(stacks))
    rng.shuffle(order)
    for k in range(min(count, stacks * len(EXTRA_TF))):
        i = order[k % stacks]
        extras[i].append(EXTRA_TF[(k // stacks + i) % len(EXTRA_TF)])
    return [sorted(e) for e in extras]


def generate(
    root: Path, seed: int = 7, stacks: int = 110, tf_files: int = 340, total_files: int = 1600
) -> EstateCounts:
    """Write the estate under ``root`` (which must be empty or absent) and return its counts."""
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty; give an empty or new directory")
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    w = Writer(root)
    apps = [
        APPS[i % len(APPS)] + (f"-{i // len(APPS) + 1}" if i >= len(APPS) else "")
        for i in range(max(stacks, 60))
    ]
    stack_apps = apps[:stacks]
    extras = assign_extras(rng, stacks, max(0, tf_files - 2 * stacks - 3 * len(MODULES)))
    for i, app in enumerate(stack_apps):
        Stack(rng, w, app, i, extras[i], stack_apps[:i]).build()
        w.counts.stacks += 1
    for name in MODULES:
        w.write(f"modules/{name}/main.tf", H.MODULE_MAIN.format(name=name, res=K.ident(name)))
        w.write(f"modules/{name}/variables.tf", H.MODULE_VARIABLES)
        w.write(f"modules/{name}/outputs.tf", H.MODULE_OUTPUTS)
    gitops(rng, w, apps[:60])
    docs(rng, w, apps, stack_apps)
    i = 0
    while w.counts.files < total_files:  # dashboards and notes make up the rest, as in a real lab repo
        app = apps[i % len(apps)]
        if i % 2 == 0:
            w.write(f"dashboards/{app}-{i}.json", D.dashboard(app, rng.randint(2, 8)))
        else:
            w.write(f"docs/notes/{app}-{i}.md", f"# Notes on {app}\n\nMigrated in 2025; see stacks/{app}.\n")
        i += 1
    return w.counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("out", type=Path, help="directory to write (empty or absent)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stacks", type=int, default=110)
    parser.add_argument("--tf-files", type=int, default=340)
    parser.add_argument("--files", type=int, default=1600, help="files in all")
    args = parser.parse_args(argv)
    counts = asdict(generate(args.out, args.seed, args.stacks, args.tf_files, args.files))
    suffixes = counts.pop("by_suffix")
    for key, value in counts.items():
        print(f"{key:16} {value}")
    ranked = sorted(suffixes.items(), key=lambda kv: -kv[1])
    print("by suffix        " + ", ".join(f"{k} {v}" for k, v in ranked))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
