"""The version of an answer: a digest of exactly what it shows, so it changes with every write that changes the
answer, bulk ones included, with no column to keep in step (the gateway's weak `ETag`, services/gateway)."""

import hashlib
import json


def answer_version(answer):
    canonical = json.dumps(answer, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(canonical.encode(), digest_size=12).hexdigest()
