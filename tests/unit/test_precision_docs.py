"""Precision corpus, docs (issue 10): DEC-IMPERATIVE-DOCS, DEC-IMPERATIVE-NOTES, MNT-RUNBOOK-STALE-PATH.

Negatives: one trap class each (a prohibition, a read-only or dry-run command, a plan, a changelog,
an archived doc, an agent prompt; a placeholder path, another repository's path, a gitignored path,
a root-relative ``./`` path). Each asserts an empty result; all but the ones marked ``already`` were
counted before issue 10. Positives assert the exact locations.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from precision import detect, found

pytestmark = pytest.mark.unit

NOT_STEPS: dict[str, dict[str, str]] = {
    "prohibition": {"docs/runbooks/db.md": "Never run `kubectl apply -f` by hand: Flux reverts it.\n"},
    "do not": {"docs/runbooks/db.md": "Do not `kubectl delete pvc data-db-0`, the volume goes with it.\n"},
    "exec of a read-only command": {"docs/runbooks/db.md": "kubectl -n db exec db-0 -- cat /etc/hosts\n"},
    "exec of vault status": {"docs/runbooks/vault.md": "kubectl -n vault exec vault-0 -- vault status\n"},
    "dry run": {"docs/runbooks/db.md": "kubectl apply --dry-run=server -f deploy/db.yaml\n"},
    "dry run of a create": {
        "docs/runbooks/db.md": "kubectl create secret generic x --dry-run=client -o yaml"
    },
    "ssh of a read-only command": {"scripts/check.sh": 'ssh "$HOST" cat /etc/exports | diff -u - exports\n'},
    "exportfs listing": {"scripts/check.sh": 'ssh "$HOST" exportfs -v\n'},
    "scp from a host": {"docs/runbooks/nfs.md": "scp root@pve:/etc/exports ./exports.bak\n"},
    "a list after a prohibition": {
        "docs/ops.md": "**never run `kubectl apply`**, `kubectl edit` or `helm upgrade` by hand; "
        "Flux reverts it.\n"
    },
    "a prohibition wrapped over two lines": {
        "docs/runbook.md": "Argo CD reverts manual changes, so **do not run `kubectl edit`,\n"
        "`kubectl apply` or `helm upgrade`** against the cluster; change the repo.\n"
    },
    "read-only verbs (already)": {
        "docs/runbooks/db.md": "kubectl get pods\nkubectl -n db logs db-0\n"
        "kubectl describe pod x\nkubectl diff -f a\n"
    },
}
NOTES: dict[str, dict[str, str]] = {
    "changelog": {"CHANGELOG.md": "- 1.2: ran `kubectl delete pod api-0` to pick up the new config\n"},
    "plan": {"docs/plans/migrate-db.md": "3. kubectl scale deploy api --replicas=0\n"},
    "archived doc": {"docs/archive/old-upgrade.md": "helm upgrade kps prometheus-community/kps\n"},
    "agent guide": {"AGENTS.md": "To test a change, kubectl apply -k overlays/dev in the kind cluster.\n"},
    "agent prompt": {".claude/commands/rollout.md": "kubectl rollout restart deploy/$ARGUMENTS\n"},
}


@pytest.mark.parametrize("case", sorted(NOT_STEPS) + sorted(NOTES))
def test_not_an_imperative_step(tmp_path: Path, case: str) -> None:
    d = detect(tmp_path, {**NOT_STEPS, **NOTES}[case], "DEC-IMPERATIVE-DOCS")
    assert (d.count, found(d)) == (0, [])


@pytest.mark.parametrize("case", sorted(NOTES))
def test_notes_are_reported_apart(tmp_path: Path, case: str) -> None:
    d = detect(tmp_path, NOTES[case], "DEC-IMPERATIVE-NOTES")
    assert d.count == 1 and [ref for ref, _ in found(d)] == [f"{next(iter(NOTES[case]))}:1"]


def test_imperative_steps_found(tmp_path: Path) -> None:
    files = {
        "docs/runbooks/ops.md": """
            kubectl scale deploy api -n app --replicas=3
            kubectl -n vault exec vault-0 -- vault operator unseal
            kubectl exec -it db-0 -- sh
            kubectl create secret generic x --dry-run=client -o yaml | kubectl apply -f -
            ssh root@pve systemctl restart nfs-server
            scp exports root@pve:/etc/exports && ssh root@pve exportfs -ra
            ssh root@pve
            Never use kubectl edit; instead helm upgrade app ./chart
            To avoid downtime, kubectl scale deploy api --replicas=4 first.
            If the rollout does not finish, kubectl rollout undo deploy/api.
            """,
        "scripts/sync.sh": 'ssh "$HOST" exportfs -ra\n',
    }
    d = detect(tmp_path, files, "DEC-IMPERATIVE-DOCS")
    assert found(d) == [
        ("docs/runbooks/ops.md:1", "kubectl scale"),
        ("docs/runbooks/ops.md:2", "kubectl exec"),
        ("docs/runbooks/ops.md:3", "kubectl exec"),
        ("docs/runbooks/ops.md:4", "kubectl apply"),
        ("docs/runbooks/ops.md:5", "ssh"),
        ("docs/runbooks/ops.md:6", "scp"),
        ("docs/runbooks/ops.md:7", "ssh"),
        ("docs/runbooks/ops.md:8", "helm upgrade"),
        ("docs/runbooks/ops.md:9", "kubectl scale"),
        ("docs/runbooks/ops.md:10", "kubectl rollout undo"),
        ("scripts/sync.sh:1", "ssh"),
    ]


# ----------------------------------------------------------------------------------- stale paths

TREE = {
    "scripts/deploy.sh": "#!/bin/sh\n",
    "apps/api/kustomization.yaml": "resources: []\n",
    "docs/decisions/0001-db.md": "# 0001\n",
    ".gitignore": "*.tfstate\n!seed.tfstate\n/kubeconfig\nsecrets/\n",
}
NOT_STALE: dict[str, str] = {
    "template placeholder": "Copy `apps/my-service/kustomization.yaml` for a new app.\n",
    "ellipsis placeholder": "Each app has `apps/.../kustomization.yaml`.\n",
    "numbered template": "Add an ADR as `docs/decisions/NNNN-title.md`.\n",
    "path/to": "Point it at `path/to/values.yaml`.\n",
    "other repo host": "The module lives at `github.com/acme/infra-modules/modules/db/main.tf`.\n",
    "other repo colon": "See `acme/platform:clusters/prod/flux-system/gotk-sync.yaml`.\n",
    "other repo sentence": "In the platform repo, `clusters/prod/apps.yaml` lists this app.\n",
    "gitignored file": "Plan output goes to `apps/api/terraform.tfstate`.\n",
    "gitignored dir": "Put the age key in `secrets/age.key` (never committed).\n",
    "root-relative ./": "Run `./scripts/deploy.sh` from the repo root.\n",
    "link beside the doc (already)": "See [the ADR](../decisions/0001-db.md).\n",
}


@pytest.mark.parametrize("case", sorted(NOT_STALE))
def test_not_a_stale_path(tmp_path: Path, case: str) -> None:
    d = detect(tmp_path, {**TREE, "docs/runbooks/deploy.md": NOT_STALE[case]}, "MNT-RUNBOOK-STALE-PATH")
    assert (d.count, found(d)) == (0, [])


def test_stale_paths_found(tmp_path: Path) -> None:
    doc = """
        1. Run `scripts/gone.sh`, then `./scripts/also-gone.sh`.
        2. See [the ADR](../decisions/0009-missing.md) and `apps/web/kustomization.yaml`.
        3. A re-included (`!`) gitignored file that is missing is stale: `apps/api/seed.tfstate`.
        """
    d = detect(tmp_path, {**TREE, "docs/runbooks/deploy.md": doc}, "MNT-RUNBOOK-STALE-PATH")
    assert found(d) == [
        ("docs/runbooks/deploy.md:1", "scripts/gone.sh"),
        ("docs/runbooks/deploy.md:1", "./scripts/also-gone.sh"),
        ("docs/runbooks/deploy.md:2", "apps/web/kustomization.yaml"),
        ("docs/runbooks/deploy.md:2", "../decisions/0009-missing.md"),
        ("docs/runbooks/deploy.md:3", "apps/api/seed.tfstate"),
    ]


def test_a_prohibition_governs_only_its_own_list(tmp_path: Path) -> None:
    """After the list a prohibition governs, a clause break ends it: a later command is a step, and a
    line after a closed prohibition is not governed by it."""
    files = {
        "docs/ops.md": "Never run `kubectl apply`; then `kubectl scale deploy api --replicas=0` and wait.\n"
        "Do not edit by hand.\n"
        "kubectl delete pod api-0\n"
    }
    d = detect(tmp_path, files, "DEC-IMPERATIVE-DOCS")
    assert found(d) == [("docs/ops.md:1", "kubectl scale"), ("docs/ops.md:3", "kubectl delete")]
