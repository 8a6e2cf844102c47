"""The path jail: every path a tool touches is resolved here, inside the estate root, or refused.

Why a hand-written walk instead of ``Path.resolve()`` alone: ``resolve`` follows every symlink
wherever it leads and only tells us the end point. A link that leaves the estate and a second link
that comes back would pass an end-point check while the read depended on files outside the estate.
So the jail walks the path one component at a time from the (real) root, never calls ``lstat`` or
``readlink`` on anything outside the root, and refuses as soon as a ``..`` or a symlink target would
leave it. ``os.path.realpath(strict=True)`` then re-checks the end point as a second, independent
guard.

Special files are refused from ``os.stat`` alone, without opening them: opening a FIFO blocks until a
writer appears and reading a device can hang or never end. Regular files are opened with
``O_NOFOLLOW | O_NONBLOCK`` and re-checked with ``fstat`` on the open descriptor, so a file swapped
for a link or a FIFO between the check and the read is still refused.

Messages are one line, name the path as the caller wrote it, and say what to do instead, because the
caller is often a model that can only act on the text.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath

from domain.errors import EstateError, SandboxViolation
from tools import pathnames
from tools.sizes import KIB, MIB, format_size

DEFAULT_FILE_CAP = 2 * MIB
BINARY_SNIFF_BYTES = 8 * KIB
MAX_SYMLINK_HOPS = 40  # the Linux limit (ELOOP)
OVERSIZED_WALK_LIMIT = 200_000


SNAPSHOT_MARKER = "_snapshot.json"
_UNWALKED = frozenset({".git", ".terraform", ".terragrunt-cache", "node_modules", ".venv"})


class PathNotFound(SandboxViolation):
    """The path does not exist inside the estate (a wrong path, not an attempt to leave)."""


def _q(text: str) -> str:
    """A path in a message: quoted, control characters and undecodable bytes escaped."""
    return f"'{pathnames.printable(text)}'"


def _kind_of(mode: int) -> str | None:
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return None


def _not_found(shown: str, why: str = "") -> PathNotFound:
    detail = f" ({why})" if why else "; list its directory with repo_list"
    return PathNotFound(f"{_q(shown)} does not exist in the estate{detail}")


def _loop(shown: str) -> SandboxViolation:
    return SandboxViolation(
        f"{_q(shown)} is a symlink loop (too many levels of symbolic links); not followed"
    )


def _is_dir(shown: str) -> SandboxViolation:
    return SandboxViolation(f"{_q(shown)} is a directory, not a file; list it with repo_list")


def _read_fd(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class Jail:
    """Resolves user-supplied paths inside one estate root and refuses everything else."""

    def __init__(self, root: str | os.PathLike[str], *, file_cap: int = DEFAULT_FILE_CAP) -> None:
        given = Path(root)
        if not given.exists():
            raise EstateError(f"estate path does not exist: {given}")
        if not given.is_dir():
            raise EstateError(f"estate path is not a directory: {given}")
        if file_cap < 1:
            raise ValueError("file_cap must be positive")
        try:
            self.root = given.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise EstateError(f"estate path cannot be resolved: {given} ({exc})") from exc
        # The root as written (made absolute but not resolved), so absolute paths spelled through a
        # symlinked parent of the root (e.g. /tmp on macOS) are recognised too.
        self._given_root = Path(os.path.abspath(given))
        self.file_cap = file_cap
        self._snapshot_dirs: tuple[str, ...] | None = None
        self._oversized: tuple[tuple[str, int], ...] | None = None

    @property
    def snapshot_dirs(self) -> tuple[str, ...]:
        """Cluster snapshots kept inside the estate (dirs holding ``_snapshot.json``), relative paths.

        They are live state, not code: the inventory walk and the repo tools leave them to the kube
        tools. Found once, without following symlinks; shown forms (``tools.pathnames``).
        """
        if self._snapshot_dirs is None:
            found: list[str] = []
            for dirpath, dirnames, filenames in os.walk(self.root):
                dirnames[:] = [d for d in dirnames if d not in _UNWALKED]
                if SNAPSHOT_MARKER in filenames and Path(dirpath) != self.root:
                    found.append(pathnames.shown(Path(dirpath).relative_to(self.root).as_posix()))
                    dirnames[:] = []
            self._snapshot_dirs = tuple(sorted(found))
        return self._snapshot_dirs

    @property
    def oversized(self) -> tuple[tuple[str, int], ...]:
        """Regular files over the read cap, as (shown relative path, size): what a search skips.

        Found once, without following symlinks, ``.git`` left out; at most ``OVERSIZED_WALK_LIMIT``
        entries are looked at.
        """
        if self._oversized is None:
            found: list[tuple[str, int]] = []
            seen = 0
            for dirpath, dirnames, filenames in os.walk(self.root):
                dirnames[:] = [d for d in dirnames if d != ".git"]
                seen += len(filenames)
                for name in filenames:
                    try:
                        st = os.lstat(os.path.join(dirpath, name))
                    except OSError:
                        continue
                    if stat.S_ISREG(st.st_mode) and st.st_size > self.file_cap:
                        found.append((self.rel(os.path.join(dirpath, name)), st.st_size))
                if seen > OVERSIZED_WALK_LIMIT:
                    break
            self._oversized = tuple(sorted(found))
        return self._oversized

    # -- resolution ---------------------------------------------------------------------------------

    def resolve(self, user_path: str | os.PathLike[str], *, for_read: bool = False) -> Path:
        """Return the real path of ``user_path`` inside the root, or raise ``SandboxViolation``.

        A ``str`` is a path as the tools show it (``tools.pathnames``: ``caf\\xe9/main.tf`` names the
        file whose name has the byte 0xE9), which is what a model or a person types back; a
        ``PathLike`` is a path as the OS names it. ``for_read=True`` also requires a regular text
        file under the size cap.
        """
        shown = os.fspath(user_path) or "."
        real_name = pathnames.on_disk(shown) if isinstance(user_path, str) else shown
        # checked on the name as the OS would get it: the shown form "\x00" unescapes to a NUL
        if "\x00" in shown or "\x00" in real_name:
            raise SandboxViolation(f"{_q(shown)} contains a NUL byte; pass a plain estate-relative path")
        parts = self._relative_parts(real_name)
        real = self._walk(shown, parts)
        self._recheck(shown, real)
        try:
            mode = os.lstat(real).st_mode  # real has no symlink left in it
        except OSError as exc:
            raise _not_found(shown) from exc
        kind = _kind_of(mode)
        if kind is not None:
            raise SandboxViolation(
                f"{_q(shown)} is a {kind}, not a regular file; it is never opened. "
                "List its directory with repo_list instead"
            )
        if for_read:
            self._check_readable(shown, real)
        return real

    def rel(self, path: str | os.PathLike[str]) -> str:
        """The shown forward-slash path relative to the estate root ('.' for the root itself).

        ``path`` is a path as the OS names it (a resolved path, a directory entry's path).
        """
        p = Path(path)
        if not p.is_absolute():
            posix = PurePosixPath(*Path(os.path.normpath(p)).parts).as_posix()
            if posix == ".." or posix.startswith("../"):
                raise SandboxViolation(f"{_q(pathnames.shown(path))} is outside the estate root")
            return pathnames.shown(posix)
        for base in (self.root, self._given_root):
            try:
                relative = p.relative_to(base)
            except ValueError:
                continue
            return pathnames.shown(relative.as_posix()) if relative.parts else "."
        raise SandboxViolation(f"{_q(pathnames.shown(path))} is outside the estate root")

    def read_text(self, user_path: str | os.PathLike[str], *, size_limit: int | None = None) -> str:
        """Read a regular text file inside the root (UTF-8, undecodable bytes replaced).

        ``size_limit`` raises the cap for callers that only show a slice of a large file.
        """
        shown = os.fspath(user_path) or "."
        real = self.resolve(user_path)
        limit = self.file_cap if size_limit is None else size_limit
        data = self._read_regular(shown, real, limit)
        return data.decode("utf-8", errors="replace")

    # -- internals ----------------------------------------------------------------------------------

    def _relative_parts(self, shown: str) -> list[str]:
        """Split the user path into components relative to the root; refuse lexical escapes early."""
        raw = Path(shown)
        parts: list[str] | None = None if raw.is_absolute() else list(raw.parts)
        for base in (self.root, self._given_root) if parts is None else ():
            try:
                parts = list(raw.relative_to(base).parts)
                break
            except ValueError:
                continue
        if parts is None:
            raise SandboxViolation(
                f"{_q(shown)} is an absolute path outside the estate root; "
                "use a path relative to the estate root"
            )
        depth = 0
        for part in parts:
            depth = depth - 1 if part == ".." else depth + (part not in ("", "."))
            if depth < 0:
                raise SandboxViolation(
                    f"{_q(shown)} uses '..' to leave the estate root; use a path inside the estate"
                )
        return parts

    def _walk(self, shown: str, parts: list[str]) -> Path:
        """Resolve component by component, following only symlinks that stay inside the root."""
        current = self.root
        pending = list(parts)
        hops = 0
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if current == self.root:
                    raise SandboxViolation(
                        f"{_q(shown)} leaves the estate root through '..' (after following a symlink); "
                        "use a path inside the estate"
                    )
                current = current.parent
                continue
            candidate = current / part
            try:
                st = os.lstat(candidate)
            except FileNotFoundError as exc:
                raise _not_found(shown) from exc
            except NotADirectoryError as exc:
                raise _not_found(shown, f"{_q(self.rel(current))} is a file, not a directory") from exc
            except PermissionError as exc:
                raise SandboxViolation(f"{_q(shown)} cannot be read: permission denied") from exc
            except OSError as exc:  # ENAMETOOLONG and the like: a path no estate file has
                raise _not_found(shown, exc.strerror or "unusable path") from exc
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    raise _loop(shown)
                target = os.readlink(candidate)  # lstat just said it is a link inside the root
                pending = self._link_parts(shown, candidate, target) + pending
                if os.path.isabs(target):
                    current = self.root
                continue
            if pending and not stat.S_ISDIR(st.st_mode):
                raise _not_found(shown, f"{_q(self.rel(candidate))} is a file, not a directory")
            current = candidate
        return current

    def _link_parts(self, shown: str, link: Path, target: str) -> list[str]:
        if not os.path.isabs(target):
            return list(Path(target).parts)
        for base in (self.root, self._given_root):
            try:
                return list(Path(target).relative_to(base).parts)
            except ValueError:
                continue
        raise SandboxViolation(
            f"{_q(shown)} goes through the symlink {_q(self.rel(link))} -> {_q(pathnames.shown(target))}, "
            "which leaves the estate root; it is not followed"
        )

    def _recheck(self, shown: str, real: Path) -> None:
        """Independent guard: the kernel's view of the end point must match the walk's."""
        try:
            kernel = Path(os.path.realpath(real, strict=True))
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _loop(shown) from exc
            raise _not_found(shown) from exc
        if kernel != real or not (real == self.root or self.root in real.parents):
            raise SandboxViolation(f"{_q(shown)} resolves outside the estate root; it is not followed")

    def _check_readable(self, shown: str, real: Path) -> None:
        if real.is_dir():
            raise _is_dir(shown)
        self._read_regular(shown, real, self.file_cap, sniff_only=True)

    def _read_regular(self, shown: str, real: Path, limit: int, *, sniff_only: bool = False) -> bytes:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(real, flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise SandboxViolation(
                    f"{_q(shown)} changed into a symlink while being read; refused"
                ) from exc
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise SandboxViolation(f"{_q(shown)} cannot be read: permission denied") from exc
            if exc.errno == errno.EISDIR:
                raise _is_dir(shown) from exc
            raise PathNotFound(f"{_q(shown)} cannot be opened ({exc.strerror})") from exc
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise _is_dir(shown)
            if not stat.S_ISREG(st.st_mode):
                raise SandboxViolation(f"{_q(shown)} is not a regular file; it is not read")
            if st.st_size > limit:
                raise SandboxViolation(
                    f"{_q(shown)} is {format_size(st.st_size)}, over the {format_size(limit)} read cap; "
                    "read a line range (repo_read with start and end) or search it with repo_search"
                )
            data = _read_fd(fd, BINARY_SNIFF_BYTES if sniff_only else limit + 1)
        finally:
            os.close(fd)
        if b"\x00" in data[:BINARY_SNIFF_BYTES]:
            raise SandboxViolation(
                f"{_q(shown)} is a binary file (a NUL byte in its first {format_size(BINARY_SNIFF_BYTES)}); "
                "it is not read as text. "
                "List it with repo_list, or search the text files around it with repo_search"
            )
        if len(data) > limit:
            raise SandboxViolation(
                f"{_q(shown)} grew past the {format_size(limit)} read cap while being read; "
                "read a line range (repo_read with start and end)"
            )
        return data
