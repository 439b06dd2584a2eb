"""A local stand-in for the HTTP services notify talks to (development and tests only):
an SMS gateway (`POST /messages` {"to", "text"}, bearer token), FCM (`POST /fcm`), and Web Push
services (`POST /push/<subscription>`, an encrypted body and a VAPID authorisation).

    python -m tools.sms_gateway_standin --port 8200 --log sent.jsonl [--token T] [--fail-first N]

Appends what it accepts to the log and answers 202 (201 for push); the first N requests get
a 503 instead (to exercise retries). A message whose `Idempotency-Key` (or `id`) it already took
is answered 202 again and not logged twice, as a gateway that honours keys would.
"""

import argparse
import json
import logging
import threading

from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response


def make_app(log_path, token=None, fail_first=0):
    state = {"failures_left": fail_first, "keys": set()}
    lock = threading.Lock()

    def app(environ, start_response):
        request = Request(environ)
        if request.method != "POST" or not (request.path in ("/messages", "/fcm") or request.path.startswith("/push/")):
            return Response(status=404)(environ, start_response)
        if request.path.startswith("/push/"):
            authorization = request.headers.get("Authorization", "")
            record = {
                "path": request.path,
                "bytes": len(request.get_data()),
                "content_encoding": request.headers.get("Content-Encoding"),
                "vapid": authorization.startswith(("vapid ", "WebPush ")),
            }
            with lock, open(log_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
            return Response(status=201)(environ, start_response)
        if token and request.headers.get("Authorization") != f"Bearer {token}":
            return Response(status=401)(environ, start_response)
        with lock:
            if state["failures_left"] > 0:
                state["failures_left"] -= 1
                return Response(status=503)(environ, start_response)
            body = request.get_json(silent=True) or {}
            key = request.headers.get("Idempotency-Key") or (body.get("id") if request.path != "/fcm" else None)
            if key is not None and key in state["keys"]:
                return Response('{"status": "duplicate"}', status=202, content_type="application/json")(
                    environ, start_response
                )
            record = body if request.path == "/fcm" else {"to": body.get("to"), "text": body.get("text"), "id": key}
            with open(log_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            if key is not None:
                state["keys"].add(key)
        return Response('{"status": "queued"}', status=202, content_type="application/json")(environ, start_response)

    return app


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--log", required=True)
    parser.add_argument("--token")
    parser.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"SMS gateway stand-in on 127.0.0.1:{args.port}", flush=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    run_simple("127.0.0.1", args.port, make_app(args.log, args.token, args.fail_first), threaded=True)


if __name__ == "__main__":
    main()
