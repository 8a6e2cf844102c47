"""Print one check's number over the estate's objects with its Helm releases rendered by ``helm template``.

``objects_count.py``'s counts, over the YAML and Terraform objects of the files (``k8s_objects.py``; a
chart directory's templates are not objects; an object a Flux Kustomization deploys is in its
``targetNamespace``) and every object ``helm template`` renders for the
releases the estate's Flux and Argo CD objects declare (``helm_releases.py``). ``--not-rendered=NS/NAME``
leaves a release out: the audit could not render it (its chart was not in its chart cache), so its
objects are in no number it reports either.

    python3 tools/checks/reproduce_scripts/rendered_count.py ROOT CHECK[:MEASURE] \
        [--not-rendered=NS/NAME ...] [SKIP_DIR ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from helm_releases import documents, placed, rendered
from k8s_objects import stack_objects, walk
from objects_count import CHECKS

LEFT_OUT = "--not-rendered="


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in CHECKS:
        print(
            "usage: rendered_count.py ROOT CHECK[:MEASURE] [--not-rendered=NS/NAME ...] [SKIP_DIR ...]; "
            f"CHECK one of {sorted(CHECKS)}",
            file=sys.stderr,
        )
        return 2
    root = Path(argv[0])
    left_out = {a.removeprefix(LEFT_OUT) for a in argv[2:] if a.startswith(LEFT_OUT)}
    skip = tuple(a for a in argv[2:] if not a.startswith(LEFT_OUT))
    stacks: dict[Path, list[Path]] = {}
    for path in walk(root, skip):
        if path.suffix == ".tf":
            stacks.setdefault(path.parent, []).append(path)
    terraform = [o for files in stacks.values() for o in stack_objects(files)]
    found = placed(root, documents(root, skip)) + terraform + rendered(root, skip, left_out)
    print(CHECKS[argv[1]](found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
