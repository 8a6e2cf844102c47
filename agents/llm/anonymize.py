"""``--anonymize``: namespace and workload names pseudonymised in everything a model is sent.

``AnonymizingModel`` wraps the run's ``ModelClient``. Each request is rewritten on its way out: every
namespace and workload name of the estate (code and cluster) becomes a pseudonym (``anon-ns-3``,
``anon-wl-12``) in every string the request carries (system prompt, text, tool results, tool inputs
of earlier turns); each reply is rewritten back on its way in, so the tools run with the real names
and the report is written with them. The map is built from the inventory, in sorted order (the same
estate gives the same map: a resumed run sends the same pseudonyms), and never leaves the process:
what goes over the wire, and so into a cassette, holds only pseudonyms.

A name is replaced where it stands as a whole (between characters that cannot be part of a name:
``apps/shop/deployment.yaml`` becomes ``apps/anon-wl-2/deployment.yaml``), longest first. Kubernetes'
own namespaces (``default``, ``kube-system``...) identify nobody and stay. A name that is also a word
of the prompts' prose (``monitoring``) is replaced there too: the prompt reads oddly, nothing leaks.
JSON keys and protocol fields (ids, roles, tool names, the model) are never rewritten.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from agents.llm.protocol import ModelClient, ModelReply, ModelRequest, TextBlock, ToolUseBlock

KEPT = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
_FIELDS_KEPT = frozenset({"agent", "model", "id", "tool_use_id", "type", "role", "mode", "name"})
_EDGE = r"[A-Za-z0-9_]"


class Pseudonyms:
    """A reversible map of names to pseudonyms, applied to whole names in text."""

    def __init__(self, namespaces: Iterable[str], workloads: Iterable[str]) -> None:
        spaces = sorted({n for n in namespaces if n and n not in KEPT})
        loads = sorted({n for n in workloads if n and n not in KEPT} - set(spaces))
        self.forward_map = {n: f"anon-ns-{i}" for i, n in enumerate(spaces, start=1)}
        self.forward_map.update({n: f"anon-wl-{i}" for i, n in enumerate(loads, start=1)})
        self.reverse_map = {v: k for k, v in self.forward_map.items()}
        self._out = _pattern(self.forward_map)
        self._in = _pattern(self.reverse_map)

    def forward(self, text: str) -> str:
        return self._out.sub(lambda m: self.forward_map[m.group(0)], text) if self._out else text

    def reverse(self, text: str) -> str:
        return self._in.sub(lambda m: self.reverse_map[m.group(0)], text) if self._in else text


def _pattern(mapping: dict[str, str]) -> re.Pattern[str] | None:
    if not mapping:
        return None
    names = "|".join(re.escape(n) for n in sorted(mapping, key=lambda n: (-len(n), n)))
    return re.compile(f"(?<!{_EDGE})(?:{names})(?!{_EDGE})")


def _rewrite(value: Any, swap: Callable[[str], str], key: str = "", *, protocol: bool = True) -> Any:
    """Every string value of a JSON-shaped value through ``swap``. Keys are kept, and so are the
    protocol's own fields (``protocol``), but not inside a tool's input: that is all data."""
    if isinstance(value, str):
        return value if protocol and key in _FIELDS_KEPT else swap(value)
    if isinstance(value, dict):
        return {k: _rewrite(v, swap, k, protocol=protocol and k != "input") for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, swap, key, protocol=protocol) for v in value]
    return value


class AnonymizingModel:
    """A ``ModelClient`` that sends pseudonyms and hands back real names (see the module docstring)."""

    def __init__(self, inner: ModelClient, pseudonyms: Callable[[], Pseudonyms]) -> None:
        self.inner = inner
        self._build = pseudonyms
        self._map: Pseudonyms | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def endpoint(self) -> str:
        return self.inner.endpoint

    def close(self) -> None:
        self.inner.close()

    def pseudonyms(self) -> Pseudonyms:
        with self._lock:
            if self._map is None:
                self._map = self._build()
            return self._map

    def complete(self, request: ModelRequest) -> ModelReply:
        names = self.pseudonyms()
        masked = ModelRequest.model_validate(_rewrite(request.model_dump(), names.forward))
        reply = self.inner.complete(masked)
        return reply.model_copy(update={"content": [_unmask(b, names) for b in reply.content]})


def _unmask(block: TextBlock | ToolUseBlock, names: Pseudonyms) -> TextBlock | ToolUseBlock:
    if isinstance(block, TextBlock):
        return TextBlock(text=names.reverse(block.text))
    invalid = names.reverse(block.invalid_input) if block.invalid_input is not None else None
    return ToolUseBlock(
        id=block.id,
        name=block.name,
        input=_rewrite(block.input, names.reverse, protocol=False),
        invalid_input=invalid,
    )


def estate_pseudonyms(inventory: Any) -> Pseudonyms:
    """The map of an ``Inventory``: namespaces and workloads of the code and of the cluster."""
    sources = [inventory.code] + ([inventory.live] if inventory.live is not None else [])
    namespaces: set[str] = set()
    workloads: set[str] = set()
    for records in sources:
        namespaces.update(n.name for n in records.namespaces if n.name)
        namespaces.update(w.namespace for w in records.workloads if w.namespace)
        workloads.update(w.name for w in records.workloads if w.name)
    return Pseudonyms(namespaces, workloads)
