"""File names as text: the shown form is valid UTF-8, printable on one line, and goes back exactly."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tools.pathnames import encodable, glob_literal, on_disk, printable, shell_quote, shown

pytestmark = pytest.mark.unit

# Every byte a name can hold (all but NUL and '/'), alone and next to text and escapes.
NAMES = [bytes([b]) for b in range(1, 256) if b != ord("/")] + [
    b"caf\xe9.tf",
    b"a\\b",
    b"a\\xe9",  # a name that reads like an escape: a real backslash
    b"x\\\\y",
    b"new\nline.yaml",
    b"\x1b[31mred",
    "caf\u00e9-utf8".encode(),
    b"\xf0\x9f\x98\x80",  # an emoji, valid UTF-8: kept as written
    b"csi\xc2\x9b31m",  # a C1 control (CSI), valid UTF-8: a terminal would act on it
    b"txt.\xe2\x80\xaegpj",  # a right-to-left override: shows one name, is another
    b"line\xe2\x80\xa8sep",
]


@pytest.mark.parametrize("name", NAMES, ids=repr)
def test_the_shown_form_is_printable_utf8_and_goes_back_to_the_same_bytes(name: bytes) -> None:
    text = shown(name)
    text.encode("utf-8")  # strict: no lone surrogate left
    assert text.isprintable()  # no control character, separator or bidi override reaches a screen
    assert os.fsencode(on_disk(text)) == name
    assert shown(os.fsdecode(name)) == text  # a str from os.listdir gives the same form as the bytes


def test_what_changes_and_what_does_not() -> None:
    assert shown(b"stacks/caf\xe9/main.tf") == "stacks/caf\\xe9/main.tf"
    assert shown("stacks/app/main.tf") == "stacks/app/main.tf"
    assert shown("caf\u00e9") == "caf\u00e9"  # valid UTF-8 is not escaped
    assert shown(b"a\\b") == "a\\\\b"
    assert shown(b"a\nb") == "a\\x0ab"
    assert shown("x\u202ey") == "x\\xe2\\x80\\xaey"
    assert len({shown(n) for n in NAMES}) == len(NAMES)  # two names never share a shown form


def test_a_hand_typed_single_backslash_is_kept() -> None:
    assert on_disk("a\\b") == "a\\b"  # not an escape: taken as written
    assert on_disk("docs\\xzz") == "docs\\xzz"


def test_printable_escapes_controls_but_keeps_backslashes() -> None:
    assert printable("a\nb\\c\udcff") == "a\\x0ab\\c\\xff"


def test_encodable_escapes_lone_surrogates_only() -> None:
    assert encodable("line one\nx\udcffy\ud800") == "line one\nx\\xffy\\ud800"
    assert encodable("plain") == "plain"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash to check the quoting")
@pytest.mark.parametrize("name", [b"caf\xe9", b"it's \\ odd", b"plain-name", b"sp ace", b"-dash"], ids=repr)
def test_a_shell_quoted_shown_path_gives_bash_the_original_bytes(name: bytes) -> None:
    word = shell_quote(shown(name))
    got = subprocess.run(["bash", "-c", f"printf %s {word}"], capture_output=True, check=True).stdout
    assert got == name


def test_glob_literal_escapes_glob_syntax_and_keeps_bytes() -> None:
    assert glob_literal("snap[1]/*") == "snap\\[1\\]/\\*"
    assert os.fsencode(glob_literal("caf\\xe9")) == b"caf\xe9"
