"""OpenAPI 3 for the gateway, generated with apispec from the handlers' docstrings
and the marshmallow schemas they name (one source for validation and docs)."""
import inspect
import re
from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.yaml_utils import load_operations_from_docstring

from marshmallow import Schema

from shared.contracts import identity, members, notify
from shared.http import ApiHandler
from services.gateway import schemas

_CONVERTER = re.compile(r"<(?:[^:>]+:)?(\w+)>")


@lru_cache(maxsize=4)
def build(service_cls, version="1.0.0"):
    spec = APISpec(title="Sổ tay API", version=version, openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Sổ tay đảng viên điện tử / The electronic party-member handbook."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    handlers = [(entrypoint.url, method.__doc__ or "")
                for _, method in inspect.getmembers(service_cls, inspect.isfunction)
                for entrypoint in getattr(method, "nameko_entrypoints", ())
                if isinstance(entrypoint, ApiHandler) and entrypoint.url.startswith("/api/")]
    # the schemas the routes name (the contracts also hold RPC bodies and events, not this document's)
    named = set(re.findall(r"\w+", " ".join(doc for _, doc in handlers)))
    for module in (schemas, identity, members, notify):
        for name, schema in inspect.getmembers(module, inspect.isclass):
            ours = issubclass(schema, Schema) and schema.__module__ == module.__name__
            # nested schemas get registered by the schema that nests them
            if ours and name in named and name not in spec.components.schemas:
                spec.components.schema(name, schema=schema)
    for url, doc in handlers:
        operations = load_operations_from_docstring(doc)
        if operations:
            spec.path(path=_CONVERTER.sub(r"{\1}", url), operations=operations)
    return spec.to_dict()
