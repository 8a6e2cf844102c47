"""The Kubernetes objects an estate's files declare, as manifests: YAML documents and Terraform resources.

A reader's script, not part of infra-audit: the Python standard library and PyYAML only, so a person
who does not trust the auditor can run the appendix's commands with ``python3`` alone. It shares no
code with infra-audit's parser (tree-sitter there; a small hand-written HCL reader here):

* every ``*.yaml``/``*.yml`` document with a ``kind`` (directories ``.git``, ``.terraform``,
  ``.terragrunt-cache`` and any named with ``--skip`` are not read);
* every Terraform ``resource "kubernetes_<kind>[_v1]" "NAME" { ... }`` block, its nested blocks and
  attributes turned into the manifest the provider sends (snake_case to camelCase, repeated blocks
  such as ``container`` into a ``containers`` list), and every ``kubernetes_manifest``'s ``manifest``;
  ``var.NAME`` resolves to the stack's ``terragrunt.hcl`` ``inputs`` or the variable's ``default``,
  an expression it cannot resolve stays a string starting with ``${``.

    python3 tools/checks/reproduce_scripts/k8s_objects.py ROOT     # one line per object: kind ns/name
"""

from __future__ import annotations

import functools
import os
import pickle
import re
import sys
from pathlib import Path
from typing import Any

import yaml

SKIPPED = {".git", ".terraform", ".terragrunt-cache"}
SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader, its libyaml build where PyYAML has one (the same documents, several times faster)."""


def load_all(text: str) -> list[Any]:
    """Every document of a YAML text, as ``yaml.safe_load_all`` reads them: read once per text and
    interpreter (``batch.py`` runs several scripts in one), a new copy each call (a script may change
    what it reads: a patch applied to a document)."""
    if text not in _YAML:
        _YAML[text] = pickle.dumps(list(yaml.load_all(text, Loader=SAFE)), pickle.HIGHEST_PROTOCOL)
    return list(pickle.loads(_YAML[text]))


_YAML: dict[str, bytes] = {}


KINDS = {
    "deployment": "Deployment",
    "stateful_set": "StatefulSet",
    "daemon_set": "DaemonSet",
    "daemonset": "DaemonSet",
    "job": "Job",
    "cron_job": "CronJob",
    "pod": "Pod",
    "namespace": "Namespace",
    "persistent_volume_claim": "PersistentVolumeClaim",
    "pod_disruption_budget": "PodDisruptionBudget",
    "horizontal_pod_autoscaler": "HorizontalPodAutoscaler",
    "network_policy": "NetworkPolicy",
    "resource_quota": "ResourceQuota",
    "limit_range": "LimitRange",
    "service": "Service",
    "config_map": "ConfigMap",
    "secret": "Secret",
    "service_account": "ServiceAccount",
    "role": "Role",
    "cluster_role": "ClusterRole",
    "role_binding": "RoleBinding",
    "cluster_role_binding": "ClusterRoleBinding",
}
LISTS = {
    "container": "containers",
    "init_container": "initContainers",
    "volume": "volumes",
    "volume_mount": "volumeMounts",
    "port": "ports",
    "env": "env",
    "env_from": "envFrom",
    "volume_claim_template": "volumeClaimTemplates",
    "rule": "rules",
    "subject": "subjects",
    "toleration": "tolerations",
    "image_pull_secrets": "imagePullSecrets",
    "ingress": "ingress",
    "egress": "egress",
    "from": "from",
    "to": "to",
    "match_expressions": "matchExpressions",
    "host_aliases": "hostAliases",
}
"""Terraform's repeated blocks and the manifest list each one makes."""
TOKEN = re.compile(
    r'\s+|#[^\n]*|//[^\n]*|/\*.*?\*/|<<-?(?P<tag>\w+)\n.*?\n\s*(?P=tag)(?=\n|$)|"(?:\\.|\$\{(?:[^{}]|\{[^{}]*\})*\}|[^"\\])*"'
    r'|-?\d+(?:\.\d+)?(?![\w.])|[A-Za-z_][\w\-]*(?:\.[\w\-*]+|\[(?:\d+|\*|"[^"]*")\])*(?:\((?:[^()"]|"[^"]*"|\([^()]*\))*\))?|[{}\[\]=,:()?<>!&|+*/%-]',
    re.S,
)


class Expr(str):
    """An expression this reader does not evaluate (a reference, a function call): kept as text."""


@functools.cache
def tokens(text: str) -> tuple[str, ...]:
    """The HCL tokens of a text, comments and blanks left out; one reading per text (``batch.py`` runs
    several scripts in one interpreter: they read each file once between them)."""
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"cannot read HCL at {text[pos : pos + 30]!r}")
        tok, pos = m.group(0), m.end()
        if not tok.isspace() and not tok.startswith(("#", "//", "/*")):
            out.append(tok)
    return tuple(out)


class Body:
    """A recursive reader of one HCL file's tokens: ``body()`` is a list of (name, labels, value)."""

    def __init__(self, toks: tuple[str, ...], variables: dict[str, Any]) -> None:
        self.t, self.i, self.vars = toks, 0, variables

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> str:
        self.i += 1
        return self.t[self.i - 1]

    def body(self, end: str | None = None) -> list[tuple[str, list[str], Any]]:
        items: list[tuple[str, list[str], Any]] = []
        while self.peek() is not None and self.peek() != end:
            name = self.take()
            if self.peek() == "=":
                self.take()
                items.append((name, [], self.expr()))
                continue
            labels = []
            while self.peek() not in ("{", None):
                labels.append(self.take().strip('"'))
            self.take()
            items.append((name, labels, self.body("}")))
            self.take()
        return items

    def expr(self) -> Any:
        parts = [self.value()]
        while self.peek() in ("?", ":", "==", "!", "&", "|", "+", "-", "*", "/", "%", "<", ">", "(", ")"):
            if self.peek() == ":" and len(parts) == 1:
                break
            parts.append(self.take())
            if self.peek() not in (",", "}", "]", None):
                parts.append(self.value())
        return parts[0] if len(parts) == 1 else Expr("${" + " ".join(map(str, parts)) + "}")

    def value(self) -> Any:
        tok = self.take()
        if tok in ("{", "[") and self.peek() == "for":
            return self.skip_for(tok)
        if tok == "{":
            out: dict[str, Any] = {}
            while self.peek() != "}":
                key = self.take().strip('"')
                self.take()  # = or :
                out[key] = self.expr()
                if self.peek() == ",":
                    self.take()
            self.take()
            return out
        if tok == "[":
            items = []
            while self.peek() != "]":
                items.append(self.expr())
                if self.peek() == ",":
                    self.take()
            self.take()
            return items
        if tok.startswith('"'):
            return self.string(tok[1:-1])
        if tok.startswith("<<"):
            lines = tok.split("\n")[1:-1]
            return "\n".join(lines) + "\n"
        if re.fullmatch(r"-?\d+", tok):
            return int(tok)
        if re.fullmatch(r"-?\d+\.\d+", tok):
            return float(tok)
        if tok in ("true", "false"):
            return tok == "true"
        if tok == "null":
            return None
        if tok.startswith("var.") and tok[4:] in self.vars:
            return self.vars[tok[4:]]
        return Expr("${" + tok + "}")

    def skip_for(self, opening: str) -> Expr:
        """A ``for`` expression (``[for x in xs : f(x)]``, ``{for k, v in m : k => v}``): not evaluated."""
        depth = 1
        while depth:
            tok = self.take()
            depth += tok in ("{", "[") or -(tok in ("}", "]"))
        return Expr("${" + opening + "for ...}")

    def string(self, raw: str) -> str:
        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            value = self.vars.get(name[4:]) if name.startswith("var.") else None
            return str(value) if isinstance(value, (str, int)) else m.group(0)

        text = re.sub(r"\$\{\s*([\w.]+)\s*\}", sub, raw)
        text = text.replace('\\"', '"').replace("\\\\", "\\").replace("\\n", "\n")
        return text if "${" not in text else Expr(text)


def parse(text: str, variables: dict[str, Any] | None = None) -> list[tuple[str, list[str], Any]]:
    """The (name, labels, value) items of an HCL text, with ``var.NAME`` from ``variables``: read once
    per text and variables, a new copy each call (as ``load_all``)."""
    key = (text, pickle.dumps(variables or {}, pickle.HIGHEST_PROTOCOL))
    if key not in _HCL:
        _HCL[key] = pickle.dumps(Body(tokens(text), variables or {}).body(), pickle.HIGHEST_PROTOCOL)
    found: list[tuple[str, list[str], Any]] = pickle.loads(_HCL[key])
    return found


_HCL: dict[tuple[str, bytes], bytes] = {}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def manifest(items: list[tuple[str, list[str], Any]]) -> dict[str, Any]:
    """A Terraform resource body as the manifest it makes: blocks nest, attribute maps stay as written."""
    out: dict[str, Any] = {}
    for name, _labels, value in items:
        if isinstance(value, list) and value and isinstance(value[0], tuple):
            block = manifest(value)
            if name in LISTS:
                out.setdefault(LISTS[name], []).append(block)
            else:
                out[camel(name)] = block
        elif isinstance(value, list) and not value and name not in LISTS:
            out[camel(name)] = {}  # an empty block: present, with nothing set
        elif isinstance(value, list) and not value:
            out.setdefault(LISTS[name], []).append({})
        else:
            out[camel(name)] = value
    return out


def variables(stack: Path) -> dict[str, Any]:
    """``var.NAME`` of a stack: its variables' defaults, then its terragrunt.hcl inputs (literals only)."""
    found: dict[str, Any] = {}
    for tf in sorted(stack.glob("*.tf")):
        for name, labels, body in read_hcl(tf, {}):
            if name == "variable" and labels and isinstance(body, list):
                default = next((v for k, _, v in body if k == "default"), None)
                if default is not None and not isinstance(default, Expr):
                    found[labels[0]] = default
    grunt = stack / "terragrunt.hcl"
    if grunt.is_file():
        for name, _labels, value in read_hcl(grunt, {}):
            if name == "inputs" and isinstance(value, dict):
                found.update({k: v for k, v in value.items() if not isinstance(v, Expr)})
    return found


def warn(message: str) -> None:
    """``message`` on standard error, once per command: a stack's files are read for its variables,
    then for its objects, and a broken one said so each time (five times in one command)."""
    if message not in WARNED:
        WARNED.add(message)
        print(message, file=sys.stderr)


WARNED: set[str] = set()
"""What ``warn`` printed; the batch runner empties it before each command, as a command starts alone."""


def read_hcl(path: Path, variables: dict[str, Any]) -> list[tuple[str, list[str], Any]]:
    try:
        return parse(path.read_text(encoding="utf-8"), variables)
    except IndexError:
        warn(f"{path}: skipped, it ends inside a block (an unclosed brace)")
        return []
    except Exception as exc:  # a broken file is skipped; its text (a secret?) is never printed
        warn(f"{path}: skipped, {type(exc).__name__}")
        return []


def terraform_objects(path: Path, variables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The file's Kubernetes objects by resource address (``kubernetes_namespace.dbaas``)."""
    out = {}
    for name, labels, body in read_hcl(path, variables):
        if name != "resource" or len(labels) != 2 or not isinstance(body, list):
            continue
        rtype, address = labels[0], ".".join(labels)
        if rtype == "kubernetes_manifest":
            obj = next((v for k, _, v in body if k == "manifest"), None)
            if isinstance(obj, dict):
                out[address] = obj
            continue
        kind = KINDS.get(re.sub(r"_v\d+$", "", rtype.removeprefix("kubernetes_")))
        if rtype.startswith("kubernetes_") and kind is not None:
            out[address] = {"kind": kind, **manifest(body)}
    return out


REFERENCE = re.compile(r"^\$\{(kubernetes_\w+\.\w+)\.metadata\[0\]\.name\}$")


def stack_objects(files: list[Path]) -> list[dict[str, Any]]:
    """The objects of one Terraform directory; a ``metadata[0].name`` reference to one of them resolves."""
    found: dict[str, dict[str, Any]] = {}
    known: dict[Path, dict[str, Any]] = {}
    for path in files:
        if path.parent not in known:  # one stack's variables, read once for all its files
            known[path.parent] = variables(path.parent)
        found.update(terraform_objects(path, known[path.parent]))
    for obj in found.values():
        m = meta(obj)
        ref = REFERENCE.match(m.get("namespace") or "") if isinstance(m.get("namespace"), str) else None
        if ref is not None and ref.group(1) in found:
            m["namespace"] = meta(found[ref.group(1)]).get("name")
    return list(found.values())


def walk(root: Path, skip: tuple[str, ...] = ()) -> list[Path]:
    """Every file under ``root`` in path order, but in ``SKIPPED`` directories and under (or at) the
    ``skip`` paths, where a file is as its real path (symlinks resolved) says. Walked once per
    interpreter (``batch.py``), a new list each call."""
    key = (str(root), skip)
    if key not in _WALKED:
        _WALKED[key] = _walk(root, skip)
    return list(_WALKED[key])


_WALKED: dict[tuple[str, tuple[str, ...]], list[Path]] = {}


def _walk(root: Path, skip: tuple[str, ...]) -> list[Path]:
    skipped = {os.path.realpath(root / s) for s in skip}

    def kept(p: Path) -> bool:
        if not skipped:
            return True
        real = os.path.realpath(p)  # each of its directories looked up, not each skipped path tried
        ends = [*[i for i, c in enumerate(real) if c == "/"][1:], len(real)]
        return "/" not in skipped and not any(real[:i] in skipped for i in ends)

    return [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file() and not SKIPPED & set(p.relative_to(root).parts) and kept(p)
    ]


def objects(root: Path, skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every Kubernetes object of the estate's YAML and Terraform files, in path order: read once per
    interpreter (the scripts read, never change, them), a new list each call."""
    key = (str(root), skip)
    if key not in _OBJECTS:
        _OBJECTS[key] = _objects(root, skip)
    return list(_OBJECTS[key])


_OBJECTS: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}


def _objects(root: Path, skip: tuple[str, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stacks: dict[Path, list[Path]] = {}
    for path in walk(root, skip):
        if path.suffix in (".yaml", ".yml"):
            try:
                docs = load_all(path.read_text(encoding="utf-8"))
            except Exception as exc:  # a broken file is skipped; its text (a secret?) is never printed
                warn(f"{path}: skipped, {type(exc).__name__}")
                continue
            out += [d for d in docs if isinstance(d, dict) and isinstance(d.get("kind"), str)]
        elif path.suffix == ".tf":
            stacks.setdefault(path.parent, []).append(path)
    for files in stacks.values():
        out += stack_objects(files)
    return out


def d(obj: Any, key: str) -> dict[str, Any]:
    """A mapping's key, ``{}`` when absent or not a mapping."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}


def seq(obj: Any, key: str) -> list[Any]:
    """A mapping's key, ``[]`` when absent or not a list."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, list) else []


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


if __name__ == "__main__":
    for o in objects(Path(sys.argv[1]), tuple(sys.argv[2:])):
        print(o["kind"], f"{meta(o).get('namespace') or '-'}/{meta(o).get('name')}")
