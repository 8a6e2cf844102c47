"""Two package ``__init__`` files the graph imports through and an audit never uses, run on first use.

``langgraph`` imports ``langgraph_sdk.auth.types`` (a typing module: ``BaseUser``) and, through
``langchain_core``'s tracers, ``langsmith.run_trees``, which imports ``langsmith.types.run_select_field``
(one ``Literal``). Importing a submodule runs its package's ``__init__`` first, and those two
``__init__`` files import far more than the submodule: ``langgraph_sdk``'s pulls in its HTTP and
WebSocket clients (httpx, websockets, the stream protocol), ``langsmith.types``' its 164 generated API
models. Neither is used by a run: LangGraph's remote graph and LangSmith's REST API are never called.
Measured on the 2-core machine of ``docs/performance.md``: 253 modules and 8.6 MiB less for
``import pipeline.audit``, about a third of its import time.

``defer()`` registers each package as a module whose ``__path__`` is the real one (so its submodules
import as usual, and only those) and whose ``__init__`` runs the first time anything asks the package
itself for a name: nothing is stubbed, a use that does come just pays the import then. It does nothing
for a package that is already imported or not installed. ``infra-audit``'s ``main`` calls it for the
commands that run the graph (``run``, ``resume``, ``rerun``), never at import time.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

DEFERRED = ("langgraph_sdk", "langsmith.types")
_lock = threading.RLock()


def defer(names: tuple[str, ...] = DEFERRED) -> list[str]:
    """Register the packages ``names`` to run their ``__init__`` on first use; the ones it registered."""
    done = []
    for name in names:
        if name in sys.modules:
            continue
        spec = _spec(name)
        if spec is None or spec.loader is None or not spec.submodule_search_locations:
            continue
        sys.modules[name] = _Deferred(spec)
        done.append(name)
    return done


def _spec(name: str) -> ModuleSpec | None:
    """The package's spec, found without importing its parent (``langsmith`` stays unimported)."""
    top, _, rest = name.partition(".")
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if not rest:
        return found
    if found is None or not found.submodule_search_locations:
        return None
    directory = Path(found.submodule_search_locations[0], *rest.split("."))
    init = directory / "__init__.py"
    if not init.is_file():
        return None
    return importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(directory)])


class _Deferred(ModuleType):
    """A package whose ``__init__`` has not run yet; it runs on the first name asked of the package."""

    def __init__(self, spec: ModuleSpec) -> None:
        super().__init__(spec.name)
        self.__spec__ = spec
        self.__path__ = list(spec.submodule_search_locations or [])
        self.__file__ = spec.origin
        self.__package__ = spec.name
        self.__loader__ = spec.loader

    def __getattr__(self, attr: str) -> Any:  # only for names not set yet: the __init__ defines them
        if attr.startswith("__") and attr.endswith("__") and attr != "__all__":
            raise AttributeError(attr)  # what the import system probes: the __init__ would not set it
        with _lock:
            if type(self) is _Deferred:
                spec = self.__spec__
                assert spec is not None and spec.loader is not None
                self.__class__ = ModuleType  # type: ignore[assignment]  # a plain module: no second run
                spec.loader.exec_module(self)
        return getattr(self, attr)
