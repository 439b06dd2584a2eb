"""OpenAPI 3 for the gateway, generated with apispec from the route table and the contracts' schemas: what a
route declares is what it is documented to answer (routing.dump keeps the answers to it)."""

from functools import cache
from http import HTTPStatus
from itertools import groupby

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls

from shared import errors
from shared.contracts.common import Error
from services.gateway.reports import FORMATS, XLSX
from services.gateway.routes import ROUTES
from services.gateway.routing import PARAMETER, parameters

PREFIX = "/api/v1"
PATH_TYPES = {"int": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}, "": {"type": "string", "format": "uuid"}}
RETRY_AFTER = {"Retry-After": {"description": "seconds / giây", "schema": {"type": "integer", "minimum": 1}}}
VALIDATORS = {
    "ETag": {"description": "phiên bản (yếu) / the (weak) version", "schema": {"type": "string"}},
    "Cache-Control": {"description": "`private, no-cache`", "schema": {"type": "string"}},
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "`ETag` của lần trước: không đổi thì 304, không có nội dung / the last `ETag`: unchanged, a 304 "
    "without a body",
}
REPORT_FORMAT = {
    "name": "format",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": list(FORMATS)},
    "description": f"`xlsx`: bảng tải về dạng Excel (như `Accept: {XLSX}`) / the table as a workbook to download "
    f"(as `Accept: {XLSX}` asks)",
}
TAGS = {
    "identity": "Đăng nhập, phiên, mã xác nhận / Signing in, sessions, codes",
    "members": "Cơ sở dữ liệu đảng viên / The party member database",
    "notify": "Thông báo / Notifications",
    "meetings": "Sinh hoạt chi bộ: họp, điểm danh, ý kiến, biểu quyết / Branch meetings: check-in, opinions, votes",
    "content": "Văn bản, tài liệu học tập, sổ tay cá nhân / Documents, study material, the personal notebook",
}


def schema_name(schema):
    """A schema's component name; a partial one (fields may be missing) is named apart."""
    partial = not isinstance(schema, type) and schema.partial is True
    return ("Partial" if partial else "") + resolve_schema_cls(schema).__name__


def platform_errors(route):
    """What any route may answer besides its own errors: the service out of reach, a missing or dead token, the
    address's limit, a path id that is no one's, a body or text the platform refuses before any service sees it."""
    found = {errors.ServiceUnavailable}
    if not route.public:
        found |= {errors.Unauthenticated, errors.InvalidToken}
    if route.throttle:
        found.add(errors.TooManyAttempts)
    texts = [converter for _, converter in parameters(route.path)]
    if texts:
        found.add(errors.NotFound)
    if route.body is not None:
        found |= {errors.ValidationError, errors.BadRequest, errors.PayloadTooLarge, errors.UnsupportedMediaType}
    elif route.query or route.report or "" in texts:
        found.add(errors.ValidationError)  # a query or path text that cannot be stored (NUL), an unknown format
    return found


def responses(route):
    answers = {}
    for status, schema in route.answers.items():
        answers[status] = {"description": HTTPStatus(status).phrase}
        if schema is not None:
            answers[status]["content"] = {"application/json": {"schema": schema}}
        if route.report is not None and status == 200:
            answers[status]["content"][XLSX] = {"schema": {"type": "string", "format": "binary"}}
        if status in (302, 303):
            answers[status]["headers"] = {"Location": {"schema": {"type": "string", "format": "uri"}}}
        if 304 in route.answers and status in (200, 304):
            answers[status]["headers"] = VALIDATORS
    known = sorted({*route.errors, *platform_errors(route)}, key=lambda error: (error.status, error.code))
    for status, group in groupby(known, key=lambda error: error.status):
        answers[status] = {
            "description": ", ".join(f"`{error.code}`" for error in group),
            "content": {"application/json": {"schema": Error}},
        }
        if status in (429, 503):
            answers[status]["headers"] = RETRY_AFTER
    return answers


def operation(tag, route):
    described = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [tag],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": PATH_TYPES[converter]}
            for name, converter in parameters(route.path)
        ],
        "responses": responses(route),
    }
    if route.query:
        described["parameters"].append({"in": "query", "schema": route.query})
    if route.report is not None:
        described["parameters"].append(REPORT_FORMAT)
    if 304 in route.answers:
        described["parameters"].append(IF_NONE_MATCH)
    if route.description:
        described["description"] = route.description
    if route.public:
        described["security"] = []
    if route.body is not None:
        content = route.body if isinstance(route.body, dict) else {"application/json": route.body}
        described["requestBody"] = {
            "required": not route.optional_body,
            "content": {media: {"schema": schema} for media, schema in content.items()},
        }
    return described


@cache
def build(version="1.0.0"):
    spec = APISpec(
        title="Sổ tay API",
        version=version,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=schema_name)],
        security=[{"bearer": []}],
        info={"description": "Sổ tay đảng viên điện tử / The electronic party-member handbook."},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Error", schema=Error)
    paths = {}
    for tag, table in ROUTES.items():
        spec.tag({"name": tag, "description": TAGS[tag]})
        for route in table:
            path = PREFIX + PARAMETER.sub(r"{\2}", route.path)
            paths.setdefault(path, {})[route.method.lower()] = operation(tag, route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
