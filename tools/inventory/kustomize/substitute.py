"""Flux ``postBuild`` substitution: ``${VAR}``, ``${VAR:=default}`` and ``${VAR:-default}`` in built objects.

Variables come from ``postBuild.substitute`` and, in order, from ``substituteFrom`` ConfigMaps and
Secrets found in the repo (written as objects, or made by a generator); a later source does not
override an earlier one's variable, as in Flux, except that ``substitute`` wins over both. ``$${VAR}``
is an escaped literal. An object annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled`` is
left alone. A value that came from a Secret never enters an object: it is replaced by its redaction
fingerprint, so nothing downstream (a record, a rendered chart, a report) can hold it. A scalar that
is exactly one variable takes the YAML type of its value (``replicas: ${N}`` becomes a number), as
Flux's substitution of the YAML text does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from tools.redact import fingerprint as redact_fingerprint

_VAR = re.compile(r"\$(\$?)\{([_a-zA-Z][_a-zA-Z0-9]*)(?::?([=-])([^}]*))?\}")
_DISABLED = "kustomize.toolkit.fluxcd.io/substitute"


@dataclass
class Variables:
    values: dict[str, str] = field(default_factory=dict)
    secret: set[str] = field(default_factory=set)
    """Names whose value came from a Secret (shown as a fingerprint, never as the value)."""

    def add(self, name: str, value: str, secret: bool, override: bool = False) -> None:
        if override or name not in self.values:
            self.values[name] = value
            if secret:
                self.secret.add(name)
            else:
                self.secret.discard(name)

    def value(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is not None and name in self.secret:
            return fingerprint(value)
        return value


def fingerprint(value: str) -> str:
    """The redactor's fingerprint of a secret value (``<redacted:sha256:...>``)."""
    return redact_fingerprint(value)


def substitute(obj: Any, variables: Variables) -> Any:
    """``obj`` with every variable replaced (in place for mappings and lists; returns the new scalar)."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if isinstance(annotations, dict) and annotations.get(_DISABLED) == "disabled":
        return obj
    return _walk(obj, variables)


def _walk(node: Any, variables: Variables) -> Any:
    if isinstance(node, dict):
        for key in list(node):
            node[key] = _walk(node[key], variables)
        return node
    if isinstance(node, list):
        for index, item in enumerate(node):
            node[index] = _walk(item, variables)
        return node
    if isinstance(node, str) and "${" in node:
        return _scalar(node, variables)
    return node


def _scalar(text: str, variables: Variables) -> Any:
    whole = _VAR.fullmatch(text)

    def replace(match: re.Match[str]) -> str:
        if match.group(1):  # $${VAR}: an escaped literal
            return match.group(0)[1:]
        name, op, default = match.group(2), match.group(3), match.group(4)
        value = variables.value(name)
        if value is None or (op == "-" and value == ""):
            return default if op else ""
        return value

    out = _VAR.sub(replace, text)
    if whole is not None and not whole.group(1) and whole.group(2) not in variables.secret:
        try:
            typed = yaml.safe_load(out) if out else out
        except yaml.YAMLError:
            return out
        if isinstance(typed, bool | int | float):
            return typed
    return out
