"""``kube_get`` with fields redacts only what the fields read (``printers.project``): the same data as
redacting whole objects and then picking the fields, secrets included, without walking the rest."""

from __future__ import annotations

from typing import Any

import pytest
from estates import HOMELAB_SNAPSHOT

from tools import redact
from tools.kube import kubectl
from tools.kube.printers import json_path, project
from tools.kube.snapshot import SnapshotBackend

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # a GitHub token's shape (a test value)
APPLIED = '{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}'
OBJECTS: list[dict[str, Any]] = [
    {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "a", "annotations": {redact.LAST_APPLIED: APPLIED}},
        "data": {"password": "aHVudGVyMg==", "user": "YWRtaW4="},
        "stringData": {"token": TOKEN},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "a", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1",
                            "env": [
                                {"name": "DB_PASSWORD", "value": "hunter2hunter2"},
                                {"name": "MODE", "value": "prod"},
                                {"name": "GH", "value": TOKEN},
                            ],
                            "args": [f"--token={TOKEN}", "--port=80"],
                        },
                        {
                            "name": "side",
                            "image": "busybox",
                            "env": [{"name": "api_key", "value": "s3cr3tvalue9"}],
                        },
                    ]
                }
            },
        },
    },
]
FIELDS = [
    ["data.password", "stringData.token", "metadata.name"],
    ["data"],
    ["metadata.annotations", "kind"],
    ["spec.template.spec.containers[*].env[*].value"],
    ["spec.template.spec.containers[0].env[0].value", "spec.template.spec.containers[1].env"],
    ["spec.template.spec.containers[*].args", "spec.template.spec.containers[*].env[*].name"],
    ["spec.replicas", "spec", "spec.template.spec.containers[*].image"],
    ["metadata.namespace", "metadata.name", "metadata.ownerReferences", "status.phase", "no.such[*].path"],
]


def _picked(objects: list[dict[str, Any]], fields: list[str]) -> list[dict[str, Any]]:
    return [{f: json_path(o, f) for f in fields} for o in objects]


@pytest.mark.parametrize("fields", FIELDS, ids=lambda f: ",".join(f))
def test_redacting_the_projection_is_redacting_the_object(fields: list[str]) -> None:
    whole = _picked(redact.redact_object(OBJECTS), fields)
    assert _picked(redact.redact_object([project(o, fields) for o in OBJECTS]), fields) == whole
    assert (
        TOKEN not in repr(whole) and "hunter2hunter2" not in repr(whole) and "aHVudGVyMg==" not in repr(whole)
    )


def test_a_projection_leaves_out_what_no_field_reads() -> None:
    shown = project(OBJECTS[1], ["metadata.name", "spec.template.spec.containers[*].image"])
    assert shown == {
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "web", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]
                }
            }
        },
    }


def test_kube_get_with_fields_redacts_only_what_they_read(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    fields = ["metadata.namespace", "metadata.name", "metadata.ownerReferences"]
    walked: list[int] = []
    real = kubectl.redact_object

    def counting(obj: Any) -> Any:
        walked.append(len(repr(obj)))
        return real(obj)

    monkeypatch.setattr(kubectl, "redact_object", counting)
    result = kubectl.kube_get(backend, "deployments.apps", all_namespaces=True, fields=fields)
    objects = backend.list_objects(next(t for t in backend.api_resources() if t.plural == "deployments"))
    assert result.data == _picked(redact.redact_object(objects), fields)
    assert walked[0] < len(repr(objects)) / 4  # the three fields, not the whole Deployments


def test_a_listing_parses_each_field_once_not_once_per_object(monkeypatch: pytest.MonkeyPatch) -> None:
    """``project`` and ``json_path`` read a path's steps parsed once: listing three fields of 4,796
    Deployments parsed each path twice per object (a third of that ``kube_get``'s time at 10k pods)."""
    from tools.kube import printers

    fields = [
        "metadata.name",
        "spec.template.spec.containers[*].env[*].value",
        "metadata.labels.app\\.kubernetes\\.io/part-of",
    ]
    parsed: list[str] = []
    real = printers._SEGMENT

    class Counting:
        def match(self, segment: str) -> Any:
            parsed.append(segment)
            return real.match(segment)

    monkeypatch.setattr(printers, "_SEGMENT", Counting())
    once = _picked([project(o, fields) for o in OBJECTS], fields)
    first = len(parsed)
    many = _picked([project(o, fields) for o in OBJECTS * 50], fields)
    assert many == once * 50
    assert first <= 1 + 5 + 3  # each segment of each field at most once
    assert len(parsed) == first  # nothing parsed again, however many objects
