"""Sign-in with VNeID through the gateway against a certified OpenID provider (Node `oidc-provider`, its
defaults: scope-requested claims only in UserInfo, `iss` in the authorization response), a browser following
every redirect and submitting the provider's login and consent forms."""

import pytest
import requests

from tests.e2e.conftest import ADMINISTRATOR, Running, bearer, error_code, login
from tests.e2e.people import Factory
from tests.support.certified_provider import browse, certified_provider
from tests.support.suite import throwaway_suite
from tests.support.waiting import free_port, wait_for

pytestmark = pytest.mark.e2e

CLIENT_ID, SECRET = "sotay", "a-client-secret-long-enough-for-the-provider"


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    gateway_port = str(free_port())
    redirect_uri = f"http://127.0.0.1:{gateway_port}/api/v1/auth/vneid/callback"
    registration = {"client_id": CLIENT_ID, "client_secret": SECRET, "redirect_uris": [redirect_uri]}
    with certified_provider(registration, tmp_path_factory.mktemp("oidc-provider")) as issuer:
        env = {
            "GATEWAY_PORT": gateway_port,
            "VNEID_ISSUER": issuer,
            "VNEID_CLIENT_ID": CLIENT_ID,
            "VNEID_CLIENT_SECRET": SECRET,
            "VNEID_REDIRECT_URI": redirect_uri,
            "VNEID_SCOPES": "openid profile citizen",
        }  # the provider releases citizen_id under `citizen`
        with throwaway_suite("sotay-vneid", env=env) as started:
            wait_for(
                lambda: login(started.base, ADMINISTRATOR).status_code == 200,
                timeout=30,
                interval=0.2,
                message="identity's projection of the administrator",
            )
            yield started


@pytest.fixture(scope="module")
def base(started):
    return started.base


def test_a_member_signs_in_with_vneid_at_a_certified_provider(started, base):
    factory = Factory(Running(started.base, started.data_dir, started.amqp_uri, started.suite))
    citizen_id = factory.member(factory.branch())["citizen_id"]  # never signed in
    signed_in = browse(requests.Session(), f"{base}/auth/vneid/login", citizen_id)
    assert signed_in.status_code == 200, signed_in.text
    me = requests.get(f"{base}/me", headers=bearer(signed_in.json()["access_token"]), timeout=10)
    assert me.status_code == 200 and me.json()["citizen_id"] == citizen_id
    again = browse(requests.Session(), f"{base}/auth/vneid/login", citizen_id)
    assert again.status_code == 200, again.text


def test_a_citizen_who_is_not_a_member_is_told_so(base):
    refused = browse(requests.Session(), f"{base}/auth/vneid/login", "009999999996")
    assert refused.status_code == 403 and error_code(refused) == "not_a_member"
