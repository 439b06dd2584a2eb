"""A new service from shared/skeleton/ (`make new-service S=<name>`, `python -m shared.cli new-service <name>`).

Every file under shared/skeleton/ is written to the same path of the repository with its placeholders
filled in ({{name}}, {{Name}}, {{NAME}}, {{port}}, {{summary}}, {{Summary}}, {{date}}; `.tmpl` dropped):
the service's package (service, models, config, first migration, README), its contract stub, a unit and an
integration test. The service also gets its entry in services/registry.yaml (the next free port, a
database) and its place among the services that never import each other (pyproject.toml).
"""

import re
import textwrap
from datetime import UTC, datetime

from shared import config, registry

SKELETON = config.REPO_ROOT / "shared" / "skeleton"
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
FIRST_PORT = 8001
DEFAULT_SUMMARY = "a service of Sổ tay (say here what it owns)"
# what the folder of a service announced before it exists may already hold: the generator replaces them
ANNOUNCED = {"README.md", "__init__.py"}
IMPORT_BOUNDARY = re.compile(
    r'(name = "Services never import each other"\ntype = "independence"\n)'
    r"modules = \[(.*?)\]",
    re.DOTALL,
)


def fill(text, values):
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def next_port(services):
    taken = {port for service in services for port in (service.port, service.metrics_port) if port}
    return next(port for port in range(FIRST_PORT, 65536) if port not in taken)


def planned_files(name, summary, port):
    """{path relative to the repository: text} of the new service's files."""
    values = {
        "name": name,
        "Name": name.capitalize(),
        "NAME": name.upper(),
        "port": str(port),
        "summary": summary,
        "Summary": summary[:1].upper() + summary[1:],
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }
    return {
        fill(str(template.relative_to(SKELETON)), values).removesuffix(".tmpl"): fill(
            template.read_text(encoding="utf-8"), values
        )
        for template in sorted(SKELETON.rglob("*.tmpl"))
    }


def registry_entry(name, port):
    return f"\n  {name}:\n    port: {port}\n    database: true\n"


def with_import_boundary(pyproject, name):
    """pyproject.toml's text with services.<name> among the services that never import each other."""
    match = IMPORT_BOUNDARY.search(pyproject)
    if match is None:
        raise SystemExit("pyproject.toml: no import-linter contract 'Services never import each other'")
    modules = re.findall(r'"([^"]+)"', match.group(2))
    if f"services.{name}" in modules:
        return pyproject
    listed = "modules = [" + ", ".join(f'"{module}"' for module in modules + [f"services.{name}"]) + "]"
    wrapped = textwrap.fill(
        listed, width=118, subsequent_indent=" " * len("modules = ["), break_long_words=False, break_on_hyphens=False
    )
    return pyproject[: match.start()] + match.group(1) + wrapped + pyproject[match.end() :]


def create(name, summary=None, root=config.REPO_ROOT):
    """Write the new service under `root`; returns the paths written. Refuses a name taken or a file in the way."""
    registry_path = root / "services" / "registry.yaml"
    services = registry.parse(registry_path.read_text(encoding="utf-8"))
    if not registry.NAME.fullmatch(name):
        raise SystemExit(f"{name!r}: a service name is 2 to 31 lower-case letters and digits, starting with a letter")
    if name in {service.name for service in services}:
        raise SystemExit(f"{name} is already in services/registry.yaml")
    port = next_port(services)
    files = planned_files(name, summary or DEFAULT_SUMMARY, port)
    announced = {f"services/{name}/{file}" for file in ANNOUNCED}
    in_the_way = sorted(path for path in files if (root / path).exists() and path not in announced)
    if in_the_way:
        raise SystemExit(f"{name}: these files exist already: {', '.join(in_the_way)}")
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    registry_path.write_text(
        registry_path.read_text(encoding="utf-8").rstrip("\n") + "\n" + registry_entry(name, port), encoding="utf-8"
    )
    pyproject = root / "pyproject.toml"
    pyproject.write_text(with_import_boundary(pyproject.read_text(encoding="utf-8"), name), encoding="utf-8")
    return [*files, "services/registry.yaml", "pyproject.toml"]
