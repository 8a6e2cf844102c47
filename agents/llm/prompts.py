"""Render the agents' prompts from the Jinja2 files in ``prompts/``.

Why prompts are files and why the environment is this strict:

* **Files, not strings in code**, so a prompt reads as the document the model sees and a change to
  one shows up as a diff of prose (house style item 8). One template per role (``researcher``,
  ``challenger``, ``synthesizer``), one brief per concern (``briefs/_<concern>.md.j2``), shared
  partials starting with ``_``.
* **StrictUndefined, plus a check of the variable contract before rendering.** A misspelled or
  missing variable must fail the run, not print an empty line into a prompt that then quietly
  audits less. StrictUndefined only fires on the branch that is rendered, so ``render`` also
  compares the variables passed with the ones the template and its partials name, and says which
  are missing or unexpected, like a Python call with a wrong keyword.
* **Deterministic bytes.** Cassettes replay a run by matching the request body, so the same inputs
  must give the same prompt: nothing here reads the clock or the environment (``date`` and
  ``run_id`` are always passed in), templates sort whatever comes from a mapping, and the output is
  normalised (trailing spaces stripped, blank-line runs collapsed, one final newline).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, UndefinedError, meta

import prompts as _prompts_package
from domain.text import normalize

PROMPTS_DIR = Path(_prompts_package.__file__).resolve().parent
SUFFIX = ".md.j2"


@cache
def environment() -> Environment:
    """The one environment of every prompt; built on first use (no import-time work), then cached."""
    env = Environment(
        loader=FileSystemLoader(PROMPTS_DIR),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown for a model, not HTML: escaping would corrupt `<`, `&` and quotes.
        auto_reload=False,  # the files do not change during a run; skip the stat per render
    )
    env.filters["num"] = num
    return env


def num(value: Any) -> str:
    """A claim or evidence value as people write it: 7.0 -> '7', 0.25 -> '0.25', None -> 'none'."""
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def template_name(template: str) -> str:
    """Accept 'researcher' or 'researcher.md.j2'; refuse partials, which are not prompts on their own."""
    name = template if template.endswith(".j2") else template + SUFFIX
    if Path(name).name.startswith("_"):
        raise ValueError(f"{name} is a partial; render the role template that includes it")
    return name


@cache
def expected_variables(template: str) -> frozenset[str]:
    """Top-level variables a template and every partial it includes name.

    Includes with a computed name (``briefs/_{{ concern }}.md.j2``) cannot be followed statically;
    by the contract such partials use no variables beyond their parent's.
    """
    env = environment()
    assert env.loader is not None
    seen: set[str] = set()
    names: set[str] = set()
    todo = [template]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        source, _, _ = env.loader.get_source(env, current)
        ast = env.parse(source)
        names |= meta.find_undeclared_variables(ast)
        todo += [t for t in meta.find_referenced_templates(ast) if t is not None]
    return frozenset(names)


def render(template: str, **variables: Any) -> str:
    """Render one role's prompt; byte-identical for the same variables.

    Raises ``jinja2.UndefinedError`` naming every missing variable (and StrictUndefined's own
    error for a missing key inside one), ``TypeError`` for a variable the template does not use.
    """
    name = template_name(template)
    expected = expected_variables(name)
    missing = sorted(expected - variables.keys())
    if missing:
        raise UndefinedError(f"prompt {name}: missing variable(s): {', '.join(missing)}")
    unexpected = sorted(variables.keys() - expected)
    if unexpected:
        raise TypeError(f"prompt {name}: unexpected variable(s): {', '.join(unexpected)}")
    return normalize(environment().get_template(name).render(**variables))
