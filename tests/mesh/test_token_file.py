"""A `tokenFile` user whose token is replaced on disk (a projected service-account token,
a rotating credential) keeps working: the file is read again after a 401 and every minute,
as client-go's cached file token source does; the kubernetes client alone reads it once."""

from __future__ import annotations

import asyncio

import pytest

from helpers.kube_cluster import NS, POD, tls_cluster
from meshtui.kube import config, credentials
from meshtui.kube.pods import PodWatch
from meshtui.kube.portforward import ForwardManager, ForwardState


@pytest.fixture()
def setup(tmp_path, mesh):
    with tls_cluster(tmp_path, mesh) as cluster:
        cluster.run(cluster.api.rotate_token("token-a", "file-user"))
        token_file = tmp_path / "token"
        token_file.write_text("token-a\n")
        yield cluster, token_file, config.load(cluster.kubeconfig(user={"tokenFile": str(token_file)}))


def rotate(cluster, token_file) -> None:
    token_file.write_text("token-b\n")
    cluster.run(cluster.api.rotate_token("token-b", "file-user", revoke=("token-a",)))
    cluster.run(cluster.api.end_watches())  # as the watch's timeout would: it meets the change


async def test_a_forward_reads_the_new_token_after_a_401(setup):
    cluster, token_file, target = setup
    manager = ForwardManager(target)
    try:
        fwd = await manager.acquire(NS, POD, 15000)
        assert await fwd.probe()
        rotate(cluster, token_file)
        assert await fwd.probe()  # a new stream: 401 with token-a, then token-b from the file
        assert fwd.status.state == ForwardState.UP
        assert target.auth_header() == "Bearer token-b"
    finally:
        await manager.close()


async def test_the_pods_watch_reads_the_new_token_without_an_error(setup):
    cluster, token_file, target = setup
    events = PodWatch(target, NS).events()
    try:
        assert (await asyncio.wait_for(anext(events), 10)).kind == "SYNC"
        rotate(cluster, token_file)  # ends the open watch: the next list meets the 401
        event = await asyncio.wait_for(anext(events), 10)
        assert event.kind == "SYNC", event
        assert POD in {p.name for p in event.pods}
    finally:
        await events.aclose()


def test_the_file_is_read_again_after_a_minute(setup, monkeypatch):
    _cluster, token_file, target = setup
    assert target.auth_header() == "Bearer token-a"
    token_file.write_text("token-b\n")
    assert target.auth_header() == "Bearer token-a"  # cached within the minute
    clock = [credentials.time.monotonic() + credentials.FileToken.PERIOD]
    monkeypatch.setattr(credentials.time, "monotonic", lambda: clock[0])
    assert target.auth_header() == "Bearer token-b"


def test_a_missing_token_file_fails_the_load_in_one_line(tmp_path, mesh):
    with tls_cluster(tmp_path, mesh) as cluster:
        kc = cluster.kubeconfig(user={"tokenFile": str(tmp_path / "nowhere")})
        with pytest.raises(config.KubeError, match=r"tokenFile .*nowhere: No such file") as err:
            config.load(kc)
        assert "\n" not in str(err.value)
