"""deploy/ cannot be run here (no Docker engine): at least it parses and agrees with the code and the registry."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

from shared import registry

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=DEPLOY.parent, timeout=120)


def test_the_generated_deploy_files_are_what_the_registry_gives():
    done = run("-m", "deploy.generate", "--check")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


def test_every_registered_service_is_deployed_everywhere():
    names = set(registry.names())
    manifests = list(yaml.safe_load_all((DEPLOY / "k8s" / "sotay.yaml").read_text()))
    assert {doc["metadata"]["name"] for doc in manifests if doc["kind"] == "Deployment"} == names
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert names | {f"{name}-prepare" for name in names} <= set(compose)
    users = {user["name"] for user in json.loads((DEPLOY / "rabbitmq" / "definitions.json").read_text())["users"]}
    assert users == names | {"operator"}
    scraped = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())["scrape_configs"][0]
    assert {target.split(":")[0] for target in scraped["static_configs"][0]["targets"]} == names
    init = (DEPLOY / "postgres" / "init.sql").read_text()
    assert all(f"CREATE DATABASE {s.name} OWNER {s.name};" in init for s in registry.with_database())


def test_services_that_may_not_import_each_other_are_all_the_registered_ones():
    import tomllib

    pyproject = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())
    independent = pyproject["tool"]["importlinter"]["contracts"][0]["modules"]
    assert set(independent) == {f"services.{name}" for name in registry.names()}


def test_every_deployment_prepares_its_service_before_serving_it():
    for doc in yaml.safe_load_all((DEPLOY / "k8s" / "sotay.yaml").read_text()):
        if doc["kind"] == "Deployment":
            pod = doc["spec"]["template"]["spec"]
            name = doc["metadata"]["name"]
            assert pod["initContainers"][0]["args"] == ["shared.cli", "prepare", name]
            assert pod["containers"][0]["args"] == ["shared.serve", name]
            assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True


def test_compose_and_broker_definitions_parse_and_events_exchanges_catch_unroutable():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert {"rabbitmq", "postgres"} <= set(compose["services"])
    definitions = json.loads((DEPLOY / "rabbitmq" / "definitions.json").read_text())
    events = [e for e in definitions["exchanges"] if e["name"].endswith(".events")]
    assert events and all(e["arguments"] == {"alternate-exchange": "sotay.unrouted"} for e in events)
    yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())


def test_parked_deliveries_and_long_outages_raise_alerts():
    rules = [
        rule
        for group in yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]
        for rule in group["rules"]
    ]
    exprs = {rule["alert"]: rule["expr"] for rule in rules}
    assert "sotay_event_dead_lettered_total" in exprs["EventsDeadLettered"]
    assert 'outcome="waiting_for_dependency"' in exprs["EventsWaitingForDependency"]
    assert ".dlq" in exprs["DeadLetterQueueNotEmpty"]


def test_every_service_gets_all_public_service_keys_and_only_its_own_private_key():
    for doc in yaml.safe_load_all((DEPLOY / "k8s" / "sotay.yaml").read_text()):
        if doc["kind"] == "Deployment":
            name = doc["metadata"]["name"]
            pod = doc["spec"]["template"]["spec"]
            secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
            assert {s for s in secrets if s.endswith("-service-key")} == {f"sotay-{name}-service-key"}
            assert {"name": "service-keys", "configMap": {"name": "sotay-service-keys"}} in pod["volumes"]
            env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
            assert env["SERVICE_KEY_FILE"].endswith(f"/{name}.key")
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    for name in registry.names():
        for container in (name, f"{name}-prepare"):
            private = {
                v.split(":")[0] for v in compose[container]["volumes"] if v.split(":")[0].endswith("-service-key")
            }
            assert private == {f"{name}-service-key"}
            assert compose[container]["environment"]["SERVICE_KEY_FILE"] == f"/app/keys/{name}/{name}.key"


def test_broker_permissions_are_what_the_code_needs_and_no_more():
    done = run(str(DEPLOY / "rabbitmq" / "check_permissions.py"))
    assert done.returncode == 0, done.stdout


def test_the_blob_store_is_mounted_by_the_services_that_keep_attachments_and_only_by_them():
    keeping = {service.name for service in registry.services() if service.blobs}
    assert keeping == {"gateway", "content"}
    s3 = {"BLOB_S3_ENDPOINT", "BLOB_S3_BUCKET", "BLOB_S3_REGION", "BLOB_S3_ACCESS_KEY", "BLOB_S3_SECRET_KEY"}
    for doc in yaml.safe_load_all((DEPLOY / "k8s" / "sotay.yaml").read_text()):
        if doc["kind"] == "Deployment":
            pod = doc["spec"]["template"]["spec"]
            env = {variable["name"]: variable for variable in pod["containers"][0]["env"]}
            claims = {v.get("persistentVolumeClaim", {}).get("claimName") for v in pod["volumes"]}
            mine = doc["metadata"]["name"] in keeping
            assert ("sotay-blobs" in claims, "BLOB_DIR" in env, s3 <= set(env)) == (mine, mine, mine)
            assert all(env[name]["valueFrom"]["secretKeyRef"]["optional"] for name in s3 & set(env))
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    for name in registry.names():
        mine = name in keeping
        assert ("blobs:/app/blobs" in compose[name]["volumes"], "BLOB_DIR" in compose[name]["environment"]) == (
            mine,
            mine,
        )


def _connections(env, processes):
    values = {item["name"]: item.get("value") for item in env} if isinstance(env, list) else env
    if "DATABASE_POOL_SIZE" not in values:
        return 0
    return processes * (int(values["DATABASE_POOL_SIZE"]) + int(values["DATABASE_MAX_OVERFLOW"]))


def test_every_service_at_its_most_replicas_fits_the_database_servers_connections():
    """A PostgreSQL server refuses clients past max_connections: each process's pool is sized so that all of
    them together, every Deployment at its autoscaler's maximum, stay under it (with room for migrations)."""
    room = registry.POSTGRES_MAX_CONNECTIONS - registry.POSTGRES_RESERVED
    k8s = [doc for doc in yaml.safe_load_all((DEPLOY / "k8s" / "sotay.yaml").read_text()) if doc]
    scaled = [doc for doc in k8s if doc["kind"] == "HorizontalPodAutoscaler"]
    most = {doc["metadata"]["name"]: doc["spec"]["maxReplicas"] for doc in scaled}
    used = 0
    for doc in k8s:
        if doc["kind"] == "Deployment":
            name = doc["metadata"]["name"]
            processes = most.get(name, doc["spec"].get("replicas", 1))
            used += _connections(doc["spec"]["template"]["spec"]["containers"][0]["env"], processes)
    assert 0 < used <= room

    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert f"max_connections={registry.POSTGRES_MAX_CONNECTIONS}" in compose["services"]["postgres"]["command"]
    used = sum(
        _connections(entry.get("environment", {}), entry.get("deploy", {}).get("replicas", 1))
        for name, entry in compose["services"].items()
        if name in registry.names()
    )
    assert 0 < used <= room


def test_the_kubernetes_manifests_are_valid_against_the_api_schemas():
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("kubernetes-validate")),
            "--strict",
            "--quiet",
            str(DEPLOY / "k8s" / "sotay.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_services_answering_rpc_scale_on_their_queue_depth_too():
    k8s = [doc for doc in yaml.safe_load_all((DEPLOY / "k8s" / "sotay.yaml").read_text()) if doc]
    for doc in k8s:
        if doc["kind"] == "HorizontalPodAutoscaler":
            name = doc["metadata"]["name"]
            kinds = {metric["type"] for metric in doc["spec"]["metrics"]}
            expected = {"Resource"} if registry.service(name).public else {"Resource", "External"}
            assert kinds == expected, name


def test_a_client_stays_on_one_gateway_process_and_nothing_else_is_sticky():
    """The gateway answers 304 from versions its own process learnt: round robin over N processes would answer ~1
    revalidation in N there (bench/CAPACITY.md). Every other service is reached over the broker, not by Service."""
    k8s = [doc for doc in yaml.safe_load_all((DEPLOY / "k8s" / "sotay.yaml").read_text()) if doc]
    sticky = {doc["metadata"]["name"]: doc["spec"].get("sessionAffinity") for doc in k8s if doc["kind"] == "Service"}
    assert sticky.pop("gateway") == "ClientIP"
    assert set(sticky.values()) == {None}
