"""Issue 9's performance question: a Flux estate of N releases of one generic chart, rendered by Helm's
engine, against the budget of the 1,600-file estate.

The estate has the shape of the bundled flux-homelab (``kubernetes/apps/<ns>/<app>/{ks.yaml,app/}``):
each app is a Flux Kustomization, a kustomization.yaml, an ``OCIRepository`` pinned by ``ref.tag`` and
a ``HelmRelease`` of podkit 4.0.1 through ``chartRef``, with its own image and port, so every
(chart, values) pair is rendered once and none is a cache hit. The chart comes from
``examples/charts/packaged`` through ``infra-audit charts import``, as an air-gapped user provides it.
Each measurement is a fresh interpreter running ``python -m pipeline.cli run ... --offline`` (imports,
parse, render, checks, challengers, synthesis, rendering, checkpoints), like ``bench/run.py``.

    .venv/bin/python bench/flux_releases.py                 # 100 releases, 3 runs each
    .venv/bin/python bench/flux_releases.py --releases 200 --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402

CHART = ROOT / "examples" / "charts" / "packaged" / "podkit-4.0.1.tgz"
REF = "oci://ghcr.io/example-org/charts/podkit:4.0.1"
NAMESPACES = ("home", "media", "network", "observability", "tools")

FLUX_KS = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {app}
  namespace: flux-system
spec:
  interval: 1h
  path: ./kubernetes/apps/{ns}/{app}/app
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  targetNamespace: {ns}
"""
APP_KUSTOMIZATION = """---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ./ocirepository.yaml
  - ./helmrelease.yaml
"""
OCI = """---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {app}
spec:
  interval: 15m
  ref:
    tag: 4.0.1
  url: oci://ghcr.io/example-org/charts/podkit
"""
RELEASE = """---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {app}
spec:
  chartRef:
    kind: OCIRepository
    name: {app}
  interval: 1h
  values:
    controllers:
      main:
        containers:
          app:
            image:
              repository: ghcr.io/example-org/{app}
              tag: 1.{i}.0
            probes:
              liveness:
                enabled: {probes}
              readiness:
                enabled: {probes}
            resources:
              requests:
                cpu: 10m
              limits:
                memory: {memory}Mi
    service:
      app:
        controller: main
        ports:
          http:
            port: {port}
"""
ROOT_FILES = {
    "kubernetes/flux/cluster/ks.yaml": """---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 30m
  url: https://github.com/example-org/bench-flux
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  interval: 30m
  path: ./kubernetes/apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
""",
}


def write_estate(root: Path, releases: int) -> None:
    """N apps spread over five namespaces, each in its own directory with its four files."""
    files = dict(ROOT_FILES)
    by_ns: dict[str, list[str]] = {}
    for i in range(releases):
        ns, app = NAMESPACES[i % len(NAMESPACES)], f"app{i:03d}"
        by_ns.setdefault(ns, []).append(app)
        base = f"kubernetes/apps/{ns}/{app}"
        files[f"{base}/ks.yaml"] = FLUX_KS.format(app=app, ns=ns)
        files[f"{base}/app/kustomization.yaml"] = APP_KUSTOMIZATION
        files[f"{base}/app/ocirepository.yaml"] = OCI.format(app=app)
        values = {"app": app, "i": i, "probes": str(i % 3 != 0).lower(), "memory": 64 + i, "port": 8000 + i}
        files[f"{base}/app/helmrelease.yaml"] = RELEASE.format(**values)
    for ns, apps in by_ns.items():
        listing = "".join(f"  - ./{app}/ks.yaml\n" for app in apps)
        files[f"kubernetes/apps/{ns}/kustomization.yaml"] = (
            "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n" + listing
        )
    files["kubernetes/apps/kustomization.yaml"] = (
        "---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        + "".join(f"  - ./{ns}\n" for ns in sorted(by_ns))
    )
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pipeline.cli", *args]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def timed_run(estate: Path, cache: Path, work: Path, env: dict[str, str]) -> tuple[float, str]:
    out = work / "out"
    start = time.perf_counter()
    done = cli(
        "run", str(estate), "--offline", "--date", "2025-01-01", "--out", str(out), "--state-dir",
        str(work / "state"), "--chart-cache", str(cache), env=env,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"audit of {estate} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    scope = next(
        (line for line in (out / "audit.md").read_text().splitlines() if line.startswith("**Scope**")), ""
    )
    return elapsed, scope


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-flux-") as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp / "pycache")}
        cache = tmp / "charts"
        imported = cli("charts", "import", str(CHART), "--as", REF, "--chart-cache", str(cache), env=env)
        if imported.returncode != 0:
            raise SystemExit(f"charts import failed: {imported.stderr.strip()}")
        flux, large = tmp / "flux", tmp / "large"
        write_estate(flux, opts.releases)
        generate(large)
        results: dict[str, list[float]] = {"flux": [], "large": []}
        scopes: dict[str, str] = {}
        print(f"load before: {load()}")
        for name, estate in (("flux", flux), ("large", large)):
            timed_run(estate, cache, tmp / f"warm-{name}", env)  # bytecode and page cache, not counted
        for n in range(opts.runs):  # in turns, so a load spike hits both
            for name, estate in (("flux", flux), ("large", large)):
                elapsed, scopes[name] = timed_run(estate, cache, tmp / f"{name}-{n}", env)
                results[name].append(elapsed)
        print(f"load after: {load()}")
        for name, times in results.items():
            label = f"flux, {opts.releases} releases" if name == "flux" else "large (1,600 files)"
            median = statistics.median(times)
            print(f"{label}: median {median:.2f} s, min {min(times):.2f} s over {len(times)} runs")
            print(f"  {scopes[name]}")
        ratio = statistics.median(results["flux"]) / statistics.median(results["large"])
        print(f"flux / large (medians, same run): {ratio:.2f}")


if __name__ == "__main__":
    main()
