"""services/registry.yaml: one entry per service, read the same way by make run, deploy/ and the tests."""

import pytest

from shared import config, registry
from shared.devrun import Suite


def test_every_service_folder_with_code_is_registered_and_every_entry_has_its_folder():
    folders = {path.parent.name for path in (config.REPO_ROOT / "services").glob("*/service.py")}
    assert folders == set(registry.names())


def test_an_entry_gets_the_defaults_a_new_service_needs():
    (service,) = registry.parse("services:\n  minutes:\n    port: 8010\n    database: true\n")
    assert (service.port_variable, service.database_url_variable, service.sqlite_file) == (
        "MINUTES_HTTP_PORT",
        "MINUTES_DATABASE_URL",
        "minutes.db",
    )
    assert service.replicas == (2, 2) and not service.autoscaled and service.scrape_port == 8010
    assert service.resources == registry.DEFAULT_RESOURCES


def test_an_operations_port_is_scraped_and_autoscaling_is_a_range():
    (service,) = registry.parse("services:\n  front:\n    port: 8010\n    metrics_port: 8091\n    replicas: [2, 5]\n")
    assert (service.scrape_port, service.metrics_port_variable, service.autoscaled) == (
        8091,
        "FRONT_METRICS_PORT",
        True,
    )


def test_a_secret_key_is_its_variable_without_the_services_prefix():
    identity = registry.service("identity")
    assert identity.secret_key("IDENTITY_OTP_KEY") == "OTP_KEY"
    assert identity.secret_key("VNEID_ISSUER") == "VNEID_ISSUER"


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("services:\n  a:\n    port: 8010\n", "a name is"),
        ("services:\n  Minutes:\n    port: 8010\n", "a name is"),
        ("services:\n  minutes:\n    database: true\n", "`port`"),
        ("services:\n  minutes:\n    port: 8010\n    replica: 3\n", "unknown keys ['replica']"),
        ("services:\n  minutes:\n    port: 8010\n  agenda:\n    port: 8011\n    metrics_port: 8010\n", "[8010]"),
    ],
)
def test_a_mistake_in_the_registry_is_named(text, complaint):
    with pytest.raises(ValueError) as raised:
        registry.parse(text)
    assert complaint in str(raised.value)


def test_make_run_starts_every_registered_service_on_its_port():
    suite = Suite(env={"VNEID_ISSUER": "https://vneid.example", "MEMBERS_HTTP_PORT": "9102"})
    assert suite.services == registry.names()
    assert suite.port("members") == 9102
    assert suite.port("identity") == registry.service("identity").port


def test_each_service_config_serves_its_registered_ports_and_database():
    for service in registry.services():
        text = (config.REPO_ROOT / "services" / service.name / "config.yaml").read_text()
        assert f"${{{service.port_variable}:{service.port}}}" in text, service.name
        if service.metrics_port:
            assert f"${{{service.metrics_port_variable}:{service.metrics_port}}}" in text, service.name
        assert (f"DATABASE_URL: ${{{service.database_url_variable}:}}" in text) == service.database, service.name


def test_the_services_that_keep_personal_data_are_named_once():
    """Export asks each of them and erasure erases in each: a new service keeping personal data joins by one flag."""
    assert set(registry.keeping_personal_data()) == {"identity", "members", "notify", "meetings", "content"}
    (plain,) = registry.parse("services:\n  agenda:\n    port: 8011\n")
    assert not plain.personal_data
