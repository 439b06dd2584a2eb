"""The refresh token in a cookie, for the web portal: a script can never read it (HttpOnly), only the refresh path
ever receives it (Path), no other site can make the browser send it (SameSite=Strict), and the refresh itself asks
for a header that a cross-site form or image cannot set and a cross-site script may not without CORS, which the
gateway never grants. Apps keep the JSON mode: the refresh token in the body."""

from werkzeug.wrappers import Response

from shared import config
from shared.contracts.identity import TokenPair
from shared.errors import InvalidToken
from shared.http import json_response
from services.gateway.routing import dump

MODE_HEADER = "X-Refresh-Mode"
PATH = "/api/v1/auth/refresh"
COOKIE_LIFETIME = 30 * 24 * 3600  # the identity service ends an idle family sooner; the cookie only carries it
DESCRIPTION = (
    f"With the header `{MODE_HEADER}: cookie` the refresh token is not in the answer but in an `HttpOnly; "
    f"SameSite=Strict` cookie (`Secure` in production) scoped to `{PATH}`; refresh then with the same header and "
    "no body."
)


def cookie_mode(request):
    return request.headers.get(MODE_HEADER, "").strip().lower() == "cookie"


def _secure():
    return str(config.get("COOKIE_SECURE", "false")).lower() == "true"


def cookie_name():
    # the __Secure- prefix makes the browser refuse the cookie from a page that is not https
    return "__Secure-sotay_refresh" if _secure() else "sotay_refresh"


def tokens_answer(tokens, in_cookie):
    """The JSON answer of a sign-in; in cookie mode the refresh token moves to the cookie."""
    if not in_cookie:
        return json_response(dump(TokenPair, tokens))
    response = json_response(dump(TokenPair, {key: value for key, value in tokens.items() if key != "refresh_token"}))
    response.set_cookie(
        cookie_name(),
        tokens["refresh_token"],
        max_age=COOKIE_LIFETIME,
        path=PATH,
        httponly=True,
        secure=_secure(),
        samesite="Strict",
    )
    return response


def forget(response: Response):
    response.delete_cookie(cookie_name(), path=PATH, httponly=True, secure=_secure(), samesite="Strict")
    return response


def signing_in(call):
    """A route handler for `call` (an identity RPC that answers a token pair) that speaks both modes."""
    service_name, method = call.split(".")

    def handler(service, route, request, **path):
        tokens = getattr(getattr(service.rpc, service_name), method)(*route.arguments(request, path))
        return tokens_answer(tokens, cookie_mode(request))

    handler.__name__ = method
    return handler


def refresh(service, route, request):
    if not cookie_mode(request):
        (body,) = route.arguments(request, {})
        return tokens_answer(service.rpc.identity.refresh(body), False)
    token = request.cookies.get(cookie_name())
    if not token:
        raise InvalidToken()
    try:
        tokens = service.rpc.identity.refresh({"refresh_token": token})
    except InvalidToken:
        raise InvalidToken(headers=_forgetting_headers()) from None
    return tokens_answer(tokens, True)


def _forgetting_headers():
    return {"Set-Cookie": forget(Response()).headers["Set-Cookie"]}


def logout(service, route, request):
    return forget(json_response(dump(route.answers[200], service.rpc.identity.logout())))
