"""`make new-service S=<name>`: a new service's files, its registry entry and its import boundary (written into a
copy of the registry and pyproject.toml here; meetings and content were made by it for real)."""

import shutil

import pytest

from shared import config, registry, scaffold


@pytest.fixture
def root(tmp_path):
    (tmp_path / "services").mkdir()
    shutil.copy(registry.PATH, tmp_path / "services" / "registry.yaml")
    shutil.copy(config.REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_a_new_service_gets_its_package_migration_contract_tests_registry_entry_and_boundary(root):
    written = scaffold.create("agenda", "will own agendas", root=root)

    assert {
        "services/agenda/service.py",
        "services/agenda/models.py",
        "services/agenda/config.yaml",
        "services/agenda/README.md",
        "services/agenda/migrations/versions/0001_initial_schema.py",
        "shared/contracts/agenda.py",
        "tests/unit/test_agenda.py",
        "tests/integration/test_agenda.py",
    } <= set(written)
    for path in written:
        text = (root / path).read_text()
        assert "{{" not in text, path
        if path.endswith(".py"):
            compile(text, path, "exec")
    assert "class AgendaService(Service):" in (root / "services/agenda/service.py").read_text()
    assert "Will own agendas." in (root / "services/agenda/README.md").read_text()
    entry = registry.parse((root / "services/registry.yaml").read_text())[-1]
    taken = {port for s in registry.services() for port in (s.port, s.metrics_port) if port}
    assert (entry.name, entry.database) == ("agenda", True) and entry.port not in taken
    assert f"${{AGENDA_HTTP_PORT:{entry.port}}}" in (root / "services/agenda/config.yaml").read_text()
    assert '"services.agenda"' in (root / "pyproject.toml").read_text()


def test_the_registry_keeps_its_comments_and_entries_when_a_service_is_added(root):
    before = (root / "services/registry.yaml").read_text()
    scaffold.create("agenda", root=root)
    after = (root / "services/registry.yaml").read_text()
    assert after.startswith(before.rstrip("\n"))
    assert [s.name for s in registry.parse(after)] == [*registry.names(), "agenda"]


def test_a_folder_announced_with_a_readme_is_filled_in_but_a_real_file_is_never_overwritten(root):
    (root / "services/agenda").mkdir()
    (root / "services/agenda/README.md").write_text("# agenda\n\nWill own agendas.\n")
    scaffold.create("agenda", root=root)
    assert "make run-service S=agenda" in (root / "services/agenda/README.md").read_text()

    (root / "services/minutes").mkdir()
    (root / "services/minutes/models.py").write_text("mine")
    with pytest.raises(SystemExit, match="services/minutes/models.py"):
        scaffold.create("minutes", root=root)
    assert (root / "services/minutes/models.py").read_text() == "mine"


@pytest.mark.parametrize(
    "name, complaint", [("members", "already in services/registry.yaml"), ("Agenda", "lower-case"), ("x", "lower-case")]
)
def test_a_name_taken_or_unfit_is_refused(root, name, complaint):
    with pytest.raises(SystemExit, match=complaint):
        scaffold.create(name, root=root)
