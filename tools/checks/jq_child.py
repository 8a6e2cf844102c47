"""The recount's jq engine, run as a child of the audit (``tools/checks/reproduce_jq.py``): the
cluster's listings parsed once into jq's own values as they arrive, then each program the recount
sends run over the listings it names, without parsing them again.

The jq module's API parses its input anew for every program (``input_text``), and at 10k pods that
parse was 1.9-2.7 s of the 6.6-8.0 s the recount waited on its jq child. Here libjq is called through ctypes,
from the jq module's own shared object (it links libjq in and exports it): the same engine, the same
program, the same input values, parsed while the research still runs. Where the shared object does
not give what is needed, the child exits 3 at once and the recount runs its jq as before.

Input (standard input, binary): one JSON line per message, ``{"listing": NAME, "length": N}`` followed
by the N bytes of that type's JSON list; ``{"memory": [[NAME, OFFSET, LENGTH], ...]}``, where each
type's text is in the in-memory file whose descriptor is the child's argument; or ``{"run": PROGRAM,
"types": [NAME, ...], "args": {...}}``.
Output: one JSON line per ``run``, as the jq module's ``first()`` would give it: ``{"value": V}``
(numbers converted as that module converts them), ``{"none": true}`` where the program printed
nothing, ``{"error": MESSAGE}`` where it failed, ``{"failed": WHY}`` where it could not run (a type
not held, a program that does not compile).

Nothing here imports from the estate (run with ``-P``); the programs are the catalog's.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from typing import Any

INVALID, NULL, FALSE, TRUE, NUMBER, STRING, ARRAY, OBJECT = range(8)
"""``jv_kind``, as ``jv.h`` numbers it."""


class JV(ctypes.Structure):
    """``jv`` passed by value: 16 bytes, both eight-byte halves of integer class (the second is a
    union of a pointer and a double; as a pointer-sized integer it is passed as C passes it)."""

    _fields_ = [
        ("kind_flags", ctypes.c_ubyte),
        ("pad_", ctypes.c_ubyte),
        ("offset", ctypes.c_ushort),
        ("size", ctypes.c_int),
        ("u", ctypes.c_uint64),
    ]


_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "jv_parse_sized": (JV, [ctypes.c_char_p, ctypes.c_int]),
    "jv_parse": (JV, [ctypes.c_char_p]),
    "jv_copy": (JV, [JV]),
    "jv_free": (None, [JV]),
    "jv_get_kind": (ctypes.c_int, [JV]),
    "jv_invalid_has_msg": (ctypes.c_int, [JV]),
    "jv_invalid_get_msg": (JV, [JV]),
    "jv_is_integer": (ctypes.c_int, [JV]),
    "jv_number_value": (ctypes.c_double, [JV]),
    "jv_string_value": (ctypes.c_void_p, [JV]),
    "jv_string_length_bytes": (ctypes.c_int, [JV]),
    "jv_array": (JV, []),
    "jv_array_append": (JV, [JV, JV]),
    "jv_array_length": (ctypes.c_int, [JV]),
    "jv_array_get": (JV, [JV, ctypes.c_int]),
    "jv_object_iter": (ctypes.c_int, [JV]),
    "jv_object_iter_next": (ctypes.c_int, [JV, ctypes.c_int]),
    "jv_object_iter_valid": (ctypes.c_int, [JV, ctypes.c_int]),
    "jv_object_iter_key": (JV, [JV, ctypes.c_int]),
    "jv_object_iter_value": (JV, [JV, ctypes.c_int]),
    "jq_init": (ctypes.c_void_p, []),
    "jq_compile_args": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, JV]),
    "jq_start": (None, [ctypes.c_void_p, JV, ctypes.c_int]),
    "jq_next": (JV, [ctypes.c_void_p]),
    "jq_teardown": (None, [ctypes.POINTER(ctypes.c_void_p)]),
}


def bind() -> Any:
    """libjq's functions from the jq module's shared object, typed; raises where one is missing."""
    import jq

    lib = ctypes.CDLL(jq.__file__)
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def text(lib: Any, value: JV) -> str:
    """A jv string's text, a NUL in it included (not freed)."""
    length = lib.jv_string_length_bytes(lib.jv_copy(value))
    return ctypes.string_at(lib.jv_string_value(value), length).decode("utf-8")


def to_python(lib: Any, value: JV) -> Any:
    """A jv as the jq module converts it (``_jv_to_python``): an integral number as an int (through
    a double, as it does); ``value`` is freed."""
    kind = lib.jv_get_kind(value)
    try:
        if kind == NULL:
            return None
        if kind in (FALSE, TRUE):
            return kind == TRUE
        if kind == NUMBER:
            number = lib.jv_number_value(value)
            return int(number) if lib.jv_is_integer(value) else float(number)
        if kind == STRING:
            return text(lib, value)
        if kind == ARRAY:
            n = lib.jv_array_length(lib.jv_copy(value))
            return [to_python(lib, lib.jv_array_get(lib.jv_copy(value), i)) for i in range(n)]
        if kind == OBJECT:
            out: dict[str, Any] = {}
            i = lib.jv_object_iter(value)
            while lib.jv_object_iter_valid(value, i):
                key = lib.jv_object_iter_key(value, i)
                try:
                    name = text(lib, key)
                finally:
                    lib.jv_free(key)
                out[name] = to_python(lib, lib.jv_object_iter_value(value, i))
                i = lib.jv_object_iter_next(value, i)
            return out
        raise ValueError(f"a jv of kind {kind}")
    finally:
        lib.jv_free(value)


def run(lib: Any, program: str, values: list[JV], args: dict[str, Any]) -> dict[str, Any]:
    """The first output of ``program`` over the array of ``values`` (each copied, none consumed)."""
    state = ctypes.c_void_p(lib.jq_init())
    try:
        named = json.dumps(args).encode("utf-8", "surrogatepass")
        if not lib.jq_compile_args(state, program.encode("utf-8"), lib.jv_parse(named)):
            return {"failed": "the program does not compile"}
        given = lib.jv_array()
        for value in values:
            given = lib.jv_array_append(given, lib.jv_copy(value))
        lib.jq_start(state, given, 0)
        result = lib.jq_next(state)
        if lib.jv_get_kind(result) != INVALID:
            return {"value": to_python(lib, result)}
        if lib.jv_invalid_has_msg(lib.jv_copy(result)):
            message = lib.jv_invalid_get_msg(result)
            if lib.jv_get_kind(message) == STRING:
                return {"error": to_python(lib, message)}
            lib.jv_free(message)
            return {"error": "a jq error"}
        lib.jv_free(result)
        return {"none": True}
    finally:
        lib.jq_teardown(ctypes.byref(state))


def hold(lib: Any, held: dict[str, JV], name: str, data: bytes) -> None:
    """``data`` parsed as ``name``'s listing (a text jq cannot parse is not held: a program over it
    fails, and runs alone)."""
    value = lib.jv_parse_sized(data, len(data))
    old = held.pop(name, None)
    if old is not None:
        lib.jv_free(old)
    if lib.jv_get_kind(value) == INVALID:
        lib.jv_free(value)
    else:
        held[name] = value


def serve(lib: Any, stdin: Any, stdout: Any, memory: int | None = None) -> None:
    """Answer ``stdin``'s messages; ``memory``: the in-memory file a ``memory`` message indexes."""
    held: dict[str, JV] = {}
    for line in stdin:
        message = json.loads(line)
        if "listing" in message:
            hold(lib, held, str(message["listing"]), stdin.read(int(message["length"])))
            continue
        if "memory" in message and memory is not None:
            for name, at, length in message["memory"]:
                hold(lib, held, str(name), os.pread(memory, int(length), int(at)))
            os.close(memory)  # its pages go with the last descriptor
            memory = None
            continue
        missing = [t for t in message["types"] if t not in held]
        if missing:
            answer: dict[str, Any] = {"failed": f"not held: {', '.join(missing)}"}
        else:
            values = [held[t] for t in message["types"]]
            answer = run(lib, str(message["run"]), values, dict(message.get("args") or {}))
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()


def main() -> int:
    try:
        lib = bind()
    except (ImportError, OSError, AttributeError):
        return 3  # no libjq to call: the recount runs its jq through the module, as before
    serve(lib, sys.stdin.buffer, sys.stdout, int(sys.argv[1]) if len(sys.argv) > 1 else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
