"""deploy/ cannot be run here (no Docker engine): at least it parses and agrees with the code."""
import json
import runpy
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_kubernetes_manifest_is_what_its_generator_writes():
    generator = runpy.run_path(str(DEPLOY / "k8s" / "generate.py"))
    on_disk = list(yaml.safe_load_all((DEPLOY / "k8s" / "sotay.yaml").read_text()))
    assert on_disk == generator["documents"]()


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
    assert {"identity", "members", "notify", "gateway", "rabbitmq", "postgres"} <= set(compose["services"])
    definitions = json.loads((DEPLOY / "rabbitmq" / "definitions.json").read_text())
    events = [e for e in definitions["exchanges"] if e["name"].endswith(".events")]
    assert events and all(e["arguments"] == {"alternate-exchange": "sotay.unrouted"} for e in events)
    yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
