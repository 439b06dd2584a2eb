"""A throw-away RabbitMQ vhost per test, through the management API."""

import base64
import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request

BROKER_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
_parts = urllib.parse.urlsplit(BROKER_URI)
USER = _parts.username or "guest"
PASSWORD = _parts.password or "guest"
HOST = _parts.hostname or "127.0.0.1"
PORT = _parts.port or 5672
API = os.environ.get("RABBIT_API_URI", f"http://{HOST}:15672/api")


def _call(method, path, body=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        f"{API}{path}",
        data=data,
        method=method,
        headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


def management_answers():
    try:
        _call("GET", "/overview", timeout=3)
        return True
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def create_vhost(prefix="sotay_test"):
    name = f"{prefix}_{secrets.token_hex(5)}"
    quoted = urllib.parse.quote(name, safe="")
    _call("PUT", f"/vhosts/{quoted}", {})
    _call(
        "PUT",
        f"/permissions/{quoted}/{urllib.parse.quote(USER, safe='')}",
        {"configure": ".*", "write": ".*", "read": ".*"},
    )
    return name, f"amqp://{USER}:{PASSWORD}@{HOST}:{PORT}/{quoted}"


def delete_vhost(name):
    try:
        _call("DELETE", f"/vhosts/{urllib.parse.quote(name, safe='')}")
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise


def queue_idle(amqp_uri, queue):
    """True when `queue` has no message waiting and none being handled (management API)."""
    vhost = urllib.parse.unquote(urllib.parse.urlsplit(amqp_uri).path[1:]) or "/"
    info = _call("GET", f"/queues/{urllib.parse.quote(vhost, safe='')}/{urllib.parse.quote(queue, safe='')}")
    return info.get("messages", 1) == 0 and info.get("messages_unacknowledged", 1) == 0


def close_connections(amqp_uri):
    """Close every client connection to the vhost of `amqp_uri` from the broker's side (a broker loss, as
    its clients see it); returns how many were closed."""
    vhost = urllib.parse.unquote(urllib.parse.urlsplit(amqp_uri).path[1:]) or "/"
    connections = _call("GET", f"/vhosts/{urllib.parse.quote(vhost, safe='')}/connections") or []
    for connection in connections:
        _call("DELETE", f"/connections/{urllib.parse.quote(connection['name'], safe='')}")
    return len(connections)


def create_user(name, password, vhost, permissions):
    """A broker user without tags (no management access) with `permissions` {configure, write, read} on `vhost`."""
    _call("PUT", f"/users/{urllib.parse.quote(name, safe='')}", {"password": password, "tags": ""})
    _call(
        "PUT",
        f"/permissions/{urllib.parse.quote(vhost, safe='')}/{urllib.parse.quote(name, safe='')}",
        {key: permissions[key] for key in ("configure", "write", "read")},
    )
    return f"amqp://{urllib.parse.quote(name, safe='')}:{password}@{HOST}:{PORT}/{urllib.parse.quote(vhost, safe='')}"


def delete_user(name):
    try:
        _call("DELETE", f"/users/{urllib.parse.quote(name, safe='')}")
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
