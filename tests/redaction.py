"""The redaction tests' shared check: redact, and hold the invariants every redaction keeps."""

from __future__ import annotations

from tools.redact import redact_text


def check(text: str) -> str:
    """Redact, and hold the invariants every redaction keeps: idempotent, same line count."""
    out = redact_text(text)
    assert redact_text(out) == out
    assert out.count("\n") == text.count("\n")
    return out
