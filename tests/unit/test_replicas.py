"""How many processes `make run` starts per service, and why SQLite refuses more than one."""

import pytest

from shared.devrun import ReplicasNeedPostgreSQL, Suite, replica_counts

PG = "postgresql+psycopg://sotay@db/"


def test_one_process_each_unless_told():
    assert set(replica_counts({}, ["identity", "gateway"]).values()) == {1}


def test_replicas_for_all_and_per_service_on_postgresql():
    env = {"REPLICAS": "2", "REPLICAS_NOTIFY": "3", "IDENTITY_DATABASE_URL": PG, "NOTIFY_DATABASE_URL": PG}
    assert replica_counts(env, ["identity", "notify", "gateway"]) == {"identity": 2, "notify": 3, "gateway": 2}


def test_more_than_one_process_on_a_sqlite_file_is_refused_with_the_setting_to_change():
    with pytest.raises(ReplicasNeedPostgreSQL) as refused:
        replica_counts({"REPLICAS_MEMBERS": "2"}, ["members"])
    assert "MEMBERS_DATABASE_URL" in str(refused.value) and "PostgreSQL" in str(refused.value)


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_count_that_is_not_a_whole_number_is_refused(value):
    with pytest.raises(ValueError):
        replica_counts({"REPLICAS": value}, ["gateway"])


def test_the_gateways_replicas_share_the_clients_port_and_nothing_else():
    suite = Suite(
        env={"REPLICAS": "2", "IDENTITY_DATABASE_URL": PG, "GATEWAY_PORT": "18000", "IDENTITY_HTTP_PORT": "18001"},
        services=["identity", "gateway"],
    )
    first, first_health = suite._replica_env("gateway", 0)
    second, second_health = suite._replica_env("gateway", 1)
    assert first["GATEWAY_PORT"] == second["GATEWAY_PORT"] == "18000"
    assert first_health != second_health  # each answers its own /health and /metrics on its operations port
    identity, _ = suite._replica_env("identity", 1)
    assert identity["IDENTITY_HTTP_PORT"] != "18001"
    assert suite.replica_names("identity") == ["identity", "identity#1"]


def test_an_import_command_delivered_twice_starts_one_job(members_world, database_settings, tmp_path, monkeypatch):
    from shared import uploads
    from services.members import importing

    monkeypatch.setenv("IMPORT_DIR", str(tmp_path / "imports"))
    centre = members_world.organization("central")
    admin = members_world.member(centre, ("system_administrator", centre))
    reference, handle = uploads.create()
    with handle:
        handle.write(b"citizen_id,full_name\n")
    uow = members_world.uow
    with uow.transaction():
        job, content = importing.start(uow, admin.id, reference, True, "replica-1", 60)
    assert content is not None
    with uow.transaction():  # the first replica died before acknowledging: the broker delivers it again
        again, nothing = importing.start(uow, admin.id, reference, True, "replica-2", 60)
    assert (again.id, nothing) == (job.id, None)
