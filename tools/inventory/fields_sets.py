"""One shared ``__pydantic_fields_set__`` per distinct set of field names (issue 13).

Every pydantic model instance carries the set of the field names it was given: a Python set of 216
bytes, 728 once it holds five names. A 10k-pod cluster's live records are about 154,000 models, and
their sets took 92 MiB, more than the records' own fields. The sets of one model class are nearly all
alike, so the records of a cluster share one set per distinct content.

Pydantic reads the set for ``model_fields_set``, ``exclude_unset`` and ``model_copy`` (which copies it
first) and adds a name to it on attribute assignment. No code of ours reads it for a live record
(``exclude_unset`` is used for tool-call arguments only); an assignment to a record would add the
name to every record sharing its set, which only ``exclude_unset`` could see. The shared sets stay
mutable because ``model_copy(update=...)`` updates the copy's set in place.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

SharedSets = dict[frozenset[str], set[str]]


_LEAVES = frozenset({str, int, float, bool, type(None)})


def share_fields_sets(value: Any, shared: SharedSets) -> None:
    """Give every model in ``value`` (models, and lists, tuples and dict values of them, nested) the
    set in ``shared`` equal to its own, adding one the first time a content is met."""
    stack = [value]
    pop, push, leaves = stack.pop, stack.append, _LEAVES
    while stack:
        current = pop()
        if isinstance(current, BaseModel):
            own = current.__pydantic_fields_set__
            found = shared.setdefault(frozenset(own), own)
            if found is not own:
                object.__setattr__(current, "__pydantic_fields_set__", found)
            items: Any = current.__dict__.values()
        elif type(current) is dict:
            items = current.values()
        elif type(current) is list or type(current) is tuple:
            items = current
        else:
            continue
        for item in items:
            if type(item) not in leaves:
                push(item)
