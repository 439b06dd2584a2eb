"""A local development OpenID Provider standing in for VNeID (never for production).

It speaks real OpenID Connect — discovery, JWKS, authorize (a sign-in page, its
response naming the issuer as RFC 9207 says), token (authorization code with
PKCE S256, client secret, exact redirect URI, single-use codes) — so the whole
sign-in can be tried and tested offline:

    python -m tools.vneid_idp --port 8100 --client sotay-dev:secret:http://127.0.0.1:8000/api/v1/auth/vneid/callback
"""

import argparse
import base64
import hashlib
import html
import logging
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.routing import Map, Rule
from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

CODE_TTL = 60
ID_TOKEN_TTL = 300

PAGE = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>VNeID (phát triển)</title>
<body style="font-family:sans-serif;max-width:28rem;margin:3rem auto">
<h1>Đăng nhập VNeID (môi trường phát triển) / VNeID sign-in (development)</h1>
<form method="post" action="/authorize">{hidden}
<label>Số định danh cá nhân / Citizen ID<br><input name="citizen_id" required pattern="\\d{{12}}" autofocus></label><br>
<label>Họ và tên / Full name<br><input name="full_name"></label><br><br>
<button type="submit">Đồng ý / Approve</button></form></body></html>"""


def _json(data, status=200, headers=None):
    import json

    return Response(
        json.dumps(data),
        status=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
        content_type="application/json",
    )


def _oauth_error(error, description, status=400):
    return _json({"error": error, "error_description": description}, status=status)


def _s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def load_key(path=None):
    if path and Path(path).exists():
        return RSAKey.import_key(Path(path).read_bytes())
    key = RSAKey.generate_key(2048)
    if path:
        Path(path).write_bytes(key.as_pem(private=True))
    key.ensure_kid()  # the key's thumbprint: the same kid every time the file is loaded
    return key


class Provider:
    def __init__(self, issuer, clients, key):
        self.issuer = issuer.rstrip("/")
        self.clients = clients  # client_id → (secret, redirect_uri)
        self.key = key
        self.key.ensure_kid()
        self.codes = {}
        self.lock = threading.Lock()
        self.url_map = Map(
            [
                Rule("/.well-known/openid-configuration", endpoint="discovery"),
                Rule("/jwks", endpoint="jwks"),
                Rule("/authorize", endpoint="authorize", methods=["GET", "POST"]),
                Rule("/token", endpoint="token", methods=["POST"]),
            ]
        )

    def discovery(self, request):
        return _json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "profile"],
                "claims_supported": ["sub", "name", "citizen_id"],
                "authorization_response_iss_parameter_supported": True,
            }
        )

    def jwks(self, request):
        return _json({"keys": [{**self.key.as_dict(private=False), "use": "sig", "alg": "RS256"}]})

    def authorize(self, request):
        params = request.args if request.method == "GET" else request.form
        client = self.clients.get(params.get("client_id", ""))
        if client is None or params.get("redirect_uri") != client[1]:
            # never redirect to an address that is not registered
            return Response(
                "<h1>Ứng dụng hoặc địa chỉ chuyển hướng không hợp lệ / Invalid client or redirect URI</h1>",
                status=400,
                content_type="text/html; charset=utf-8",
            )
        problems = [name for name in ("state", "nonce", "code_challenge") if not params.get(name)]
        if params.get("response_type") != "code" or params.get("code_challenge_method") != "S256" or problems:
            query = urlencode({"error": "invalid_request", "state": params.get("state", ""), "iss": self.issuer})
            return Response(status=302, headers={"Location": f"{params['redirect_uri']}?{query}"})
        keep = (
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
        )
        if request.method == "GET":
            hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(params.get(k, ""))}">' for k in keep)
            return Response(PAGE.format(hidden=hidden), content_type="text/html; charset=utf-8")
        citizen_id = params.get("citizen_id", "").strip()
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = {
                **{k: params.get(k) for k in keep},
                "citizen_id": citizen_id,
                "name": params.get("full_name", ""),
                "expires": time.time() + CODE_TTL,
            }
        query = urlencode({"code": code, "state": params["state"], "iss": self.issuer})  # RFC 9207
        return Response(status=302, headers={"Location": f"{params['redirect_uri']}?{query}"})

    def _client_credentials(self, request):
        if request.authorization and request.authorization.type == "basic":
            return request.authorization.username, request.authorization.password
        return request.form.get("client_id"), request.form.get("client_secret")

    def token(self, request):
        client_id, secret = self._client_credentials(request)
        client = self.clients.get(client_id or "")
        if client is None or not secrets.compare_digest(client[0], secret or ""):
            return _oauth_error("invalid_client", "unknown client or wrong secret", 401)
        if request.form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "authorization_code only")
        with self.lock:
            grant = self.codes.pop(request.form.get("code", ""), None)  # single use
        if grant is None or grant["expires"] < time.time() or grant["client_id"] != client_id:
            return _oauth_error("invalid_grant", "unknown, used or expired code")
        if request.form.get("redirect_uri") != grant["redirect_uri"]:
            return _oauth_error("invalid_grant", "redirect_uri differs from the authorization request")
        if _s256(request.form.get("code_verifier", "")) != grant["code_challenge"]:
            return _oauth_error("invalid_grant", "PKCE verification failed")
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "vneid-" + hashlib.sha256(grant["citizen_id"].encode()).hexdigest()[:16],
            "aud": client_id,
            "iat": now,
            "exp": now + ID_TOKEN_TTL,
            "nonce": grant["nonce"],
            "citizen_id": grant["citizen_id"],
            "name": grant["name"],
        }
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        return _json(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": ID_TOKEN_TTL,
                "id_token": id_token,
            }
        )

    def __call__(self, environ, start_response):
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, _ = adapter.match()
            response = getattr(self, endpoint)(request)
        except Exception as exc:  # werkzeug's HTTP errors are responses too
            response = exc if hasattr(exc, "get_response") else _oauth_error("server_error", type(exc).__name__, 500)
        return response(environ, start_response)


def make_app(issuer, clients, key):
    return Provider(issuer, clients, key)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--issuer")
    parser.add_argument("--client", action="append", default=[], help="id:secret:redirect_uri")
    parser.add_argument("--keys-file")
    args = parser.parse_args(argv)
    clients = {}
    for spec in args.client:
        client_id, secret, redirect_uri = spec.split(":", 2)
        clients[client_id] = (secret, redirect_uri)
    issuer = args.issuer or f"http://{args.host}:{args.port}"
    app = make_app(issuer, clients, load_key(args.keys_file))
    print(f"VNeID development provider at {issuer}", flush=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request (they carry codes)
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
