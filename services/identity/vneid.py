"""The VNeID OpenID Connect client: authorization code with PKCE (S256), state and nonce.

Authlib drives the OAuth 2.0 exchange; joserfc (Authlib's JOSE library)
verifies the ID token: signature with the issuer's JWKS (refetched once for an
unknown `kid`, so key rotation works), an algorithm allow-list, `iss`, `aud`
(and `azp` with several audiences), `exp` and `iat`, and the nonce. Storing
`state` and binding it to the browser is the caller's job.

What the provider supports is read from its discovery document: the token
endpoint's client authentication and the ID token's signing algorithms (within
our allow-list). The citizen ID is read from the ID token or, when the provider
releases it only from UserInfo (OpenID Connect Core §5.4, the default of
certified providers for the code flow), from UserInfo for the same `sub`.
"""

import secrets
import time
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from shared.contracts.common import is_citizen_id

# asymmetric only: never "none", never HS* (a public key must not become a shared secret)
ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
# the strongest the provider offers and we hold credentials for
TOKEN_AUTH_METHODS = ("private_key_jwt", "client_secret_basic", "client_secret_post")
DEFAULT_SCOPES = "openid profile"


def load_client_key(path):
    """The private key (PEM: RSA, EC P-256 or Ed25519) that signs private_key_jwt client assertions."""
    data = open(path, "rb").read()
    for key_type in (RSAKey, ECKey, OKPKey):
        try:
            key = key_type.import_key(data)
        except (ValueError, TypeError, JoseError):
            continue
        key.ensure_kid()  # its thumbprint: register the public key with the provider under this kid
        return key
    raise ValueError(f"{path}: not an RSA, EC or Ed25519 private key in PEM")


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
    def __init__(
        self,
        issuer,
        client_id,
        client_secret,
        redirect_uri,
        citizen_id_claim="citizen_id",
        http_timeout=5.0,
        leeway=30,
        scopes=DEFAULT_SCOPES,
        client_key=None,
    ):
        self.issuer = issuer  # compared exactly with `iss` and the discovery document
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.citizen_id_claim = citizen_id_claim
        self.http_timeout = http_timeout
        self.leeway = leeway
        self.scopes = " ".join((scopes or DEFAULT_SCOPES).split())
        self.client_key = client_key  # a joserfc private key: enables private_key_jwt
        self._metadata = None
        self._jwks = None

    def _get(self, url, **kwargs):
        try:
            response = requests.get(url, timeout=self.http_timeout, **kwargs)
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

    def algorithms(self):
        """The ID token algorithms the provider announces, within the allow-list (RS256 when it says none:
        OpenID Connect Discovery makes RS256 mandatory)."""
        offered = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        usable = [alg for alg in ALLOWED_ALGORITHMS if alg in offered]
        if not usable:
            raise VneidError("unsupported_algorithm")
        return usable

    def token_auth_method(self):
        """The first of TOKEN_AUTH_METHODS that discovery lists and we have credentials for (an absent list means
        client_secret_basic, as OpenID Connect Discovery says)."""
        offered = self.metadata().get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        held = {
            "private_key_jwt": self.client_key is not None,
            "client_secret_basic": bool(self.client_secret),
            "client_secret_post": bool(self.client_secret),
        }
        for method in TOKEN_AUTH_METHODS:
            if method in offered and held[method]:
                return method
        raise VneidError("unsupported_token_auth")

    def _session(self, method=None):
        credential = self.client_key if method == "private_key_jwt" else self.client_secret
        session = OAuth2Session(
            self.client_id,
            credential,
            scope=self.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=method,
        )
        if method == "private_key_jwt":
            session.register_client_auth_method(
                PrivateKeyJWT(
                    self.metadata()["token_endpoint"],
                    headers={"kid": self.client_key.kid},
                    alg={"EC": "ES256", "OKP": "EdDSA"}.get(self.client_key.key_type, "RS256"),
                )
            )
        return session

    def start(self):
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        code_verifier = secrets.token_urlsafe(64)
        url, _ = self._session().create_authorization_url(
            self.metadata()["authorization_endpoint"], state=state, nonce=nonce, code_verifier=code_verifier
        )
        return Authorization(url=url, state=state, nonce=nonce, code_verifier=code_verifier)

    def check_response_issuer(self, iss):
        """RFC 9207: the authorization response names its issuer (a mix-up defence); checked before the code
        goes anywhere. A provider that announces the parameter must send it."""
        if iss is None:
            if self.metadata().get("authorization_response_iss_parameter_supported"):
                raise VneidError("missing_issuer")
        elif iss != self.issuer:
            raise VneidError("wrong_issuer")

    def finish(self, code, code_verifier, expected_nonce, iss=None):
        """The identity behind an authorization response's `code` (`iss`: the response's issuer, if it sent one)."""
        self.check_response_issuer(iss)
        metadata = self.metadata()
        try:
            token = self._session(self.token_auth_method()).fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=code_verifier, timeout=self.http_timeout
            )
        except VneidError:
            raise
        except Exception:
            raise VneidError("token_exchange_failed") from None
        id_token = token.get("id_token")
        if not id_token:
            raise VneidError("token_exchange_failed")
        claims = self.id_token_claims(id_token, expected_nonce)
        if self.citizen_id_claim not in claims:
            claims = {**self.userinfo(token.get("access_token"), claims["sub"]), **claims}
        return self._identity(claims)

    def userinfo(self, access_token, subject):
        """UserInfo's claims, only for the subject of the ID token (OpenID Connect Core §5.3.2)."""
        endpoint = self.metadata().get("userinfo_endpoint")
        if not endpoint or not access_token:
            raise VneidError("missing_citizen_id")
        try:
            response = requests.get(
                endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=self.http_timeout,
            )
            response.raise_for_status()
            claims = response.json()
        except (requests.RequestException, ValueError):
            raise VneidError("userinfo_failed") from None
        if not isinstance(claims, dict) or claims.get("sub") != subject:
            raise VneidError("userinfo_subject_mismatch")
        return claims

    def id_token_claims(self, id_token, expected_nonce):
        """The claims of a valid ID token for this client and this sign-in (VneidError names what is wrong)."""
        try:
            header = jws.extract_compact(id_token.encode()).protected
        except (ValueError, JoseError):
            raise VneidError("malformed_token") from None
        if header.get("alg") not in self.algorithms():
            raise VneidError("disallowed_algorithm")
        if header.get("kid") not in {key.get("kid") for key in self.jwks().get("keys", [])}:
            self.jwks(refresh=True)  # the issuer may have rotated its keys
        try:
            token = jwt.decode(id_token, KeySet.import_key_set(self.jwks()), algorithms=self.algorithms())
        except BadSignatureError:
            raise VneidError("bad_signature") from None
        except (ValueError, JoseError):
            raise VneidError("unknown_key") from None
        claims = token.claims
        if claims.get("iss") != self.issuer:
            raise VneidError("wrong_issuer")
        registry = jwt.JWTClaimsRegistry(
            now=int(time.time()),
            leeway=self.leeway,
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
        return claims

    def validate_id_token(self, id_token, expected_nonce):
        """The identity an ID token names by itself (no UserInfo)."""
        return self._identity(self.id_token_claims(id_token, expected_nonce))

    def _identity(self, claims):
        citizen_id = str(claims.get(self.citizen_id_claim, ""))
        if not is_citizen_id(citizen_id):
            raise VneidError("missing_citizen_id")
        return VneidIdentity(issuer=self.issuer, subject=str(claims["sub"]), citizen_id=citizen_id, claims=claims)
