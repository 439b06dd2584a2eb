"""Writes sotay.yaml from one description of the services: the namespace, a Deployment (init
container `prepare`, probes, non-root and read-only) and a Service per service, autoscalers and
a disruption budget. After a change here: python deploy/k8s/generate.py (a unit test compares).

PostgreSQL and RabbitMQ are not in these manifests: point the secrets at managed ones or at
clusters run by their operators (the broker loads deploy/rabbitmq/definitions.json rendered with
passwords). meetings and content join SERVICES when they are implemented (ports 8003, 8004).
"""
from pathlib import Path

import yaml

NAMESPACE = "sotay"
IMAGE = "sotay"      # kustomization.yaml sets the registry and tag
UID = 10001          # the image's user (deploy/Dockerfile)

# name: HTTP port (/health, /metrics; the gateway's API too), database, replicas, resources.
# nameko runs a service in one process on one eventlet hub, so more than one CPU only helps
# identity, whose Argon2 hashing runs in threads outside the GIL (19 MiB of memory per hash).
SERVICES = {
    "identity": {"port": 8001, "database": True, "cpu": ("500m", "2"), "memory": ("384Mi", "1Gi")},
    "members": {"port": 8002, "database": True, "cpu": ("250m", "1"), "memory": ("256Mi", "768Mi")},
    # one replica: the notify sender claims due deliveries without row locks, so two replicas could
    # send the same message twice (until it selects them FOR UPDATE SKIP LOCKED, as the outbox does)
    "notify": {"port": 8005, "database": True, "replicas": 1, "cpu": ("100m", "1"), "memory": ("192Mi", "512Mi")},
    # the gateway's /metrics on a port of its own (not in its Service): the clients' port never serves it
    "gateway": {"port": 8000, "metrics_port": 8090, "database": False, "cpu": ("250m", "1"),
                "memory": ("192Mi", "512Mi")},
}
# uploads on their way from the gateway to members: a volume both mount (ReadWriteMany)
IMPORTS = {"claim": "sotay-imports", "path": "/var/sotay/imports", "services": ("gateway", "members")}
# identity too: sign-in waves (Argon2) are its CPU peaks
AUTOSCALED = {"gateway": (2, 10), "members": (2, 6), "identity": (2, 6)}
OPTIONAL = {
    "identity": ("VNEID_ISSUER", "VNEID_CLIENT_ID", "VNEID_CLIENT_SECRET", "VNEID_REDIRECT_URI", "VNEID_SCOPES",
                 "VNEID_CITIZEN_ID_CLAIM"),
    "notify": ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_STARTTLS",
               "SMS_GATEWAY_URL", "SMS_GATEWAY_TOKEN"),
}
KEYS_DIR = "/run/secrets/identity-keys"
# service tokens: every service's public key (ConfigMap sotay-service-keys, <service>.pub) and, on each
# service's pods only, its own private key (Secret sotay-<service>-service-key, <service>.key)
SERVICE_KEYS_DIR = "/run/sotay/service-keys"
SERVICE_KEY_DIR = "/run/secrets/service-key"

CONTAINER_SECURITY = {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "readOnlyRootFilesystem": True,
                      "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
# fsGroup: the keys secret's files are readable by the group, not only by root
POD_SECURITY = {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "fsGroup": UID,
                "seccompProfile": {"type": "RuntimeDefault"}}


def labels(name):
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "sotay"}


def meta(name, **extra):
    return {"name": name, "namespace": NAMESPACE, "labels": labels(name), **extra}


def secret(name, key, optional=False):
    ref = {"name": f"sotay-{name}", "key": key}
    if optional:
        ref["optional"] = True
    return {"secretKeyRef": ref}


def environment(name, spec):
    env = [{"name": "AMQP_URI", "valueFrom": secret(name, "AMQP_URI")},
           {"name": "HTTP_HOST", "value": "0.0.0.0"},
           {"name": "SOTAY_ENV", "value": "production"},
           {"name": "QUEUE_TYPE", "value": "quorum"},
           {"name": "DATA_DIR", "value": "/tmp/sotay"},
           {"name": "SERVICE_KEYS_DIR", "value": SERVICE_KEYS_DIR},
           {"name": "SERVICE_KEY_FILE", "value": f"{SERVICE_KEY_DIR}/{name}.key"}]
    if spec["database"]:
        env.append({"name": f"{name.upper()}_DATABASE_URL", "valueFrom": secret(name, "DATABASE_URL")})
    if name == "identity":
        env += [{"name": "IDENTITY_KEYS_DIR", "value": KEYS_DIR},
                {"name": "IDENTITY_OTP_KEY", "valueFrom": secret(name, "OTP_KEY")}]
    if name == "gateway":
        env += [{"name": "COOKIE_SECURE", "value": "true"},
                {"name": "GATEWAY_METRICS_HOST", "value": "0.0.0.0"},
                {"name": "GATEWAY_METRICS_PORT", "value": str(spec["metrics_port"])}]
    if name in IMPORTS["services"]:
        env.append({"name": "IMPORT_DIR", "value": IMPORTS["path"]})
    env += [{"name": key, "valueFrom": secret(name, key, optional=True)} for key in OPTIONAL.get(name, ())]
    return env


def resources(spec, init=False):
    if init:   # migrations and declarations: brief and small
        return {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
    (cpu_request, cpu_limit), (memory_request, memory_limit) = spec["cpu"], spec["memory"]
    return {"requests": {"cpu": cpu_request, "memory": memory_request},
            "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def deployment(name, spec):
    port = spec["port"]
    volumes = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes += [{"name": "service-keys", "configMap": {"name": "sotay-service-keys"}},
                {"name": "service-key", "secret": {"secretName": f"sotay-{name}-service-key", "defaultMode": 0o440}}]
    mounts += [{"name": "service-keys", "mountPath": SERVICE_KEYS_DIR, "readOnly": True},
               {"name": "service-key", "mountPath": SERVICE_KEY_DIR, "readOnly": True}]
    if name == "identity":
        # the Ed25519 PEM files, <kid>.pem; every replica signs and publishes the same keys
        volumes.append({"name": "keys", "secret": {"secretName": "sotay-identity-keys", "defaultMode": 0o440}})
        mounts.append({"name": "keys", "mountPath": KEYS_DIR, "readOnly": True})
    if name in IMPORTS["services"]:
        volumes.append({"name": "imports", "persistentVolumeClaim": {"claimName": IMPORTS["claim"]}})
        mounts.append({"name": "imports", "mountPath": IMPORTS["path"]})
    common = {"image": IMAGE, "env": environment(name, spec), "volumeMounts": mounts,
              "securityContext": CONTAINER_SECURITY}
    health = {"httpGet": {"path": "/health", "port": "http"}, "timeoutSeconds": 3}
    container = {
        "name": name, "args": ["shared.serve", name], **common,
        "ports": [{"name": "http", "containerPort": port}] +
                 ([{"name": "metrics", "containerPort": spec["metrics_port"]}] if "metrics_port" in spec else []),
        "resources": resources(spec),
        "readinessProbe": {**health, "periodSeconds": 10, "failureThreshold": 3},
        # /health also fails while the broker or the database is down, which a restart cannot
        # fix: liveness gives it two minutes so a dependency's outage is not a restart storm
        "livenessProbe": {**health, "initialDelaySeconds": 20, "periodSeconds": 20, "failureThreshold": 6},
    }
    # migrations and subscriber queues exist before the service consumes, publishes or serves
    prepare = {"name": "prepare", "args": ["shared.cli", "prepare", name], **common,
               "resources": resources(spec, init=True)}
    pod = {"automountServiceAccountToken": False,
           "securityContext": POD_SECURITY,
           "terminationGracePeriodSeconds": 30,
           "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                          "whenUnsatisfiable": "ScheduleAnyway",
                                          "labelSelector": {"matchLabels": labels(name)}}],
           "initContainers": [prepare], "containers": [container], "volumes": volumes}
    deployment_spec = {"selector": {"matchLabels": labels(name)}, "revisionHistoryLimit": 5}
    if name not in AUTOSCALED:   # an autoscaled Deployment leaves replicas to its autoscaler
        deployment_spec["replicas"] = spec.get("replicas", 2)
    if spec.get("replicas") == 1:
        deployment_spec["strategy"] = {"type": "Recreate"}   # never two at once, even while rolling out
    else:
        # one new pod at a time: each runs the migrations in its init container, without a lock
        deployment_spec["strategy"] = {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    deployment_spec["template"] = {
        "metadata": {"labels": labels(name),
                     "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(spec.get("metrics_port", port)),
                                     "prometheus.io/path": "/metrics"}},
        "spec": pod}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name), "spec": deployment_spec}


def service(name, spec):
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name),
            "spec": {"selector": labels(name),
                     "ports": [{"name": "http", "port": spec["port"], "targetPort": "http"}]}}


def autoscaler(name, low, high):
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta(name),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                     "minReplicas": low, "maxReplicas": high,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}}


def documents():
    docs = [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": NAMESPACE, "labels": {
                 # every pod here meets the restricted profile; admission refuses one that does not
                 "pod-security.kubernetes.io/enforce": "restricted",
                 "pod-security.kubernetes.io/enforce-version": "latest"}}}]
    for name, spec in SERVICES.items():
        docs += [deployment(name, spec), service(name, spec)]
    docs += [autoscaler(name, low, high) for name, (low, high) in AUTOSCALED.items()]
    docs.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta(IMPORTS["claim"]),
                 "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "2Gi"}}}})
    docs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta("gateway"),
                 "spec": {"minAvailable": 1, "selector": {"matchLabels": labels("gateway")}}})
    return docs


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):   # repeated env lists written out, not as &id001 anchors
        return True


if __name__ == "__main__":
    header = "# Generated by deploy/k8s/generate.py; edit that and rerun it, not this file.\n"
    target = Path(__file__).with_name("sotay.yaml")
    target.write_text(header + yaml.dump_all(documents(), Dumper=_Dumper, sort_keys=False, allow_unicode=True))
    print(f"wrote {target}")
