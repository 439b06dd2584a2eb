"""The VNeID OpenID Connect client: authorization code with PKCE (S256), state and nonce.

Authlib drives the OAuth 2.0 exchange; joserfc (Authlib's JOSE library)
verifies the ID token: signature with the issuer's JWKS (refetched once for an
unknown `kid`, so key rotation works), an algorithm allow-list, `iss`, `aud`
(and `azp` with several audiences), `exp` and `iat`, and the nonce. Storing
`state` and binding it to the browser is the caller's job.
"""
import secrets
import time
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

from shared.events import is_citizen_id

ALGORITHMS = ["RS256", "ES256"]     # asymmetric only: never "none", never HS* with a public key as secret


class VneidError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Authorization:
    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class VneidIdentity:
    issuer: str
    subject: str
    citizen_id: str
    claims: dict


class VneidClient:
    def __init__(self, issuer, client_id, client_secret, redirect_uri, citizen_id_claim="citizen_id",
                 http_timeout=5.0, leeway=30):
        self.issuer = issuer          # compared exactly with `iss` and the discovery document
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.citizen_id_claim = citizen_id_claim
        self.http_timeout = http_timeout
        self.leeway = leeway
        self._metadata = None
        self._jwks = None

    def _get(self, url):
        try:
            response = requests.get(url, timeout=self.http_timeout)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError):
            raise VneidError("provider_unreachable") from None

    def metadata(self):
        if self._metadata is None:
            document = self._get(f"{self.issuer.rstrip('/')}/.well-known/openid-configuration")
            if document.get("issuer") != self.issuer:
                raise VneidError("wrong_issuer")
            self._metadata = document
        return self._metadata

    def jwks(self, refresh=False):
        if self._jwks is None or refresh:
            self._jwks = self._get(self.metadata()["jwks_uri"])
        return self._jwks

    def _session(self):
        return OAuth2Session(self.client_id, self.client_secret, scope="openid profile",
                             redirect_uri=self.redirect_uri, code_challenge_method="S256",
                             token_endpoint_auth_method="client_secret_basic")

    def start(self):
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        code_verifier = secrets.token_urlsafe(64)
        url, _ = self._session().create_authorization_url(
            self.metadata()["authorization_endpoint"], state=state, nonce=nonce, code_verifier=code_verifier)
        return Authorization(url=url, state=state, nonce=nonce, code_verifier=code_verifier)

    def finish(self, code, code_verifier, expected_nonce):
        try:
            token = self._session().fetch_token(self.metadata()["token_endpoint"], code=code,
                                                code_verifier=code_verifier, timeout=self.http_timeout)
        except Exception:
            raise VneidError("token_exchange_failed") from None
        id_token = token.get("id_token")
        if not id_token:
            raise VneidError("token_exchange_failed")
        return self.validate_id_token(id_token, expected_nonce)

    def validate_id_token(self, id_token, expected_nonce):
        try:
            kid = jws.extract_compact(id_token.encode()).protected.get("kid")
            if kid not in {key.get("kid") for key in self.jwks().get("keys", [])}:
                self.jwks(refresh=True)   # the issuer may have rotated its keys
            token = jwt.decode(id_token, KeySet.import_key_set(self.jwks()), algorithms=ALGORITHMS)
        except (ValueError, JoseError):
            raise VneidError("bad_signature") from None
        claims = token.claims
        if claims.get("iss") != self.issuer:
            raise VneidError("wrong_issuer")
        registry = jwt.JWTClaimsRegistry(
            now=int(time.time()), leeway=self.leeway,
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise VneidError("expired") from None
        except (MissingClaimError, InvalidClaimError):
            raise VneidError("invalid_claims") from None
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
        if self.client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != self.client_id):
            raise VneidError("wrong_audience")
        if not expected_nonce or not secrets.compare_digest(str(claims.get("nonce", "")), expected_nonce):
            raise VneidError("wrong_nonce")
        citizen_id = str(claims.get(self.citizen_id_claim, ""))
        if not is_citizen_id(citizen_id):
            raise VneidError("missing_citizen_id")
        return VneidIdentity(issuer=self.issuer, subject=str(claims["sub"]), citizen_id=citizen_id, claims=claims)
