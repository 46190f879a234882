"""An `auth-provider: oidc` user stays signed in: the id-token is refreshed at the issuer's
token endpoint when it has expired and after a 401, with the refresh token and the client
credentials, as client-go's oidc plugin refreshes it -- not only once at load (the
kubernetes client), and never on the event loop."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

import pytest

from helpers.kube_cluster import NS, POD, tls_cluster
from helpers.loopback import loopback_http
from meshtui.kube import config
from meshtui.kube.portforward import ForwardManager, ForwardState


def jwt(sub: str, exp: float) -> str:
    def part(doc: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'sub': sub, 'exp': int(exp)})}.c2ln"


class Issuer:
    """The identity provider: discovery, and a token endpoint that hands out `next`."""

    def __init__(self) -> None:
        self.next = ""
        self.refused = ""  # an OAuth error code to answer instead
        self.grants: list[dict[str, list[str]]] = []
        self.auth: list[str] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def reply(self, code: int, doc: dict) -> None:
                body = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                host = self.headers["Host"]
                self.reply(200, {"issuer": f"http://{host}", "token_endpoint": f"http://{host}/token"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                issuer.grants.append(urllib.parse.parse_qs(self.rfile.read(length).decode()))
                issuer.auth.append(self.headers.get("Authorization", ""))
                if issuer.refused:
                    self.reply(400, {"error": issuer.refused, "error_description": "Token is not active"})
                else:
                    self.reply(
                        200, {"id_token": issuer.next, "refresh_token": "refresh-2", "token_type": "Bearer"}
                    )

        return Handler


@pytest.fixture()
def setup(tmp_path, mesh):
    issuer = Issuer()
    with loopback_http(issuer.handler()) as url, tls_cluster(tmp_path, mesh) as cluster:
        yield cluster, issuer, url


def kubeconfig(cluster, url: str, id_token: str) -> str:
    provider = {
        "name": "oidc",
        "config": {
            "idp-issuer-url": url,
            "client-id": "meshtui",
            "client-secret": "s3cret",
            "id-token": id_token,
            "refresh-token": "refresh-1",
        },
    }
    return cluster.kubeconfig(user={"auth-provider": provider})


def refreshed_with_the_refresh_token(issuer: Issuer) -> bool:
    grant = issuer.grants[-1]
    basic = "Basic " + base64.b64encode(b"meshtui:s3cret").decode()
    return (
        grant == {"grant_type": ["refresh_token"], "refresh_token": ["refresh-1"]}
        and issuer.auth[-1] == basic
    )


async def test_a_401_refreshes_the_id_token_and_the_forward_carries_on(setup):
    cluster, issuer, url = setup
    first, second = jwt("jane", time.time() + 3600), jwt("jane", time.time() + 7200)
    cluster.run(cluster.api.rotate_token(first, "jane"))
    target = config.load(kubeconfig(cluster, url, first))
    assert issuer.grants == []  # valid at load: no refresh
    manager = ForwardManager(target)
    try:
        fwd = await manager.acquire(NS, POD, 15000)
        assert await fwd.probe()
        # the provider revokes the session's token early; the next one comes from a refresh
        issuer.next = second
        cluster.run(cluster.api.rotate_token(second, "jane", revoke=(first,)))
        assert await fwd.probe()  # 401, a refresh in a worker thread, then through
        assert fwd.status.state == ForwardState.UP
        assert refreshed_with_the_refresh_token(issuer)
        assert target.auth_header() == f"Bearer {second}"
    finally:
        await manager.close()


def test_an_expired_id_token_is_refreshed_before_the_first_request(setup):
    cluster, issuer, url = setup
    fresh = jwt("jane", time.time() + 3600)
    issuer.next = fresh
    cluster.run(cluster.api.rotate_token(fresh, "jane"))
    target = config.load(kubeconfig(cluster, url, jwt("jane", time.time() - 60)))
    names = [p.metadata.name for p in target.core().list_namespaced_pod(NS, _request_timeout=10).items]
    assert names == [POD] and refreshed_with_the_refresh_token(issuer)


def test_a_refused_refresh_says_log_in_again_in_one_line(setup):
    cluster, issuer, url = setup
    issuer.refused = "invalid_grant"
    with pytest.raises(
        config.KubeError, match=r"refused the refresh \(Token is not active\): log in again"
    ) as err:
        config.load(kubeconfig(cluster, url, jwt("jane", time.time() - 60)))
    assert "\n" not in str(err.value)
