"""The deployment files are valid: Kubernetes overlays, docker-compose.yml, the one Dockerfile.

- Each kustomize overlay is rendered (by the small renderer below, which implements the subset of
  kustomize these manifests use, and cross-checked against ``kustomize build`` or
  ``kubectl kustomize`` when one is installed) and every object is validated against the
  Kubernetes JSON schemas shipped by ``kubernetes-validate``.
- docker-compose.yml is validated against the Compose Specification JSON schema (the copy shipped
  inside ``check-jsonschema``, Apache-2.0, from github.com/compose-spec/compose-spec), and with
  ``docker compose config`` where the compose plugin exists.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from portal.settings import PortalSettings
from smart_shared.events.catalogue import TOPICS
from smart_shared.settings import Settings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = {"be": "BE", "fr": "FR"}
SERVICES = {
    "members": 8001,
    "contracts": 8002,
    "billing": 8003,
    "payroll": 8004,
    "fund": 8005,
    "collection": 8006,
    "portal": 8000,
}
MAILERS = ("billing", "payroll", "collection")
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
"""The oldest Kubernetes release we support and the newest one ``kubernetes-validate`` knows."""

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass",
                  "StorageClass", "CustomResourceDefinition", "PersistentVolume"}
WORKLOADS = {"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"}


# ------------------------------------------------------------------- a small kustomize renderer


class KustomizeError(Exception):
    pass


def _load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge for what these manifests patch: maps merge, lists of named items merge by
    name, other lists and scalars are replaced, ``null`` deletes a key."""
    if isinstance(base, dict) and isinstance(patch, dict):
        if "$patch" in patch:
            raise KustomizeError("$patch directives are not supported by this renderer")
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = _merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if (isinstance(base, list) and isinstance(patch, list)
            and all(isinstance(i, dict) and "name" in i for i in [*base, *patch])):
        merged_list = [copy.deepcopy(i) for i in base]
        for item in patch:
            for index, existing in enumerate(merged_list):
                if existing["name"] == item["name"]:
                    merged_list[index] = _merge(existing, item)
                    break
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def _pod_containers(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = obj.get("spec", {})
    pod = spec.get("template", {}).get("spec", {}) if obj["kind"] in WORKLOADS else {}
    yield from pod.get("initContainers", [])
    yield from pod.get("containers", [])


SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "patches", "replicas", "images"}


def render(folder: Path) -> list[dict[str, Any]]:
    """``kustomize build folder`` for the subset used here: resources (files and folders),
    namespace, patches (strategic merge, by path or inline, matched by kind and name or by
    target), replicas and images."""
    kustomization = folder / "kustomization.yaml"
    if not kustomization.exists():
        raise KustomizeError(f"{folder} has no kustomization.yaml")
    spec = yaml.safe_load(kustomization.read_text()) or {}
    unknown = set(spec) - SUPPORTED
    if unknown:
        raise KustomizeError(f"{kustomization}: unsupported fields {sorted(unknown)}")

    objects: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        path = (folder / entry).resolve()
        objects.extend(render(path) if path.is_dir() else _load_all(path))
    ids = [(o["kind"], o["metadata"]["name"]) for o in objects]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise KustomizeError(f"{folder}: duplicate objects {sorted(duplicates)}")

    for entry in spec.get("patches", []):
        patches = _load_all(folder / entry["path"]) if "path" in entry else [
            yaml.safe_load(entry["patch"])
        ]
        for patch in patches:
            target = entry.get("target") or {
                "kind": patch.get("kind"), "name": patch.get("metadata", {}).get("name")
            }
            matched = [o for o in objects
                       if o["kind"] == target.get("kind", o["kind"])
                       and o["metadata"]["name"] == target.get("name", o["metadata"]["name"])]
            if not matched:
                raise KustomizeError(f"{folder}: patch {entry} matches no object")
            for obj in matched:
                body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind")}
                objects[objects.index(obj)] = _merge(obj, body)

    if "namespace" in spec:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = spec["namespace"]

    for entry in spec.get("replicas", []):
        matched = [o for o in objects
                   if o["kind"] in WORKLOADS and o["metadata"]["name"] == entry["name"]]
        if not matched:
            raise KustomizeError(f"{folder}: replicas for unknown workload {entry['name']}")
        for obj in matched:
            obj["spec"]["replicas"] = entry["count"]

    for entry in spec.get("images", []):
        used = False
        for obj in objects:
            for container in _pod_containers(obj):
                match = re.fullmatch(r"([^:@]+(?::\d+/[^:@]+)?)(.*)", container["image"])
                assert match, container["image"]
                name, tag = match.groups()
                if name != entry["name"]:
                    continue
                used = True
                name = entry.get("newName", name)
                if "digest" in entry:
                    tag = f"@{entry['digest']}"
                elif "newTag" in entry:
                    tag = f":{entry['newTag']}"
                container["image"] = f"{name}{tag}"
        if not used:
            raise KustomizeError(f"{folder}: image {entry['name']} is used by no container")
    return objects


def _kustomize_binary() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


# --------------------------------------------------------------------------- Kubernetes tests


@pytest.fixture(scope="module", params=sorted(OVERLAYS))
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(K8S / "overlays" / request.param)


def _by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_every_object_validates_against_the_kubernetes_schemas(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate (dev dependency) is not installed"
    )
    _, objects = overlay
    assert objects
    for version in KUBERNETES_VERSIONS:
        for obj in objects:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except Exception as error:
                pytest.fail(f"{_key(obj)} is invalid for Kubernetes {version}: {error}")


def test_the_base_validates_too() -> None:
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate (dev dependency) is not installed"
    )
    for obj in render(K8S / "base"):
        kubernetes_validate.validate(obj, KUBERNETES_VERSIONS[-1], strict=True)


def test_renderer_agrees_with_kustomize(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    command = _kustomize_binary()
    if command is None:
        pytest.skip("neither kustomize nor kubectl is installed: no cross-check with kustomize")
    name, objects = overlay
    output = subprocess.run([*command, str(K8S / "overlays" / name)], check=True,
                            capture_output=True, text=True).stdout
    built = {_key(o): o for o in yaml.safe_load_all(output) if o}
    mine = {_key(o): o for o in objects}
    assert set(built) == set(mine)
    for key, obj in mine.items():
        assert built[key] == obj, key


def test_a_branch_deploys_each_service_separately(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    name, objects = overlay
    namespace = f"smart-{name}"
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"] == [namespace]
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == namespace, _key(obj)
    assert not [o for o in objects if o["kind"] == "Secret"], "secrets must not be committed"

    for kind in ("Deployment", "Service", "ConfigMap", "PodDisruptionBudget"):
        assert set(SERVICES) <= set(_by_kind(objects, kind)), kind

    platform = _by_kind(objects, "ConfigMap")["smart-platform"]["data"]
    assert platform["SMART_BRANCHES"] == OVERLAYS[name]
    assert platform["SMART_DEPLOYMENT"] == name
    fund = _by_kind(objects, "ConfigMap")["fund"]["data"]
    assert f"SMART_FUND_INITIAL_CAPITAL_{OVERLAYS[name]}" in fund

    kustomization = yaml.safe_load((K8S / "overlays" / name / "kustomization.yaml").read_text())
    replicas = {r["name"]: r["count"] for r in kustomization["replicas"]}
    assert set(replicas) == set(SERVICES), "every service is scaled on its own"
    deployments = _by_kind(objects, "Deployment")
    for service in SERVICES:
        assert deployments[service]["spec"]["replicas"] == replicas[service]


def test_deployments_are_probed_limited_and_unprivileged(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = overlay
    configmaps = _by_kind(objects, "ConfigMap")
    services = _by_kind(objects, "Service")
    budgets = _by_kind(objects, "PodDisruptionBudget")
    for name, port in SERVICES.items():
        deployment = _by_kind(objects, "Deployment")[name]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items()
        assert services[name]["spec"]["selector"].items() <= labels.items()
        assert budgets[name]["spec"]["selector"]["matchLabels"].items() <= labels.items()

        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        (container,) = pod["containers"]
        assert re.fullmatch(rf"smart/{name}:[\w.-]+", container["image"])
        assert not container["image"].endswith(":latest"), "overlays pin image tags"
        assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        assert services[name]["spec"]["ports"][0]["port"] == port
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]

        for source in container["envFrom"]:
            assert source["configMapRef"]["name"] in configmaps
        assert configmaps[name]["data"]["SMART_SERVICE_PORT"] == str(port)
        secrets = [v for v in container["env"] if "secretKeyRef" in v["valueFrom"]]
        for variable in secrets:
            assert variable["valueFrom"]["secretKeyRef"]["name"] == "smart-secrets"
        # static membership: a restarted container keeps its name, so its partitions come back
        # without a rebalance
        (replica,) = [v for v in container["env"] if v not in secrets]
        assert replica == {"name": "SMART_REPLICA",
                           "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}


def test_the_services_with_documents_to_mail_leave_their_mails_to_a_mailer(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = overlay
    deployments = _by_kind(objects, "Deployment")
    configmaps = _by_kind(objects, "ConfigMap")
    budgets = _by_kind(objects, "PodDisruptionBudget")
    mailers = {name.removesuffix("-mailer") for name in deployments if name.endswith("-mailer")}
    assert mailers == set(MAILERS)
    for name in MAILERS:
        mailer = deployments[f"{name}-mailer"]
        service = deployments[name]
        labels = mailer["spec"]["template"]["metadata"]["labels"]
        # its pods are not the service's: the Service and its budget do not select them
        assert not service["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert budgets[f"{name}-mailer"]["spec"]["selector"]["matchLabels"].items() <= \
            labels.items()
        assert mailer["spec"]["replicas"] >= 2, "a standby takes the lease over"
        (container,) = mailer["spec"]["template"]["spec"]["containers"]
        (served,) = service["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", name, "mailer"]
        assert container["image"] == served["image"]
        assert container["envFrom"] == served["envFrom"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["securityContext"] == served["securityContext"]
        assert configmaps[name]["data"]["SMART_SEPARATE_MAILER"] == "true"
    for name in set(SERVICES) - set(MAILERS):
        assert "SMART_SEPARATE_MAILER" not in configmaps[name]["data"]


def test_configuration_names_are_settings_the_services_read(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = overlay
    known = {field.alias for settings in (Settings, PortalSettings)
             for field in settings.model_fields.values() if field.alias}
    for configmap in _by_kind(objects, "ConfigMap").values():
        for variable in configmap["data"]:
            if variable.startswith("SMART_FUND_INITIAL_CAPITAL_"):
                continue
            owner = configmap["metadata"]["name"]
            assert variable in known, f"{owner}: {variable} is read by no service"
    for deployment in _by_kind(objects, "Deployment").values():
        for variable in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
            assert variable["name"] in known


def test_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\ncommonLabels: {a: b}\n")
    with pytest.raises(KustomizeError, match="unsupported"):
        render(tmp_path)


# ------------------------------------------------------------------------------ docker-compose


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_file_validates_against_the_compose_specification(compose: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    pytest.importorskip(
        "check_jsonschema", reason="check-jsonschema (ships the compose-spec schema) is missing"
    )
    from importlib.resources import files

    schema_file = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(compose)]
    assert not errors, "\n".join(errors)


def test_docker_compose_config_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("the docker client has no compose plugin")
    result = subprocess.run([docker, "compose", "-f", str(REPO / "docker-compose.yml"), "config",
                             "--quiet"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_compose_runs_the_platform_from_environment_variables(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka"]["image"] == "apache/kafka:4.1.1"
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["mongo"]["image"] == "mongo:8"
    assert "rs0" in services["mongo"]["command"]
    assert "rs.initiate" in " ".join(services["mongo"]["healthcheck"]["test"])
    assert services["jaeger"]["image"].startswith("jaegertracing/all-in-one")

    script = " ".join(services["kafka-topics"]["entrypoint"])
    assert set(re.findall(r"smart\.[a-z]+\.[a-z]+\.v\d+", script)) == set(TOPICS)
    assert '"$${topic}.dlq"' in script and "--partitions 3" in script

    for name, port in SERVICES.items():
        service = services[name]
        assert service["build"] == {"context": ".", "args": {"SERVICE": name, "PORT": str(port)}}
        env = service["environment"]
        assert env["SMART_SERVICE_PORT"] == str(port)
        assert env["MONGODB_URI"].startswith("mongodb://mongo:27017/") and "replicaSet=rs0" in env[
            "MONGODB_URI"
        ]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
        assert env["SMART_SERVICE_HOST"] == "0.0.0.0"
        for required in ("SMART_BRANCHES", "SMART_DEPLOYMENT", "SMART_JWT_SECRET"):
            assert required in env
        assert "/health/ready" in " ".join(service["healthcheck"]["test"])
        assert service["depends_on"]["mongo"]["condition"] == "service_healthy"
        assert service["depends_on"]["kafka-topics"]["condition"] == (
            "service_completed_successfully"
        )
        assert service["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert "SMART_FUND_INITIAL_CAPITAL_BE" in services["fund"]["environment"]


# -------------------------------------------------------------------------------- Dockerfiles


def test_one_dockerfile_builds_every_service_multi_stage_non_root_and_healthchecked() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert not list((REPO / "services").glob("*/Dockerfile")), "a service has its own Dockerfile"
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2, "not multi-stage"
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0"), "runs as root"
    assert re.search(r"^HEALTHCHECK .*\n?.*/health/ready", text, re.M)
    assert "curl" not in text
    assert re.findall(r"^ARG (SERVICE|PORT)$", text, re.M).count("SERVICE") == 2
    assert "EXPOSE ${PORT}\n" in text
    assert "SMART_SERVICE=${SERVICE}" in text and "SMART_SERVICE_PORT=${PORT}" in text
    assert 'exec python -m \\"$SMART_SERVICE\\"' in text
    assert "--package smart-${SERVICE}" in text
    for name in SERVICES:
        assert (REPO / "services" / name / "pyproject.toml").read_text().count(
            f'name = "smart-{name}"') == 1, f"{name}: no package smart-{name} to build"


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = (REPO / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".local"):
        assert entry in ignored
