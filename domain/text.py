"""One whitespace rule for everything we render: prompts and reports alike."""

from __future__ import annotations


def normalize(text: str) -> str:
    """Strip trailing spaces and collapse runs of blank lines.

    Templates are written to be read, with generous blank lines around blocks; this pass gives the
    output one blank line between blocks whatever the template's whitespace, which keeps the
    Markdown valid (a table or list needs a blank line before it) and the bytes stable.
    """
    out: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"
