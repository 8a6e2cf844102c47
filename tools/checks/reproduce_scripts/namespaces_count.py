"""Print SEC-NO-PSS's numbers over the Namespaces an estate deploys, built as kustomize and Flux build them.

A reader's script (the standard library and PyYAML only; ``kustomize_build.py`` is its kustomize):

* each Flux ``Kustomization`` whose ``spec.path`` is a directory of the estate builds it (its
  kustomization, or one Flux makes of every manifest under it, a subdirectory with a kustomization
  built as one), then lays its ``components``, ``patches``, ``targetNamespace`` and
  ``commonMetadata`` over the build, and substitutes ``postBuild`` variables in its Namespaces
  (``substitute``, and the ``data`` of a ``substituteFrom`` ConfigMap of the estate);
* every kustomization no other one includes and no Flux path read is built as a root; one that fails
  to build is named on stderr, and the kustomizations it includes are built as roots instead;
* a YAML file no build read is read as written, and so is Terraform's ``kubernetes_namespace``.

One Namespace per name (the first built, in that order), the system ones (kube-system, kube-public,
kube-node-lease) left out. Refused (exit 3, one line): what ``kustomize_build.py`` does not build, a
Namespace variable no substitution defines, an Argo CD Application or ApplicationSet of the estate
that sets kustomize options (namespace, labels, annotations, patches, components).

    python3 tools/checks/reproduce_scripts/namespaces_count.py ROOT SEC-NO-PSS[:missing|:privileged] [SKIP..]
    python3 tools/checks/reproduce_scripts/namespaces_count.py ROOT --list [SKIP ...]  # name enforce-label
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from k8s_objects import d, load_all, meta, stack_objects, walk
from kustomize_build import (
    FILES,
    Build,
    BuildError,
    Res,
    Unsupported,
    build_dir,
    components,
    kfile,
    manifests,
    transform,
)

Obj = dict[str, Any]
SYSTEM = {"kube-system", "kube-public", "kube-node-lease"}
ENFORCE = "pod-security.kubernetes.io/enforce"
ARGO_OPTIONS = ("namespace", "commonLabels", "labels", "commonAnnotations", "patches", "components")
VARIABLE = re.compile(r"(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=]([^}]*))?\}")


def documents(files: list[Path]) -> dict[Path, list[Obj]]:
    out: dict[Path, list[Obj]] = {}
    for path in files:
        if path.suffix not in (".yaml", ".yml"):
            continue
        try:
            docs = load_all(path.read_text(encoding="utf-8"))
        except Exception as exc:  # a broken file is skipped; its text (a secret?) is never printed
            print(f"{path}: skipped, {type(exc).__name__}", file=sys.stderr)
            continue
        out[path.resolve()] = [d for d in docs if isinstance(d, dict) and isinstance(d.get("kind"), str)]
    return out


def generated(directory: Path, build: Build) -> list[Res]:
    """What Flux builds of a path without a kustomization: every manifest under it, in walk order,
    a subdirectory with a kustomization built as one (and not walked into)."""
    out: list[Res] = []
    for entry in sorted(directory.iterdir()):
        if entry.is_dir():
            out += build_dir(entry.resolve(), build) if kfile(entry) else generated(entry, build)
        elif entry.suffix in (".yaml", ".yml"):
            build.read.add(entry.resolve())
            out += manifests(entry)
    return out


def substitute(obj: Obj, spec: Obj, configmaps: dict[str, Obj], where: str) -> Obj:
    """Flux's ``postBuild`` over one Namespace: ``${VAR}``, ``${VAR:=default}``, ``$${VAR}`` kept."""
    text = json.dumps(obj)
    annotations = meta(obj).get("annotations") or {}
    if "$" not in text or annotations.get("kustomize.toolkit.fluxcd.io/substitute") == "disabled":
        return obj
    post = d(spec, "postBuild")
    variables: dict[str, str] = {}
    for item in post.get("substituteFrom") or []:
        if isinstance(item, dict) and item.get("kind") == "ConfigMap":
            variables.update(
                {str(k): str(v) for k, v in (configmaps.get(str(item.get("name"))) or {}).items()}
            )
    variables.update({str(k): str(v) for k, v in (post.get("substitute") or {}).items()})

    def value(found: re.Match[str]) -> str:
        escaped, name, default = found.groups()
        if escaped:
            return found.group(0)[1:]
        if name in variables:
            return json.dumps(variables[name])[1:-1]
        if default is not None:
            return default
        raise Unsupported(f"{where}: ${{{name}}} in a Namespace has no value this reader can read")

    return json.loads(VARIABLE.sub(value, text))


def flux_build(directory: Path, spec: Obj, configmaps: dict[str, Obj], build: Build, where: str) -> list[Obj]:
    objs = build_dir(directory, build) if kfile(directory) else generated(directory, build)
    common = d(spec, "commonMetadata")
    overlay = {
        "components": spec.get("components") or [],
        "patches": spec.get("patches") or [],
        "namespace": spec.get("targetNamespace"),
        "labels": [{"pairs": common.get("labels")}] if isinstance(common.get("labels"), dict) else [],
        "commonAnnotations": common.get("annotations"),
    }
    objs = transform(directory, overlay, components(directory, overlay, objs, build, ()), build)
    return [substitute(r.obj, spec, configmaps, where) for r in objs if r.obj.get("kind") == "Namespace"]


def kustomization(directory: Path) -> Obj:
    path = kfile(directory)
    try:
        k = yaml.safe_load(path.read_text(encoding="utf-8")) if path else None
    except Exception:  # the build names it, as kustomize would
        return {}
    return k if isinstance(k, dict) else {}


def includes(directory: Path) -> list[Path]:
    """The directories one kustomization lists (resources, bases, components)."""
    k = kustomization(directory)
    listed = [
        e for key in ("resources", "bases", "components") for e in (k.get(key) or []) if isinstance(e, str)
    ]
    return [p for p in ((directory / e).resolve() for e in listed) if p.is_dir()]


def refuse_argo(docs: dict[Path, list[Obj]]) -> None:
    for path, objs in docs.items():
        for o in objs:
            if not str(o.get("apiVersion", "")).startswith("argoproj.io/"):
                continue
            spec = (
                d(d(d(o, "spec"), "template"), "spec") if o.get("kind") == "ApplicationSet" else d(o, "spec")
            )
            sources: list[Any] = spec["sources"] if isinstance(spec.get("sources"), list) else []
            for source in [d(spec, "source"), *sources]:
                if any(d(source, "kustomize").get(k) for k in ARGO_OPTIONS):
                    raise Unsupported(f"{path}: Argo CD kustomize options are not built by this reader")


def namespaces(root: Path, skip: tuple[str, ...] = ()) -> list[Obj]:
    files = walk(root, skip)
    docs = documents(files)
    refuse_argo(docs)
    configmaps = {
        str(meta(o).get("name")): o.get("data") or {}
        for objs in docs.values()
        for o in objs
        if o["kind"] == "ConfigMap"
    }
    read: set[Path] = set()
    out: list[Obj] = []
    for path, objs in docs.items():
        for o in objs:
            spec = d(o, "spec")
            if not (
                str(o.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/")
                and o["kind"] == "Kustomization"
            ):
                continue
            target = (root / str(spec.get("path") or "")).resolve()
            if not (
                isinstance(spec.get("path"), str)
                and target.is_dir()
                and target.is_relative_to(root.resolve())
            ):
                continue
            build = Build()
            try:
                out += flux_build(target, spec, configmaps, build, f"{path}")
            except BuildError as exc:
                print(f"{path}: not built ({exc})", file=sys.stderr)
                continue
            read |= build.read
    kustomized = sorted({p.parent.resolve() for p in files if p.name in FILES})
    included = {d for k in kustomized for d in includes(k)}
    queue = [k for k in kustomized if k not in included]
    while queue:
        directory = queue.pop(0)
        path = kfile(directory)
        if path is None or path.resolve() in read or kustomization(directory).get("kind") == "Component":
            continue
        build = Build()
        try:
            built = build_dir(directory, build)
        except BuildError as exc:
            print(f"{directory}: not built ({exc}); what it includes is built alone", file=sys.stderr)
            queue += [d for d in includes(directory) if kfile(d) and d not in queue]
            continue
        read |= build.read
        out += [r.obj for r in built if r.obj.get("kind") == "Namespace"]
    out += [o for path, objs in docs.items() if path not in read for o in objs if o["kind"] == "Namespace"]
    stacks: dict[Path, list[Path]] = {}
    for path in files:
        if path.suffix == ".tf":
            stacks.setdefault(path.parent, []).append(path)
    out += [o for tf in stacks.values() for o in stack_objects(tf) if o.get("kind") == "Namespace"]
    unique: dict[str, Obj] = {}
    for o in out:
        unique.setdefault(str(meta(o).get("name")), o)
    return [o for name, o in unique.items() if name not in SYSTEM]


def enforce(o: Obj) -> Any:
    return (meta(o).get("labels") or {}).get(ENFORCE)


CHECKS = {
    "SEC-NO-PSS": lambda ns: sum(enforce(o) in (None, "privileged") for o in ns),
    "SEC-NO-PSS:missing": lambda ns: sum(enforce(o) is None for o in ns),
    "SEC-NO-PSS:privileged": lambda ns: sum(enforce(o) == "privileged" for o in ns),
}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in (*CHECKS, "--list"):
        print(f"usage: namespaces_count.py ROOT {{{'|'.join(CHECKS)}|--list}} [SKIP ...]", file=sys.stderr)
        return 2
    try:
        found = namespaces(Path(argv[0]), tuple(argv[2:]))
    except Unsupported as exc:
        print(f"namespaces_count.py: not built here: {exc}", file=sys.stderr)
        return 3
    if argv[1] == "--list":
        for o in sorted(found, key=lambda o: str(meta(o).get("name"))):
            print(meta(o).get("name"), enforce(o) or "-")
    else:
        print(CHECKS[argv[1]](found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
