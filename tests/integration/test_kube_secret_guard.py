"""The live transport refuses any request for Secrets that is not metadata-only, at the transport.

The tools never ask for a Secret's data (``test_kube_live.py`` shows the headers they send); these
tests hand-build the requests the tools would never make, at each layer of the client (the API
classes, ``call_api``, the REST client, the urllib3 pool), and show that the guard refuses every one
before a byte reaches the emulated API server, which would answer them with the data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kube_emulator import KubeEmulator
from kubernetes import client as k8s_client

from domain.errors import ReadOnlyViolation, SafetyError, SecretReadViolation
from tools.kube import kubectl as k
from tools.kube.live import LiveBackend
from tools.kube.transport import METADATA_LIST, METADATA_ONE, is_metadata_only, is_secrets_path

pytestmark = pytest.mark.unit

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "snapshot-mini"
SECRET_DATA = "c3VwZXJzZWNyZXQ"  # base64 of the fixture's Secret value


@pytest.fixture(scope="module")
def emulator() -> Iterator[KubeEmulator]:
    emu = KubeEmulator(MINI)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def live(emulator: KubeEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBackend]:
    config = emulator.kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    backend = LiveBackend.from_kubeconfig(kubeconfig=str(config))
    yield backend
    backend.close()


JSON_ACCEPT = {"Accept": "application/json"}
FULL_GETS: dict[str, Callable[[k8s_client.ApiClient, str], Any]] = {
    "CoreV1Api list all": lambda api, url: k8s_client.CoreV1Api(api).list_secret_for_all_namespaces(),
    "CoreV1Api list namespaced": lambda api, url: k8s_client.CoreV1Api(api).list_namespaced_secret("immich"),
    "CoreV1Api read one": lambda api, url: k8s_client.CoreV1Api(api).read_namespaced_secret(
        "immich-db", "immich"
    ),
    "call_api list, no Accept": lambda api, url: api.call_api("GET", f"{url}/api/v1/secrets"),
    "call_api one, JSON": lambda api, url: api.call_api(
        "GET", f"{url}/api/v1/namespaces/immich/secrets/immich-db", JSON_ACCEPT
    ),
    "call_api watch query": lambda api, url: api.call_api(
        "GET", f"{url}/api/v1/secrets?watch=true&limit=5", JSON_ACCEPT
    ),
    "call_api watch prefix": lambda api, url: api.call_api(
        "GET", f"{url}/api/v1/watch/namespaces/immich/secrets", JSON_ACCEPT
    ),
    "percent-encoded path": lambda api, url: api.call_api(
        "GET", f"{url}/api/v1/namespaces/immich/%73ecrets/immich-db", JSON_ACCEPT
    ),
    "dot segments": lambda api, url: api.call_api(
        "GET", f"{url}/api/v1/namespaces/immich/pods/../secrets", JSON_ACCEPT
    ),
    "metadata offered beside JSON": lambda api, url: api.call_api(
        "GET", f"{url}/api/v1/secrets", {"Accept": f"{METADATA_LIST}, application/json"}
    ),
    "metadata list as a table": lambda api, url: api.call_api(
        "GET", f"{url}/api/v1/secrets", {"Accept": "application/json;as=Table;g=meta.k8s.io;v=v1"}
    ),
    "rest client": lambda api, url: api.rest_client.request(
        "GET", f"{url}/api/v1/namespaces/immich/secrets", headers=JSON_ACCEPT
    ),
    "rest client, headers positional": lambda api, url: api.rest_client.request(
        "GET", f"{url}/api/v1/secrets", JSON_ACCEPT
    ),
    "urllib3 pool request": lambda api, url: api.rest_client.pool_manager.request(
        "GET", f"{url}/api/v1/secrets", headers=JSON_ACCEPT
    ),
    "urllib3 urlopen, no headers": lambda api, url: api.rest_client.pool_manager.urlopen(
        "GET", f"{url}/api/v1/namespaces/immich/secrets/immich-db"
    ),
}


@pytest.mark.parametrize("name", list(FULL_GETS))
def test_a_full_secret_get_is_refused_before_any_byte_is_sent(
    name: str, live: LiveBackend, emulator: KubeEmulator
) -> None:
    mark = len(emulator.requests())
    with pytest.raises(SecretReadViolation) as refused:
        FULL_GETS[name](live.api_client, emulator.url)
    assert isinstance(refused.value, SafetyError) and refused.value.exit_code == 3
    assert not isinstance(refused.value, ReadOnlyViolation)  # a GET: refused for what it asks, not its verb
    assert emulator.requests()[mark:] == []


def test_the_metadata_only_forms_still_work_and_the_server_would_have_answered_with_data(
    live: LiveBackend, emulator: KubeEmulator
) -> None:
    listed = k.kube_get(live, "secrets", all_namespaces=True)
    one = live.api_client.call_api(
        "GET", f"{emulator.url}/api/v1/namespaces/immich/secrets/immich-db", {"Accept": METADATA_ONE}
    )
    assert listed.value is not None and listed.value > 0
    assert json.loads(one.read())["kind"] == "PartialObjectMetadata"
    assert SECRET_DATA not in listed.model_dump_json()
    # the refusals above are not vacuous: an unguarded client gets the data from the same server
    raw = urllib3.request("GET", f"{emulator.url}/api/v1/secrets", headers=JSON_ACCEPT)
    assert SECRET_DATA in raw.data.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/secrets",
        "/api/v1/namespaces/x/secrets",
        "/api/v1/namespaces/x/secrets/y",
        "/api/v1/watch/secrets",
        "/api/v1/watch/namespaces/x/secrets/y",
        "/k8s/clusters/c-1/api/v1/namespaces/x/secrets?watch=1",
        "https://h:6443/api/v1/namespaces/x/SECRETS",
        "//api//v1/./secrets",
    ],
)
def test_secrets_paths(path: str) -> None:
    assert is_secrets_path(path)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/namespaces/secrets",  # the namespace called "secrets"
        "/api/v1/namespaces/secrets/pods",
        "/api/v1/namespaces/secrets/configmaps/x",
        "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses",
        "/api/v1/pods",
        "/api",
    ],
)
def test_paths_that_are_not_secrets(path: str) -> None:
    assert not is_secrets_path(path)


def test_only_the_metadata_content_types_count_as_metadata_only() -> None:
    assert is_metadata_only(METADATA_LIST) and is_metadata_only(METADATA_ONE)
    assert is_metadata_only(f"{METADATA_LIST}, {METADATA_ONE}")
    assert is_metadata_only(METADATA_LIST.replace(";", "; "))
    for accept in (None, "", "*/*", "application/json", f"{METADATA_LIST};q=0.9", f"{METADATA_ONE},*/*"):
        assert not is_metadata_only(accept), accept
