"""Time each cluster command of the numbers challenger's recount over a snapshot, one line per command.

The commands are the catalog's ``reproduce:`` options that read the cluster (a jq filter, or a script
with ``resources:``), run as the recount runs them (``reproduce_run.run_spec``: a child process per
command, the types' JSON through its pipe, one ``Listings`` for the whole recount). By default only
the options the recount would choose for this estate and cluster, for the checks that found something
(their detection's count is not 0: a check without a finding is not recounted); ``--all`` runs every
cluster option of the catalog. The commands of one check run together, as the recount runs them
(``run_all``: a count and its measures over the same types share one jq child); ``--alone`` runs
each in a call of its own. Each line: the check, the numbers' keys, the resources read and their
JSON's size, the wall time, the CPU of the children (``RUSAGE_CHILDREN``: the jq child and a
``$code`` child) and of this process, and what the commands printed. The 1-minute load average is
printed before and after: on a shared machine the wall time says little, the CPU more.

    .venv/bin/python bench/cluster_snapshot.py /tmp/snap-10k --pods 10000
    .venv/bin/python bench/recount_commands.py /tmp/snap-10k [--estate examples/homelab] [--all]
    .venv/bin/python bench/recount_commands.py /tmp/snap-10k --source /tmp/other-tree   # another tree

The code under test is imported from the working directory (``--source``: another checkout's tree).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _commands(estate: Path, snapshot: Path, date: str, every: bool) -> list[tuple[str, str, Any]]:
    """(check, key, spec) of each cluster command to time, in catalog order."""
    from tools.checks.reproduce import KUSTOMIZED, RENDERED, chosen, every_option, reads_cluster
    from tools.checks.spec import load_catalog

    if every:
        return [
            (spec.id, key, option)
            for spec in load_catalog()
            for key, declared in spec.reproduce.items()
            for option in every_option(declared)
            if reads_cluster(option)
        ]
    from agents.offline.challenge_numbers import cluster_facts
    from agents.offline.challenge_numbers import live_refs as numbers_live_refs
    from tools.checks.reproduce import Where
    from tools.checks.spec import CheckContext, get_detector
    from tools.evidence import Ledger
    from tools.inventory.build import build_inventory
    from tools.inventory.kustomize_scope import kustomize_namespaces
    from tools.kube.snapshot import SnapshotBackend
    from tools.registry import Toolbox
    from tools.sandbox import Jail

    snap = SnapshotBackend(snapshot)
    inventory = build_inventory(estate, cluster=snap)
    now = datetime.fromisoformat(date).replace(tzinfo=UTC)
    at = Where(estate=str(estate), cluster=str(snapshot), now=f"{date}T00:00:00Z", **cluster_facts(snap))
    ctx = CheckContext(
        inventory=inventory, toolbox=Toolbox(Jail(estate), snap, Ledger(10**6)), now=now, where=at
    )
    code = inventory.code
    counts = {
        **code.counts(),
        RENDERED: sum(r.objects for r in code.helm_renders if r.rendered),
        KUSTOMIZED: len(kustomize_namespaces(code)),
    }
    assert inventory.live is not None
    refs = numbers_live_refs(inventory.live)
    rows = []
    for spec in load_catalog():
        detection = get_detector(spec.id)(ctx)
        if not detection.applicable or not detection.count:
            continue
        live_items = any(str(loc.ref) in refs for loc in detection.locations)
        for key, declared in spec.reproduce.items():
            command = chosen(declared, counts, cluster=True, live_items=live_items)
            if command is not None and reads_cluster(command):
                rows.append((spec.id, key, command))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--estate", type=Path, default=ROOT / "examples" / "homelab")
    parser.add_argument("--date", default="2025-01-01", help="the audit clock ($now), as bench/phases.py")
    parser.add_argument("--all", action="store_true", help="every cluster option of the catalog")
    parser.add_argument("--only", help="only the checks whose id contains this")
    parser.add_argument("--alone", action="store_true", help="each command in a call of its own")
    parser.add_argument("--source", type=Path, help="import the code under test from this tree")
    args = parser.parse_args()
    sys.path.insert(0, str(args.source or Path.cwd()))

    from agents.offline.challenge_numbers import cluster_facts
    from tools.checks.reproduce import Where
    from tools.checks.reproduce_run import Listings, run_all
    from tools.kube.snapshot import SnapshotBackend
    from tools.sandbox import Jail

    estate, snapshot = args.estate.resolve(), args.snapshot.resolve()
    print(f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    t0 = time.perf_counter()
    commands = _commands(estate, snapshot, args.date, args.all)
    print(f"chose {len(commands)} commands in {time.perf_counter() - t0:.1f} s", flush=True)
    if args.only:
        commands = [c for c in commands if args.only in c[0]]
    backend = SnapshotBackend(snapshot)
    where = Where(
        estate=str(estate), cluster=str(snapshot), now=f"{args.date}T00:00:00Z", **cluster_facts(backend)
    )
    listings, jail = Listings(), Jail(estate)
    total_wall = total_cpu = 0.0
    batches: list[tuple[str, dict[str, Any]]] = []
    for check, key, spec in commands:  # by check, as the recount calls run_all (or one by one)
        if args.alone or not batches or batches[-1][0] != check or key in batches[-1][1]:
            batches.append((check, {}))
        batches[-1][1][key] = spec
    print(f"{'check':<32} {'keys':<20} {'reads':<40} {'MB':>6} {'wall':>6} {'child':>6} {'self':>6}  printed")
    for check, specs in batches:
        reads = sorted(
            {r for s in specs.values() for r in s.resources if where.served is None or r in where.served}
        )
        for name in reads:  # the listing is written once per recount: not in a command's time
            listings.text(backend, name)
        size = sum(len(listings.text(backend, name)) for name in reads) / 1e6
        kids, own, start = _cpu_children(), time.process_time(), time.perf_counter()
        printed = run_all(specs, jail, where, backend, listings)
        wall = time.perf_counter() - start
        child, mine = _cpu_children() - kids, time.process_time() - own
        total_wall, total_cpu = total_wall + wall, total_cpu + child + mine
        kinds = {"jq" if s.jq is not None else f"py {s.script}" for s in specs.values()}
        what = (" ".join(sorted(kinds)) + " " + ",".join(reads))[:40]
        shown = " ".join(str(p.value) if p.error is None else f"ERROR {p.error}" for p in printed.values())
        print(
            f"{check:<32} {'+'.join(specs)[:20]:<20} {what:<40}"
            f" {size:6.1f} {wall:6.2f} {child:6.2f} {mine:6.2f}  {shown}",
            flush=True,
        )
    print(f"total: {len(commands)} commands, wall {total_wall:.2f} s, CPU {total_cpu:.2f} s")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
