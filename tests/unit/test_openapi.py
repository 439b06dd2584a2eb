"""The published OpenAPI document is valid OpenAPI 3 and names every route the gateway serves."""
from openapi_spec_validator import validate

from shared.http import ApiHandler
from services.gateway import openapi
from services.gateway.service import GatewayService


def test_the_openapi_document_is_valid_and_complete():
    spec = openapi.build(GatewayService)
    validate(spec)
    documented = {(path, method.upper()) for path, operations in spec["paths"].items() for method in operations}
    served = set()
    for name in dir(GatewayService):
        for entrypoint in getattr(getattr(GatewayService, name), "nameko_entrypoints", ()):
            if isinstance(entrypoint, ApiHandler) and entrypoint.url.startswith("/api/v1/") \
                    and not entrypoint.url.endswith("openapi.json"):
                path = openapi._CONVERTER.sub(r"{\1}", entrypoint.url)
                served.update((path, method) for method in entrypoint.method.split(","))
    assert served - documented == set()
