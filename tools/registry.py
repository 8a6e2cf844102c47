"""The tool registry: typed functions become tools with a JSON schema, and every call goes through the ledger.

A tool is a plain function whose first parameter is its context (the estate ``Jail`` for repo tools,
the ``KubeBackend`` for kube tools) and whose other parameters are what a caller (a check, an agent,
a person at the CLI) supplies. The argument schema is derived from the signature and the description
from the docstring, so the two cannot drift apart. Arguments are validated before the call; a bad
argument comes back as an error result the caller can act on, never as an exception.

``Toolbox.call`` is the one path by which anything runs a tool during an audit: it validates, runs,
and records the result as evidence; recording redacts (a second time: the tools redact their own
output, and the ledger's pass is the guard that cannot be skipped). A repeated call with the same
arguments is answered from the ledger and counted as a repeat.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from domain.evidence import Evidence
from domain.results import ToolResult
from tools.evidence import Ledger

ToolGroup = Literal["repo", "kube"]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    group: ToolGroup
    description: str
    fn: Callable[..., ToolResult]
    params: type[BaseModel]

    @property
    def summary(self) -> str:
        """The description's first paragraph on one line: what a prompt lists next to the tool name."""
        return " ".join(self.description.split("\n\n", 1)[0].split())

    def input_schema(self) -> dict[str, Any]:
        schema = self.params.model_json_schema()
        schema.pop("title", None)
        return schema


def spec_from_function(fn: Callable[..., ToolResult], group: ToolGroup) -> ToolSpec:
    """Derive a tool spec from a function: its name, docstring and every parameter after the first."""
    signature = inspect.signature(fn, eval_str=True)
    fields: dict[str, Any] = {}
    for param in list(signature.parameters.values())[1:]:
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (param.annotation, default)
    params = create_model(f"{fn.__name__}_args", __config__=ConfigDict(extra="forbid"), **fields)
    description = inspect.cleandoc(fn.__doc__ or fn.__name__)
    return ToolSpec(name=fn.__name__, group=group, description=description, fn=fn, params=params)


def default_specs() -> list[ToolSpec]:
    """The tools every toolbox offers (built once per process: each spec is a pydantic model of its
    arguments, and a run makes a toolbox per research branch, challenger and recount)."""
    global _specs
    with _specs_lock:  # the research branches ask at once, in threads: build them once, not per thread
        if _specs is None:
            _specs = _build_specs()
    return list(_specs)


_specs: tuple[ToolSpec, ...] | None = None
_specs_lock = threading.Lock()


def _build_specs() -> tuple[ToolSpec, ...]:
    from tools.kube import kubectl
    from tools.repo import repo_count, repo_search
    from tools.repo_files import repo_list, repo_read

    specs = [spec_from_function(f, "repo") for f in (repo_search, repo_count, repo_read, repo_list)]
    specs += [
        spec_from_function(f, "kube")
        for f in (
            kubectl.kube_get,
            kubectl.kube_describe,
            kubectl.kube_top,
            kubectl.kube_api_resources,
            kubectl.kube_events,
        )
    ]
    return tuple(specs)


class Toolbox:
    """The tools of one run, bound to the estate jail, the cluster backend (if any) and the ledger."""

    def __init__(self, jail: Any, backend: Any | None, ledger: Ledger, specs: list[ToolSpec] | None = None):
        self.jail = jail
        self.backend = backend
        self.ledger = ledger
        all_specs = specs if specs is not None else default_specs()
        self._specs = {s.name: s for s in all_specs if s.group == "repo" or backend is not None}
        self._without_cluster = {s.name for s in all_specs if s.name not in self._specs}

    @property
    def specs(self) -> list[ToolSpec]:
        return list(self._specs.values())

    def names(self) -> list[str]:
        return sorted(self._specs)

    def call(self, name: str, args: dict[str, Any], agent: str | None = None) -> Evidence:
        """Validate, run, redact and record one tool call."""
        return self.run(name, args, agent)[0]

    def run(self, name: str, args: dict[str, Any], agent: str | None = None) -> tuple[Evidence, bool]:
        """Like ``call``, and whether the same call was already in the ledger (a repeat, answered from it)."""
        spec = self._specs.get(name)
        if spec is None and name in self._without_cluster:
            return self.ledger.record(
                ToolResult.fail(
                    name,
                    args,
                    command="",
                    error=f"{name} reads a cluster, and this audit has none; "
                    "run with --cluster live (kubeconfig) or --cluster DIR (a snapshot)",
                ),
                agent=agent,
            ), False
        if spec is None:
            return self.ledger.record(
                ToolResult.fail(
                    name,
                    args,
                    command="",
                    error=f"unknown tool {name!r}; available: {', '.join(self.names())}",
                ),
                agent=agent,
            ), False
        try:
            parsed = spec.params.model_validate(args)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}" for e in exc.errors()
            )
            return self.ledger.record(
                ToolResult.fail(name, args, command="", error=f"invalid arguments for {name}: {problems}"),
                agent=agent,
            ), False
        call_args = parsed.model_dump(exclude_unset=True)
        context = self.jail if spec.group == "repo" else self.backend
        return self.ledger.call(name, call_args, lambda: spec.fn(context, **call_args), agent=agent)
