"""Kubernetes objects written as Terraform resources, for the generated bench estate.

The shapes are the bundled home-lab's (``examples/homelab/stacks``), varied: ``kubernetes_*`` workloads
of every kind (``_v1`` and unversioned types) with and without probes, limits and security contexts,
``Recreate`` and surge strategies, PVCs and ``volume_claim_template``s, init containers, secrets in
env, host paths and NFS volumes, ``lifecycle { ignore_changes }`` with and without the
``KYVERNO_LIFECYCLE_V1`` marker; Services, PDBs, HPAs, NetworkPolicies, namespaces with Pod Security
labels and Secrets. ``blk`` builds an HCL block from its parts, indented as ``terraform fmt`` would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from textwrap import indent

IMAGES = (
    "ghcr.io/{org}/{app}",
    "docker.io/{org}/{app}",
    "lscr.io/linuxserver/{app}",
    "quay.io/{org}/{app}",
    "registry.home.example.net/homelab/{app}",
)
WORKLOAD_TYPES = {
    "Deployment": ("kubernetes_deployment_v1", "kubernetes_deployment"),
    "StatefulSet": ("kubernetes_stateful_set_v1", "kubernetes_stateful_set"),
    "DaemonSet": ("kubernetes_daemon_set_v1", "kubernetes_daemonset"),
    "CronJob": ("kubernetes_cron_job_v1",),
    "Job": ("kubernetes_job_v1", "kubernetes_job"),
}
SECURITY = {
    "nonroot": [
        "run_as_non_root            = true",
        "run_as_user                = 10001",
        "allow_privilege_escalation = false",
        "read_only_root_filesystem  = true",
    ],
    "root": ["run_as_user = 0"],
    "privileged": ["privileged = true", 'capabilities {\n  add = ["NET_ADMIN", "SYS_ADMIN"]\n}'],
}


def ident(name: str) -> str:
    return name.replace("-", "_").replace(".", "_")


def blk(head: str, *parts: str) -> str:
    """An HCL block: ``head {``, the parts indented two spaces (empty parts dropped), ``}``."""
    body = "\n".join(p for p in parts if p)
    return f"{head} {{\n{indent(body, '  ')}\n}}" if body else f"{head} {{}}"


def labels(key: str, app: str) -> str:
    return f'{key} = {{\n  app = "{app}"\n}}'


def meta(name: str, namespace: str | None) -> str:
    ns = f"\nnamespace = {namespace}" if namespace else ""
    return blk("metadata", f'name      = "{name}"{ns}')


@dataclass
class Container:
    name: str
    image: str  # an HCL expression: quoted text or a template
    port: int
    probes: str = "both"  # none | readiness | both | startup
    resources: str = "full"  # full | requests | none | cpu_limit
    security: str = "none"  # none | nonroot | root | privileged
    env: int = 1
    mounts: list[tuple[str, str]] = field(default_factory=list)
    command: str | None = None

    def env_blocks(self) -> list[str]:
        var = self.name.upper().replace("-", "_")
        out = []
        for i in range(self.env):
            if i % 2 == 0:
                out.append(blk("env", f'name  = "{var}_OPT_{i}"', f'value = "value-{i}"'))
            else:
                ref = blk("secret_key_ref", f'name = "{self.name}-secrets"', f'key  = "key-{i}"')
                out.append(blk("env", f'name = "{var}_SECRET_{i}"', blk("value_from", ref)))
        return out

    def resource_block(self) -> str:
        if self.resources == "none":
            return ""
        cpu, mem = (self.port % 9 + 1) * 25, (self.port % 7 + 1) * 64
        requests = f'requests = {{\n  cpu    = "{cpu}m"\n  memory = "{mem}Mi"\n}}'
        limits = {
            "full": f'limits = {{\n  memory = "{mem * 2}Mi"\n}}',
            "cpu_limit": f'limits = {{\n  cpu    = "1"\n  memory = "{mem * 2}Mi"\n}}',
        }.get(self.resources, "")
        return blk("resources", requests, limits)

    def probe_blocks(self) -> list[str]:
        ready = blk(
            "readiness_probe",
            blk("http_get", 'path = "/healthz"', f"port = {self.port}"),
            "period_seconds = 10",
        )
        live = blk(
            "liveness_probe",
            blk("tcp_socket", f"port = {self.port}"),
            "initial_delay_seconds = 30",
            "period_seconds        = 20",
            "failure_threshold     = 6",
        )
        start = blk(
            "startup_probe", blk("exec", 'command = ["/bin/check", "--startup"]'), "failure_threshold = 30"
        )
        return {"readiness": [ready], "both": [ready, live], "startup": [ready, start]}.get(self.probes, [])

    def text(self, init: bool = False) -> str:
        parts = [f'name  = "{self.name}"\nimage = {self.image}']
        if self.command:
            parts.append(f"command = {self.command}")
        if not init:
            parts.append(blk("port", 'name           = "http"', f"container_port = {self.port}"))
        parts += self.env_blocks()
        if self.security != "none":
            parts.append(blk("security_context", *SECURITY[self.security]))
        parts.append(self.resource_block())
        if not init:
            parts += self.probe_blocks()
        parts += [blk("volume_mount", f'name       = "{v}"', f'mount_path = "{p}"') for v, p in self.mounts]
        return blk("init_container" if init else "container", "\n\n".join(p for p in parts if p))


VOLUMES = {
    "pvc": lambda arg: blk("persistent_volume_claim", f"claim_name = {arg}"),
    "secret": lambda arg: blk("secret", f'secret_name = "{arg}"'),
    "nfs": lambda arg: blk("nfs", 'server = "10.0.10.2"', f'path   = "{arg}"'),
    "host_path": lambda arg: blk("host_path", f'path = "{arg}"'),
    "empty_dir": lambda arg: blk("empty_dir", f'size_limit = "{arg}"'),
}


@dataclass
class Workload:
    kind: str
    rtype: str
    name: str
    namespace: str  # an HCL expression
    containers: list[Container]
    replicas: int = 1
    strategy: str | None = None  # Recreate | RollingUpdate | surge | OnDelete | None
    grace: int | None = None
    volumes: list[tuple[str, str]] = field(default_factory=list)  # (name, "kind:arg")
    vct: str | None = None  # size of a volume_claim_template
    ignore: str | None = None  # marker | plain | annotations | None
    schedule: str = "30 2 * * *"
    init: Container | None = None
    host_network: bool = False
    comment: str | None = None

    def pod_spec(self) -> str:
        parts = []
        if self.host_network:
            parts.append('host_network = true\ndns_policy   = "ClusterFirstWithHostNet"')
        if self.grace is not None:
            parts.append(f"termination_grace_period_seconds = {self.grace}")
        if self.kind in ("CronJob", "Job"):
            parts.append('restart_policy = "OnFailure"')
        if self.init is not None:
            parts.append(self.init.text(init=True))
        parts += [c.text() for c in self.containers]
        for name, spec in self.volumes:
            kind, _, arg = spec.partition(":")
            parts.append(blk("volume", f'name = "{name}"', VOLUMES[kind](arg)))
        return blk("spec", "\n\n".join(parts))

    def template(self) -> str:
        return blk("template", blk("metadata", labels("labels", self.name)), "", self.pod_spec())

    def spec(self) -> str:
        if self.kind == "CronJob":
            job = blk("job_template", "metadata {}", blk("spec", "backoff_limit = 2\n", self.template()))
            return blk(
                "spec",
                f'schedule                      = "{self.schedule}"',
                'concurrency_policy            = "Forbid"',
                "successful_jobs_history_limit = 1",
                "failed_jobs_history_limit     = 3\n",
                job,
            )
        if self.kind == "Job":
            return blk("spec", "backoff_limit = 4\n", self.template())
        head = [f'service_name = "{self.name}"'] if self.kind == "StatefulSet" else []
        if self.kind != "DaemonSet":
            head.append(f"replicas = {self.replicas}\n")
        if self.kind == "Deployment" and self.strategy in ("Recreate", "RollingUpdate"):
            head.append(blk("strategy", f'type = "{self.strategy}"') + "\n")
        elif self.kind == "Deployment" and self.strategy == "surge":
            rolling = blk("rolling_update", 'max_surge       = "1"', 'max_unavailable = "0"')
            head.append(blk("strategy", 'type = "RollingUpdate"', rolling) + "\n")
        elif self.kind == "StatefulSet" and self.strategy == "OnDelete":
            head.append(blk("update_strategy", 'type = "OnDelete"') + "\n")
        vct = ""
        if self.vct:
            requests = f'requests = {{\n  storage = "{self.vct}"\n}}'
            vct = "\n" + blk(
                "volume_claim_template",
                blk("metadata", 'name = "data"'),
                blk(
                    "spec",
                    'access_modes       = ["ReadWriteOnce"]',
                    'storage_class_name = "proxmox-csi"',
                    blk("resources", requests),
                ),
            )
        selector = blk("selector", labels("match_labels", self.name)) + "\n"
        return blk("spec", *head, selector, self.template(), vct)

    def lifecycle(self) -> str:
        if self.ignore is None:
            return ""
        if self.ignore == "annotations":
            return "\n" + blk("lifecycle", "ignore_changes = [metadata[0].annotations]")
        path = "spec[0].template[0].spec[0].dns_config"
        if self.kind == "CronJob":
            path = "spec[0].job_template[0].spec[0].template[0].spec[0].dns_config"
        marker = "# KYVERNO_LIFECYCLE_V1\n" if self.ignore == "marker" else ""
        return "\n" + blk("lifecycle", f"{marker}ignore_changes = [{path}]")

    def text(self) -> str:
        head = "".join(f"# {line}\n" for line in (self.comment or "").splitlines())
        meta_block = blk(
            "metadata",
            f'name      = "{self.name}"\nnamespace = {self.namespace}',
            labels("labels", self.name),
        )
        tail = ""
        if self.kind == "Job":
            tail = "\nwait_for_completion = true\n\n" + blk("timeouts", 'create = "5m"')
        body = blk(
            f'resource "{self.rtype}" "{ident(self.name)}"',
            meta_block + "\n",
            self.spec(),
            self.lifecycle(),
            tail,
        )
        return head + body + "\n"


def resource(rtype: str, name: str, *parts: str) -> str:
    return blk(f'resource "{rtype}" "{name}"', *parts) + "\n"


def service(name: str, namespace: str, port: int, headless: bool = False) -> str:
    spec = blk(
        "spec",
        'cluster_ip = "None"' if headless else "",
        labels("selector", name),
        blk("port", 'name        = "http"', f"port        = {port}", f"target_port = {port}"),
    )
    return resource("kubernetes_service_v1", ident(name), meta(name, namespace) + "\n", spec)


def pvc(name: str, namespace: str, size: str, storage_class: str) -> str:
    requests = f'requests = {{\n  storage = "{size}"\n}}'
    spec = blk(
        "spec",
        'access_modes       = ["ReadWriteOnce"]',
        f'storage_class_name = "{storage_class}"',
        blk("resources", requests),
    )
    return resource(
        "kubernetes_persistent_volume_claim_v1",
        ident(name),
        meta(name, namespace) + "\n",
        spec + "\n",
        "wait_until_bound = false",
    )


def pdb(name: str, namespace: str, min_available: int) -> str:
    spec = blk("spec", f"min_available = {min_available}", blk("selector", labels("match_labels", name)))
    return resource("kubernetes_pod_disruption_budget_v1", ident(name), meta(name, namespace) + "\n", spec)


def hpa(name: str, namespace: str) -> str:
    target = blk(
        "scale_target_ref", 'api_version = "apps/v1"', 'kind        = "Deployment"', f'name        = "{name}"'
    )
    metric = blk(
        "metric",
        'type = "Resource"',
        blk(
            "resource",
            'name = "cpu"',
            blk("target", 'type                = "Utilization"', "average_utilization = 70"),
        ),
    )
    spec = blk("spec", "min_replicas = 2\nmax_replicas = 6\n", target + "\n", metric)
    return resource(
        "kubernetes_horizontal_pod_autoscaler_v2", ident(name), meta(name, namespace) + "\n", spec
    )


def network_policy(name: str, namespace: str) -> str:
    source = blk("from", blk("namespace_selector", labels("match_labels", "traefik")))
    spec = blk("spec", "pod_selector {}", 'policy_types = ["Ingress"]\n', blk("ingress", source))
    return resource(
        "kubernetes_network_policy_v1",
        f"{ident(name)}_default_deny",
        meta(f"{name}-default-deny", namespace) + "\n",
        spec,
    )


def namespace(res: str, name_expr: str, pss: str | None) -> str:
    pss_labels = f'\nlabels = {{\n  "pod-security.kubernetes.io/enforce" = "{pss}"\n}}' if pss else ""
    return resource("kubernetes_namespace_v1", res, blk("metadata", f"name = {name_expr}{pss_labels}"))


def secret(name: str, namespace: str, plaintext: bool, n: int) -> str:
    data = ["password = var.db_password"]
    if plaintext:
        data = [f'password = "changeme-{n:04d}"', f'username = "{name}"']
    return resource(
        "kubernetes_secret_v1",
        ident(name),
        meta(name, namespace) + "\n",
        "data = {\n" + indent("\n".join(data), "  ") + "\n}",
    )
