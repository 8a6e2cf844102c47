"""Render the audit as Markdown, in the shape of the reference audit (``seeds/000``).

The document's prose and section order live in ``templates/*.md.j2`` (partials start with ``_``) so
they can be read and edited as a document; what each line says is decided in ``view.py``. The
environment is strict (``StrictUndefined``): a template that names a field the view lacks fails the
test suite instead of printing an empty string into an audit.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from domain.report import AuditReport
from domain.text import normalize
from pipeline.render.output import Renderer
from pipeline.render.text import cell, code
from pipeline.render.view import build_view


@cache
def environment() -> Environment:
    """The one Jinja2 environment of the Markdown report; built on first use, not at import."""
    env = Environment(
        loader=PackageLoader("pipeline.render", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown, not HTML; tables escape through the `cell` filter.
    )
    env.filters["cell"] = cell
    env.filters["code"] = code
    return env


def render_markdown(report: AuditReport) -> str:
    """The audit document: byte-identical for the same report, no trailing spaces, one final newline."""
    text = environment().get_template("audit.md.j2").render(v=build_view(report))
    return normalize(text)


RENDERER = Renderer(name="markdown", filename="audit.md", render=lambda out: render_markdown(out.report))
