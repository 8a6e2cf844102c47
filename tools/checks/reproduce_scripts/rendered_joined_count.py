"""Print ``joined_count.py``'s namespace counts with the estate's Helm releases rendered by ``helm template``.

SEC-NO-NETPOL and SCA-NO-QUOTA, by ``joined_count.py``'s rules, over the objects ``rendered_count.py``
reads: the YAML documents of the files (a chart directory's templates are not objects; an object a
Flux Kustomization deploys is in its ``targetNamespace``), the Terraform ``kubernetes_*`` resources,
and every object ``helm template`` renders for the releases the estate's Flux and Argo CD objects
declare (``helm_releases.py``): the workloads a chart runs put their namespace in the count, and a
NetworkPolicy, ResourceQuota or LimitRange a chart renders covers its namespace as one written in a
file does. A release's namespace counts whether or not it was rendered (the check counts the release);
``--not-rendered=NS/NAME`` leaves out the objects of one the audit could not render. With ``--live``
the cluster's objects are joined as ``joined_count.py`` joins them.

    python3 tools/checks/reproduce_scripts/rendered_joined_count.py ROOT SEC-NO-NETPOL|SCA-NO-QUOTA \\
        [--live FILE ...] [--not-rendered=NS/NAME ...] [SKIP_DIR ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from helm_releases import documents, placed, rendered
from joined_count import JOINED, Estate, code_releases, joined, read_live, yaml_releases
from k8s_objects import stack_objects, walk
from objects_count import Obj

CHECKS = ("SEC-NO-NETPOL", "SCA-NO-QUOTA")
LEFT_OUT = "--not-rendered="


class RenderedEstate(Estate):
    """``joined_count.py``'s estate with the code's objects as written, placed and rendered."""

    def __init__(self, root: Path, skip: tuple[str, ...], live: list[Obj], left_out: set[str]) -> None:
        stacks: dict[Path, list[Path]] = {}
        for path in walk(root, skip):
            if path.suffix == ".tf":
                stacks.setdefault(path.parent, []).append(path)
        terraform = [o for files in stacks.values() for o in stack_objects(files)]
        self.root, self.skip, self.live = root, skip, live
        self.code = placed(root, documents(root, skip)) + terraform + rendered(root, skip, left_out)
        self.objs = joined(self.code, live)
        self.manifests: list[Obj] = []
        self.releases = code_releases(root, skip, self.code, self.manifests)
        self.live_releases = yaml_releases(live)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in CHECKS:
        usage = "usage: rendered_joined_count.py ROOT CHECK [--live FILE ...] [--not-rendered=NS/NAME ...]"
        usage += " [SKIP_DIR ...]"
        print(f"{usage}; CHECK one of {sorted(CHECKS)}", file=sys.stderr)
        return 2
    rest, live_sources, left_out, skip = argv[2:], [], set(), []
    while rest:
        arg = rest.pop(0)
        if arg == "--live" and rest:
            live_sources.append(rest.pop(0))
        elif arg.startswith(LEFT_OUT):
            left_out.add(arg.removeprefix(LEFT_OUT))
        else:
            skip.append(arg)
    estate = RenderedEstate(Path(argv[0]), tuple(skip), read_live(live_sources), left_out)
    print(JOINED[argv[1]](estate))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
