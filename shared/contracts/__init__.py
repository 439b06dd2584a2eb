"""One module per service: its events, public request bodies, errors and vocabulary (`common` holds what
every service shares). Data only: no I/O and no service import, so the gateway and other services may
read any of them, and the platform reads them all through `modules()`."""

import importlib
import pkgutil
from functools import cache


@cache
def modules():
    """Every service's contract module, by service name (a new module here is a new service's contract)."""
    return {
        info.name: importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if info.name != "common"
    }


@cache
def catalogue():
    """Every event type of every service → its Event (payload schema, summary)."""
    events = {}
    for module in modules().values():
        events.update(module.EVENTS)
    return events
