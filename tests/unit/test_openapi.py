"""The published OpenAPI document: valid OpenAPI 3, one operation for every route the gateway serves, and what a
client needs of each (a summary, an operationId, whether it is open, every status it may answer)."""

from openapi_spec_validator import validate

from shared.contracts.common import MEMBER_STATUSES
from shared.contracts.members import MemberQuery
from shared.http import ApiHandler
from services.gateway import openapi
from services.gateway.routing import PARAMETER
from services.gateway.service import GatewayService

SPEC = openapi.build()
OPERATIONS = {
    (path, method.upper()): operation for path, item in SPEC["paths"].items() for method, operation in item.items()
}


def test_the_openapi_document_is_valid_and_names_every_route_served():
    validate(SPEC)
    served = set()
    for name in dir(GatewayService):
        for entrypoint in getattr(getattr(GatewayService, name), "nameko_entrypoints", ()):
            if (
                isinstance(entrypoint, ApiHandler)
                and entrypoint.url.startswith("/api/v1/")
                and not entrypoint.url.endswith("openapi.json")
            ):
                served.add((PARAMETER.sub(r"{\2}", entrypoint.url), entrypoint.method))
    assert served == set(OPERATIONS)


def test_every_operation_has_a_summary_in_both_languages_and_its_own_operation_id():
    ids = [operation["operationId"] for operation in OPERATIONS.values()]
    assert len(ids) == len(set(ids))
    assert all(" / " in operation["summary"] for operation in OPERATIONS.values())


def test_open_operations_say_so_and_the_others_answer_401():
    assert SPEC["security"] == [{"bearer": []}]
    open_ = {key for key, operation in OPERATIONS.items() if operation.get("security") == []}
    assert ("/api/v1/auth/login", "POST") in open_ and ("/api/v1/.well-known/jwks.json", "GET") in open_
    assert ("/api/v1/me", "GET") not in open_
    assert all("401" in operation["responses"] for key, operation in OPERATIONS.items() if key not in open_)


def test_the_document_names_what_the_server_sends_and_accepts():
    schemas = SPEC["components"]["schemas"]
    assert "party_group" in schemas["Organization"]["properties"]["level"]["enum"]
    status = next(
        p
        for p in OPERATIONS[("/api/v1/organizations/{organization_id}/members", "GET")]["parameters"]
        if p["name"] == "status"
    )
    assert [value for value in status["schema"]["enum"] if value] == list(MEMBER_STATUSES)
    assert MemberQuery().fields["status"].validate.choices == MEMBER_STATUSES
    upload = OPERATIONS[("/api/v1/imports", "POST")]["requestBody"]["content"]
    assert set(upload) == {"text/csv", "multipart/form-data"}
    assert upload["multipart/form-data"]["schema"]["required"] == ["file"]


def test_every_route_documents_the_errors_the_platform_may_answer():
    login = OPERATIONS[("/api/v1/auth/login", "POST")]["responses"]
    assert {"200", "400", "401", "403", "413", "415", "429", "503"} <= set(login)
    assert "Retry-After" in login["429"]["headers"]
    member = OPERATIONS[("/api/v1/members/{member_id}", "GET")]
    assert {"401", "404", "503"} <= set(member["responses"])
    assert member["parameters"][0]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
