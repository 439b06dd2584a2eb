"""The Kubernetes manifest (sotay.yaml) from services/registry.yaml: the namespace, a Deployment (init
container `prepare`, probes, non-root and read-only) and a Service per service, autoscalers and a
disruption budget. Written by `python -m deploy.generate` (a unit test fails when sotay.yaml is stale).

PostgreSQL and RabbitMQ are not in these manifests: point the secrets at managed ones or at
clusters run by their operators (the broker loads deploy/rabbitmq/definitions.json rendered with
passwords).
"""

from shared import registry

NAMESPACE = "sotay"
IMAGE = "sotay"  # kustomization.yaml sets the registry and tag
UID = 10001  # the image's user (deploy/Dockerfile)

# nameko runs a service in one process on one eventlet hub, so more than one CPU only helps a service whose
# work runs in threads outside the GIL (identity's Argon2): the registry gives each its resources.
# uploads on their way from the gateway to members: a volume the services with `imports` mount (ReadWriteMany)
IMPORTS = {"claim": "sotay-imports", "path": "/var/sotay/imports"}
# attachments' bytes, for the services with `blobs` (ReadWriteMany; unused once BLOB_S3_BUCKET names a bucket)
BLOBS = {"claim": "sotay-blobs", "path": "/var/sotay/blobs", "storage": "20Gi"}
# identity alone signs access tokens: its Ed25519 PEM files, <kid>.pem, from a secret of their own
SIGNING_KEYS = {
    "service": "identity",
    "variable": "IDENTITY_KEYS_DIR",
    "path": "/run/secrets/identity-keys",
    "secret": "sotay-identity-keys",
}
# service tokens: every service's public key (ConfigMap sotay-service-keys, <service>.pub) and, on each
# service's pods only, its own private key (Secret sotay-<service>-service-key, <service>.key)
SERVICE_KEYS_DIR = "/run/sotay/service-keys"
SERVICE_KEY_DIR = "/run/secrets/service-key"

CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": UID,
    "runAsGroup": UID,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
}
# fsGroup: the keys secret's files are readable by the group, not only by root
POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": UID,
    "runAsGroup": UID,
    "fsGroup": UID,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def labels(name):
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "sotay"}


def meta(name, **extra):
    return {"name": name, "namespace": NAMESPACE, "labels": labels(name), **extra}


def secret(name, key, optional=False):
    ref = {"name": f"sotay-{name}", "key": key}
    if optional:
        ref["optional"] = True
    return {"secretKeyRef": ref}


def environment(service):
    name = service.name
    env = [
        {"name": "AMQP_URI", "valueFrom": secret(name, "AMQP_URI")},
        {"name": "HTTP_HOST", "value": "0.0.0.0"},
        {"name": "SOTAY_ENV", "value": "production"},
        {"name": "QUEUE_TYPE", "value": "quorum"},
        {"name": "DATA_DIR", "value": "/tmp/sotay"},
        {"name": "SERVICE_KEYS_DIR", "value": SERVICE_KEYS_DIR},
        {"name": "SERVICE_KEY_FILE", "value": f"{SERVICE_KEY_DIR}/{name}.key"},
    ]
    if service.database:
        variable = service.database_url_variable
        env.append({"name": variable, "valueFrom": secret(name, service.secret_key(variable))})
        # every Deployment at its autoscaler's maximum still fits the server's connections
        pool, overflow = registry.database_pool(sum(s.replicas[1] for s in registry.with_database()))
        env += [
            {"name": "DATABASE_POOL_SIZE", "value": str(pool)},
            {"name": "DATABASE_MAX_OVERFLOW", "value": str(overflow)},
        ]
    if name == SIGNING_KEYS["service"]:
        env.append({"name": SIGNING_KEYS["variable"], "value": SIGNING_KEYS["path"]})
    env += [
        {"name": variable, "valueFrom": secret(name, service.secret_key(variable))}
        for variable in service.required_secrets
    ]
    env += [{"name": variable, "value": value} for variable, value in service.environment.items()]
    if service.metrics_port:
        env += [
            {"name": f"{service.prefix}_METRICS_HOST", "value": "0.0.0.0"},
            {"name": service.metrics_port_variable, "value": str(service.metrics_port)},
        ]
    if service.imports:
        env.append({"name": "IMPORT_DIR", "value": IMPORTS["path"]})
    if service.blobs:
        env.append({"name": "BLOB_DIR", "value": BLOBS["path"]})
    env += [
        {"name": variable, "valueFrom": secret(name, service.secret_key(variable), optional=True)}
        for variable in service.optional_secrets
    ]
    return env


def resources(service, init=False):
    if init:  # migrations and declarations: brief and small
        return {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
    (cpu_request, cpu_limit), (memory_request, memory_limit) = service.resources["cpu"], service.resources["memory"]
    return {
        "requests": {"cpu": cpu_request, "memory": memory_request},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def deployment(service):
    name = service.name
    volumes = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes += [
        {"name": "service-keys", "configMap": {"name": "sotay-service-keys"}},
        {"name": "service-key", "secret": {"secretName": f"sotay-{name}-service-key", "defaultMode": 0o440}},
    ]
    mounts += [
        {"name": "service-keys", "mountPath": SERVICE_KEYS_DIR, "readOnly": True},
        {"name": "service-key", "mountPath": SERVICE_KEY_DIR, "readOnly": True},
    ]
    if name == SIGNING_KEYS["service"]:  # every replica signs and publishes the same keys
        volumes.append({"name": "keys", "secret": {"secretName": SIGNING_KEYS["secret"], "defaultMode": 0o440}})
        mounts.append({"name": "keys", "mountPath": SIGNING_KEYS["path"], "readOnly": True})
    if service.imports:
        volumes.append({"name": "imports", "persistentVolumeClaim": {"claimName": IMPORTS["claim"]}})
        mounts.append({"name": "imports", "mountPath": IMPORTS["path"]})
    if service.blobs:
        volumes.append({"name": "blobs", "persistentVolumeClaim": {"claimName": BLOBS["claim"]}})
        mounts.append({"name": "blobs", "mountPath": BLOBS["path"]})
    common = {
        "image": IMAGE,
        "env": environment(service),
        "volumeMounts": mounts,
        "securityContext": CONTAINER_SECURITY,
    }
    health = {"httpGet": {"path": "/health", "port": "http"}, "timeoutSeconds": 3}
    container = {
        "name": name,
        "args": ["shared.serve", name],
        **common,
        "ports": [{"name": "http", "containerPort": service.port}]
        + ([{"name": "metrics", "containerPort": service.metrics_port}] if service.metrics_port else []),
        "resources": resources(service),
        "readinessProbe": {**health, "periodSeconds": 10, "failureThreshold": 3},
        # /health also fails while the broker or the database is down, which a restart cannot
        # fix: liveness gives it two minutes so a dependency's outage is not a restart storm
        "livenessProbe": {**health, "initialDelaySeconds": 20, "periodSeconds": 20, "failureThreshold": 6},
    }
    # migrations and subscriber queues exist before the service consumes, publishes or serves
    prepare = {
        "name": "prepare",
        "args": ["shared.cli", "prepare", name],
        **common,
        "resources": resources(service, init=True),
    }
    pod = {
        "automountServiceAccountToken": False,
        "securityContext": POD_SECURITY,
        "terminationGracePeriodSeconds": 30,
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels(name)},
            }
        ],
        "initContainers": [prepare],
        "containers": [container],
        "volumes": volumes,
    }
    deployment_spec = {"selector": {"matchLabels": labels(name)}, "revisionHistoryLimit": 5}
    if not service.autoscaled:  # an autoscaled Deployment leaves replicas to its autoscaler
        deployment_spec["replicas"] = service.replicas[0]
    if service.replicas == (1, 1):
        deployment_spec["strategy"] = {"type": "Recreate"}  # never two at once, even while rolling out
    else:
        # one new pod at a time: each runs the migrations in its init container, without a lock
        deployment_spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    deployment_spec["template"] = {
        "metadata": {
            "labels": labels(name),
            "annotations": {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(service.scrape_port),
                "prometheus.io/path": "/metrics",
            },
        },
        "spec": pod,
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name), "spec": deployment_spec}


def cluster_service(service):
    spec = {"selector": labels(service.name), "ports": [{"name": "http", "port": service.port, "targetPort": "http"}]}
    if service.name == "gateway":
        # a client kept on one gateway process: the versions it answers 304 from are that process's own
        # (services/gateway/versions.py; bench/CAPACITY.md, the running meeting's screen)
        spec["sessionAffinity"] = "ClientIP"
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 3 * 3600}}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(service.name), "spec": spec}


def autoscaler(service):
    low, high = service.replicas
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta(service.name),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
            "minReplicas": low,
            "maxReplicas": high,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                },
                *queue_depth(service),
            ],
        },
    }


# requests waiting in a service's RPC queue (nameko's `rpc-<service>`), as RabbitMQ's Prometheus plugin counts them
# (deploy/prometheus/prometheus.yml, job rabbitmq-queues) and prometheus-adapter serves them as an external metric
QUEUE_METRIC = "rabbitmq_detailed_queue_messages_ready"
QUEUE_TARGET_PER_POD = "20"  # a burst the replicas already running would need more than about a second to drain


def queue_depth(service):
    if service.public:  # the gateway takes HTTP, not RPC: CPU alone
        return []
    return [
        {
            "type": "External",
            "external": {
                "metric": {
                    "name": QUEUE_METRIC,
                    "selector": {"matchLabels": {"vhost": "sotay", "queue": f"rpc-{service.name}"}},
                },
                "target": {"type": "AverageValue", "averageValue": QUEUE_TARGET_PER_POD},
            },
        }
    ]


def documents():
    docs = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": NAMESPACE,
                "labels": {
                    # every pod here meets the restricted profile; admission refuses one that does not
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                },
            },
        }
    ]
    for service in registry.services():
        docs += [deployment(service), cluster_service(service)]
    docs += [autoscaler(service) for service in registry.services() if service.autoscaled]
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta(IMPORTS["claim"]),
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "2Gi"}}},
        }
    )
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta(BLOBS["claim"]),
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": BLOBS["storage"]}}},
        }
    )
    # the clients' way in stays up while nodes are drained
    docs += [
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta(service.name),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": labels(service.name)}},
        }
        for service in registry.services()
        if service.public
    ]
    return docs
