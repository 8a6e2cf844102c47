"""Fixtures of the LLM-path tests: the scripted cassettes, replayed once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from replays import CASSETTES, GITOPS_ARGV, HOMELAB_ARGV, CliRun, replay

HOMELAB_CASSETTE = CASSETTES / "scripted-homelab-full.yaml"
GITOPS_CASSETTE = CASSETTES / "scripted-gitops-full.yaml"


def _replayed(argv: tuple[str, ...], cassette: Path, work: Path) -> CliRun:
    done = replay(argv, cassette, work)
    assert done.code == 0, done.stderr[-3000:] + done.stdout[-3000:]
    return done


@pytest.fixture(scope="session")
def homelab_replay(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """The scripted homelab run (``scripted-homelab-full.yaml``), replayed through the CLI."""
    return _replayed(HOMELAB_ARGV, HOMELAB_CASSETTE, tmp_path_factory.mktemp("homelab-replay"))


@pytest.fixture(scope="session")
def gitops_replay(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """The scripted gitops-base run (``scripted-gitops-full.yaml``), replayed through the CLI."""
    return _replayed(GITOPS_ARGV, GITOPS_CASSETTE, tmp_path_factory.mktemp("gitops-replay"))
