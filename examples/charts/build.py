"""Package the bundled example charts from src/ into packaged/, byte for byte the same every time.

    .venv/bin/python examples/charts/build.py           # rewrite packaged/*.tgz
    .venv/bin/python examples/charts/build.py --check   # exit 1 if packaged/ differs from src/

The charts are packaged with Helm's own engine (helm_python.package). Helm stamps every archive
entry with the file's modification time, so each source tree is copied to a scratch directory and
every file and directory is set to one fixed time first; that is all it takes for the archives (and
their sha256 digests, which Flux and Helm indexes record) to be reproducible.

Order matters: the library chart podkit-common is packaged first and vendored into charts/ of both
majors of podkit, as `helm dependency build` would do from the OCI registry named in Chart.yaml.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
PACKAGED = HERE / "packaged"
FIXED_MTIME = 1767225600  # 2026-01-01T00:00:00Z

LIBRARY = "podkit-common"
# (source directory, library charts it vendors into charts/)
CHARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("podkit-common", ()),
    ("podkit-3", (LIBRARY,)),
    ("podkit-4", (LIBRARY,)),
    ("raw", ()),
)


def _pin_times(root: Path) -> None:
    for directory, _dirs, files in os.walk(root):
        for name in files:
            os.utime(Path(directory, name), (FIXED_MTIME, FIXED_MTIME))
        os.utime(directory, (FIXED_MTIME, FIXED_MTIME))


def build(out: Path) -> list[Path]:
    """Package every chart into ``out``; return the archives in build order."""
    import helm_python

    out.mkdir(parents=True, exist_ok=True)
    built: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="charts-build-") as scratch:
        for source, vendored in CHARTS:
            work = Path(scratch, source)
            shutil.copytree(SRC / source, work)
            if vendored:
                (work / "charts").mkdir()
                for lib in vendored:
                    shutil.copy2(built[lib], work / "charts" / built[lib].name)
            _pin_times(work)
            archive = Path(helm_python.package(work, destination=out))
            built[source] = archive
    return list(built.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with packaged/ instead of writing")
    args = parser.parse_args(argv)
    if not args.check:
        for old in PACKAGED.glob("*.tgz"):
            old.unlink()
        for archive in build(PACKAGED):
            print(archive.relative_to(HERE))
        return 0
    with tempfile.TemporaryDirectory(prefix="charts-check-") as fresh:
        archives = build(Path(fresh))
        names = sorted(a.name for a in archives)
        shipped = sorted(p.name for p in PACKAGED.glob("*.tgz"))
        stale = [n for n in names if not (PACKAGED / n).is_file() or (PACKAGED / n).read_bytes() != Path(fresh, n).read_bytes()]
        if stale or names != shipped:
            print(f"packaged/ is out of date: {', '.join(stale or shipped)}; run examples/charts/build.py", file=sys.stderr)
            return 1
    print("packaged/ matches src/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
