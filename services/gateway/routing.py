"""A route of the gateway's table (routes.py): what an HTTP request becomes (an RPC and its arguments), what it
answers (a schema per status, the errors it may raise), and so what OpenAPI says of it (openapi.py)."""

import re
from dataclasses import dataclass, field
from functools import cache

from marshmallow import Schema, fields
from werkzeug.wrappers import Response

from shared import config
from shared.http import read_json
from shared.validation import check, load

BODY, QUERY = "body", "query"  # the whole JSON body or query (checked, passed on as sent); "body.x": one field
PARAMETER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def parameters(path):
    """[(name, converter)] of a werkzeug path: `<int:member_id>` → ("member_id", "int"); plain text: ""."""
    return [(name, converter) for converter, name in PARAMETER.findall(path)]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # under /api/v1, in werkzeug's syntax: "/members/<int:member_id>"
    summary: str  # "Việt / English"
    call: object  # "service.method", or a handler(service, route, request, **path): more than an RPC
    args: tuple = ()  # the RPC's arguments: a path value's name, BODY, QUERY, "body.x", "query.x", a constant
    body: object = None  # the JSON body's schema, or {media type: OpenAPI schema} for other media
    query: type = None
    answers: dict = field(default_factory=lambda: {200: None})  # status → schema (None: no JSON body)
    errors: tuple = ()  # what the owning service may answer beyond the platform's errors (openapi.py)
    public: bool = False  # no bearer token needed
    throttle: bool = False  # counts against the client address's sign-in attempts
    optional_body: bool = False
    status: object = None  # answer → its status, for a route with more than one success
    description: str = None
    name: str = None  # operationId and entrypoint; the RPC method's own name unless given
    report: object = None  # a committee's report (reports.Report): completed here, JSON or XLSX

    def __post_init__(self):
        if self.report is not None and self.answers == {200: None}:
            object.__setattr__(self, "answers", {200: self.report.schema})

    @property
    def operation_id(self):
        return self.name or (self.call.rsplit(".", 1)[1] if isinstance(self.call, str) else self.call.__name__)

    @property
    def media(self):
        return tuple(self.body) if isinstance(self.body, dict) else ("application/json",)

    def arguments(self, request, path):
        def value(source):
            if not isinstance(source, str):
                return source
            if source in (BODY, QUERY):
                return check(schema_of(self.body if source == BODY else self.query), self.sent(request, source))
            if source.startswith(("body.", "query.")):
                where, _, name = source.partition(".")
                return load(schema_of(self.body if where == BODY else self.query), self.sent(request, where))[name]
            return path[source]

        return [value(source) for source in self.args]

    def sent(self, request, where):
        if where == QUERY:
            return {key: item for key, item in request.args.items() if key in schema_of(self.query).fields}
        return {} if self.optional_body and not request.get_data() else read_json(request)

    def call_rpc(self, rpc, request, path):
        service, method = self.call.split(".")
        return getattr(getattr(rpc, service), method)(*self.arguments(request, path))

    def respond(self, answer):
        if isinstance(answer, Response):
            return answer
        status = self.status(answer) if self.status else next(iter(self.answers))
        return status, dump(self.answers[status], answer)


@cache
def schema_of(schema_class) -> Schema:
    return schema_class() if isinstance(schema_class, type) else schema_class


class ResponseDrift(Exception):
    """An answer that its documented schema does not describe: a bug, answered 500."""


def dump(schema, answer):
    """What the client gets: `answer` with only the fields its schema documents, so nothing undocumented ever
    leaves. Outside production the schema also validates it (an unknown field, a wrong type, a value outside an
    enum): a drift fails loudly, and every test notices. Production pays only for the cut, a thirtieth of
    marshmallow's dump (0.6 against 20 ms for 200 members): the answer is JSON already."""
    schema = schema_of(schema)
    if config.environment() != "production":
        problems = schema.validate(answer)
        if problems:
            raise ResponseDrift(f"{type(schema).__name__}: {problems}")
    return cut(schema)(answer)


@cache
def cut(schema):
    """The function that keeps of an answer what `schema` documents, nested schemas included."""
    keep = {name: _inner_cut(field) for name, field in schema.fields.items()}

    def documented(answer):
        kept = {}
        for name, value in answer.items():
            if name in keep:
                inner = keep[name]
                kept[name] = value if inner is None or value is None else inner(value)
        return kept

    return documented


def _inner_cut(field):
    if isinstance(field, fields.Nested):
        return cut(field.schema)
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
        inner = cut(field.inner.schema)
        return lambda items: [inner(item) for item in items]
    return None
