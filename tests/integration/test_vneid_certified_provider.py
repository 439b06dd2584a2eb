"""The VNeID client against a certified OpenID provider (Node `oidc-provider`, its defaults) driven as a browser
would: what the provider announces in discovery decides the token endpoint's authentication and the ID token's
algorithm, and the citizen ID, which such a provider releases only from UserInfo, is still found."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc.jwk import ECKey

from services.identity.vneid import VneidClient, VneidError
from tests.support.certified_provider import browse, certified_provider

CLIENT_ID, SECRET = "sotay", "a-client-secret-long-enough-for-the-provider"
REDIRECT = "http://127.0.0.1:9/api/v1/auth/vneid/callback"  # never reached: the browser stops there
SCOPES = "openid profile citizen"  # `citizen` releases citizen_id


def sign_in(client, citizen_id="001000000002"):
    authorization = client.start()
    callback = browse(requests.Session(), authorization.url, citizen_id, stop_at=REDIRECT)
    query = {key: values[0] for key, values in parse_qs(urlsplit(callback).query).items()}
    assert query["state"] == authorization.state
    return authorization, query


def test_a_member_signs_in_with_the_providers_defaults(tmp_path):
    registration = {"client_id": CLIENT_ID, "client_secret": SECRET, "redirect_uris": [REDIRECT]}
    with certified_provider(registration, tmp_path) as issuer:
        client = VneidClient(issuer, CLIENT_ID, SECRET, REDIRECT, scopes=SCOPES)
        authorization, query = sign_in(client)
        assert query["iss"] == issuer  # RFC 9207
        identity = client.finish(query["code"], authorization.code_verifier, authorization.nonce, iss=query["iss"])
        assert (identity.issuer, identity.citizen_id) == (issuer, "001000000002")


@pytest.mark.parametrize(
    "auth_method, algorithm",
    [
        ("client_secret_post", "PS256"),
        ("private_key_jwt", "ES256"),
        ("client_secret_basic", "EdDSA"),
    ],
)
def test_the_token_endpoint_authentication_and_the_id_token_algorithm_follow_discovery(
    tmp_path, auth_method, algorithm
):
    key = ECKey.generate_key("P-256")
    key.ensure_kid()
    registration = {
        "client_id": CLIENT_ID,
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": auth_method,
        "id_token_signed_response_alg": algorithm,
    }
    if auth_method == "private_key_jwt":
        registration["jwks"] = {"keys": [key.as_dict(private=False)]}
    else:
        registration["client_secret"] = SECRET
    with certified_provider(registration, tmp_path, client_auth_methods=[auth_method]) as issuer:
        client = VneidClient(
            issuer,
            CLIENT_ID,
            None if auth_method == "private_key_jwt" else SECRET,
            REDIRECT,
            scopes=SCOPES,
            client_key=key if auth_method == "private_key_jwt" else None,
        )
        assert client.token_auth_method() == auth_method
        authorization, query = sign_in(client, "079000000004")
        identity = client.finish(query["code"], authorization.code_verifier, authorization.nonce, iss=query["iss"])
        assert identity.citizen_id == "079000000004"


def test_a_response_from_another_issuer_is_refused_before_the_code_is_spent(tmp_path):
    registration = {"client_id": CLIENT_ID, "client_secret": SECRET, "redirect_uris": [REDIRECT]}
    with certified_provider(registration, tmp_path) as issuer:
        client = VneidClient(issuer, CLIENT_ID, SECRET, REDIRECT, scopes=SCOPES)
        authorization, query = sign_in(client)
        for iss, reason in (("https://impostor.example", "wrong_issuer"), (None, "missing_issuer")):
            with pytest.raises(VneidError) as refused:
                client.finish(query["code"], authorization.code_verifier, authorization.nonce, iss=iss)
            assert refused.value.reason == reason
        # the code was not sent anywhere: it still works with the right issuer
        identity = client.finish(query["code"], authorization.code_verifier, authorization.nonce, iss=issuer)
        assert identity.citizen_id == "001000000002"
