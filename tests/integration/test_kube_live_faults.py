"""A live cluster that cannot be read is a one-line error, never an empty cluster; a kubeconfig of the
wrong shape is a one-line error, never a ``TypeError`` from inside the client.

Every server here is on 127.0.0.1: a port with nothing listening (dead), the emulator answering 401
or 403 to everything, and a socket that accepts connections and never answers (a timeout).
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from kube_emulator import KubeEmulator

from domain.errors import ClusterAccessError, KubeConfigError
from pipeline.cli import main
from tools.kube.live import LiveBackend, Timeouts

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "fixtures" / "snapshot-mini"
ESTATE = "examples/gitops-base"


@pytest.fixture(scope="module")
def emulator() -> Iterator[KubeEmulator]:
    emu = KubeEmulator(MINI)
    emu.start()
    yield emu
    emu.stop()


def kubeconfig_for(path: Path, server: str, name: str = "dead") -> Path:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": name,
                "clusters": [{"name": name, "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": name, "context": {"cluster": name, "user": "u"}}],
            }
        )
    )
    return path


def free_port() -> int:
    """A loopback port with nothing listening on it (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A loopback server that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    return code, stdout.getvalue(), stderr.getvalue()


def commands(config: Path, work: Path) -> dict[str, list[str]]:
    """Every command that reads a live cluster, pointed at ``config``."""
    live = ["--cluster", "live", "--kubeconfig", str(config)]
    return {
        "run": [
            "run",
            ESTATE,
            *live,
            "--offline",
            "--out",
            str(work / "out"),
            "--state-dir",
            str(work / "s"),
        ],
        "inventory": ["inventory", ESTATE, *live],
        "check": ["check", ESTATE, "REL-LIVE-CRASHLOOP", *live],
        "tool": ["tool", ESTATE, "kube_get", "resource=pods", *live],
        "snapshot": ["snapshot", "-o", str(work / "snap"), "--kubeconfig", str(config)],
    }


# ------------------------------------------------------------------------------ the whole cluster


def test_a_dead_server_stops_the_backend_with_the_cause(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    backend = LiveBackend.from_kubeconfig(kubeconfig=str(kubeconfig_for(tmp_path / "k", url)))
    with pytest.raises(ClusterAccessError) as caught:
        backend.verify()
    assert (caught.value.cause, caught.value.server, caught.value.exit_code) == ("unreachable", url, 2)
    assert str(caught.value).startswith(f"cannot reach the API server of context 'dead' at {url}: ")
    assert "\n" not in str(caught.value) and "object at 0x" not in str(caught.value)


@pytest.mark.parametrize("command", ["run", "inventory", "check", "tool", "snapshot"])
def test_a_dead_server_is_one_line_and_exit_2(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    argv = commands(kubeconfig_for(tmp_path / "k", url), tmp_path)[command]
    code, stdout, stderr = cli(argv, monkeypatch)
    assert code == 2
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(
        f"infra-audit: error: cannot reach the API server of context 'dead' at {url}: "
    )
    assert "Traceback" not in stdout + stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "snap").exists()  # no clean empty report


def test_a_password_in_the_server_url_is_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    config = kubeconfig_for(tmp_path / "k", f"http://admin:Sup3rS3cretPassw0rd@127.0.0.1:{port}")
    for command, argv in commands(config, tmp_path).items():
        code, stdout, stderr = cli(argv, monkeypatch)
        assert code == 2, command
        assert "Sup3rS3cret" not in stdout + stderr and f"at http://127.0.0.1:{port}: " in stderr, command


@pytest.mark.parametrize(("status", "cause"), [(401, "unauthorized"), (403, "forbidden")])
def test_credentials_rejected_or_allowed_nothing(
    status: int, cause: str, emulator: KubeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = emulator.kubeconfig(tmp_path / "k")
    emulator.reject_all = status
    try:
        backend = LiveBackend.from_kubeconfig(kubeconfig=str(config))
        with pytest.raises(ClusterAccessError) as caught:
            backend.verify()
        assert (caught.value.cause, caught.value.status, caught.value.server) == (cause, status, emulator.url)
        for argv in commands(config, tmp_path).values():
            code, _, stderr = cli(argv, monkeypatch)
            assert code == 2, argv
            assert stderr.count("\n") == 1 and stderr.startswith("infra-audit: error: "), stderr
            assert f"({status} " in stderr and "mini-admin" in stderr
    finally:
        emulator.reject_all = None
    assert not (tmp_path / "out").exists() and not (tmp_path / "snap").exists()


def test_a_server_that_never_answers_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with silent_server() as url:
        config = kubeconfig_for(tmp_path / "k", url, name="silent")
        backend = LiveBackend.from_kubeconfig(kubeconfig=str(config), timeouts=Timeouts(connect=2, read=0.2))
        with pytest.raises(ClusterAccessError) as caught:
            backend.verify()
        assert (caught.value.cause, caught.value.server) == ("timeout", url)
        assert str(caught.value).endswith("no answer within 0.2s (read timeout)")
        argv = [
            "inventory",
            ESTATE,
            "--cluster",
            "live",
            "--kubeconfig",
            str(config),
            "--kube-timeout",
            "0.2",
        ]
        code, _, stderr = cli(argv, monkeypatch)
    assert code == 2
    assert stderr == (
        f"infra-audit: error: cannot reach the API server of context 'silent' at {url}: "
        "no answer within 0.2s (read timeout)\n"
    )


def test_the_timeouts_come_from_the_run_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Timeouts.of(20) == Timeouts(connect=5, read=20)
    assert Timeouts.of(0.5) == Timeouts(connect=0.5, read=0.5)
    code, _, stderr = cli(["inventory", ESTATE, "--cluster", "live", "--kube-timeout", "0"], monkeypatch)
    assert code == 2 and stderr.startswith("infra-audit: error: --kube-timeout: ") and stderr.count("\n") == 1


# ------------------------------------------------------------------------------ kubeconfig shapes

SHAPES = {
    "a YAML list": ("- a\n- b\n", "not a kubeconfig (a YAML list, expected a mapping)"),
    "a scalar": ("42\n", "not a kubeconfig (a YAML int, expected a mapping)"),
    "an empty file": ("", "the file is empty"),
    "only a comment": ("# nothing\n", "the file is empty"),
    "contexts as a mapping": (
        "apiVersion: v1\ncontexts: {a: 1}\n",
        "'contexts' is not a list of mappings with a 'name'",
    ),
    "a cluster without a name": (
        "apiVersion: v1\nclusters: [{cluster: {server: x}}]\n",
        "'clusters' is not a list of mappings with a 'name'",
    ),
    "a user that is a list": (
        "apiVersion: v1\ncurrent-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\nusers: [{name: u, user: [1]}]\n",
        "user 'u' is not a mapping",
    ),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_kubeconfig_of_the_wrong_shape_is_one_line(
    shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, problem = SHAPES[shape]
    config = tmp_path / "config"
    config.write_text(text)
    with pytest.raises(KubeConfigError) as caught:
        LiveBackend.from_kubeconfig(kubeconfig=str(config))
    assert str(caught.value) == f"cannot read kubeconfig {str(config)!r}: {problem}"
    code, _, stderr = cli(
        ["inventory", ESTATE, "--cluster", "live", "--kubeconfig", str(config)], monkeypatch
    )
    assert (code, stderr) == (2, f"infra-audit: error: cannot read kubeconfig {str(config)!r}: {problem}\n")


def test_a_server_that_is_not_a_string_is_the_kubeconfigs_mistake(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\ncurrent-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "clusters: [{name: c, cluster: {server: 5}}]\nusers: [{name: u, user: {token: t}}]\n"
    )
    with pytest.raises(KubeConfigError) as caught:
        LiveBackend.from_kubeconfig(kubeconfig=str(config))
    assert str(caught.value).startswith(f"cannot use context 'x' of {str(config)!r}: ")
    assert "\n" not in str(caught.value)


def test_one_bad_file_among_joined_kubeconfigs_is_named(tmp_path: Path, emulator: KubeEmulator) -> None:
    good = emulator.kubeconfig(tmp_path / "good")
    bad = tmp_path / "bad"
    bad.write_text("- not\n- a config\n")
    with pytest.raises(KubeConfigError) as caught:
        LiveBackend.from_kubeconfig(kubeconfig=f"{good}:{bad}")
    assert str(caught.value) == (
        f"cannot read kubeconfig {str(bad)!r}: not a kubeconfig (a YAML list, expected a mapping)"
    )
