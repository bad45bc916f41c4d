"""Offline checks of the Helm charts, the helmfile and the Dockerfile (run by `make test`).

No cluster is needed: Helm's own SDK (PyPI helm-python-sdk, Helm v4 through its C ABI) lints and
renders the charts; core kinds are validated strictly against the Kubernetes schemas shipped with
PyPI kubernetes-validate; custom resources against the CRDs vendored in helm/tests/crds (the
versions helm/helmfile.yaml installs). Beyond "it validates", the tests pin the contracts between
the charts and the code: the WebSocket paths, probe endpoints, environment variable names, the
uploads topic and prefix, and that credentials only ever come from Secrets.

    PYTHONPATH=.tools/pyhelm python3 -m unittest discover -s helm/tests -v
"""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / "helm"
CRDS = HELM / "tests" / "crds"
CHARTS = ["gateway", "generator", "platform", "knative-serving", "knative-eventing"]
# helmfile release -> (chart dir, values file) for our own charts.
HELMFILE_VALUES = {"gateway": "values/gateway.yaml", "generator": "values/generator.yaml", "platform": "values/platform.yaml"}
KUBE_VERSION = kubernetes_validate.latest_version()

# ---------------------------------------------------------------------------------------------
# helpers


def load_yaml(path: Path):
    with open(path) as f:
        return yaml.safe_load(f)


def variants(chart: str) -> dict[str, dict | None]:
    """Value sets every chart is checked with: defaults, ci/*.yaml, and the helmfile's values."""
    out: dict[str, dict | None] = {"defaults": None}
    for f in sorted((HELM / chart / "ci").glob("*.yaml")):
        out[f"ci/{f.name}"] = load_yaml(f)
    if chart in HELMFILE_VALUES:
        out[HELMFILE_VALUES[chart]] = load_yaml(HELM / HELMFILE_VALUES[chart])
    return out


@functools.lru_cache(maxsize=None)
def _load_chart(chart: str):
    return helm.Chart.load(str(HELM / chart))


def render(chart: str, values: dict | None = None, release: str | None = None) -> list[dict]:
    """Renders like `helm install`, returns the manifests (NOTES.txt excluded)."""
    manifests = _load_chart(chart).render(
        copy.deepcopy(values), name=release or f"exam-{chart}", namespace="exams", is_install=True
    )
    docs = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc.setdefault("metadata", {}).setdefault("annotations", {})
                doc["_template"] = path
                docs.append(doc)
    return docs


def strip(doc: dict) -> dict:
    d = {k: v for k, v in doc.items() if k != "_template"}
    if not d["metadata"].get("annotations"):
        d["metadata"] = {k: v for k, v in d["metadata"].items() if k != "annotations"}
    return d


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str) -> dict:
    found = by_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def pod_spec(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


# Where both binaries read their settings (exam_backends::settings).
SETTINGS = tuple(f"backends/src/settings/{f}.rs" for f in ("mod", "env", "gateway", "auth"))


def source(*paths: str) -> str:
    return "\n".join((ROOT / p).read_text() for p in paths)


# --- CRD schemas (openAPIV3Schema -> JSON Schema, strict about unknown fields like the API
# server with fieldValidation=Strict) ----------------------------------------------------------


def _to_json_schema(s: dict) -> dict:
    s = dict(s)
    out: dict = {}
    if s.pop("x-kubernetes-int-or-string", False):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    preserve = s.pop("x-kubernetes-preserve-unknown-fields", False)
    nullable = s.pop("nullable", False)
    for key in ("description", "format", "x-kubernetes-validations", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
                "x-kubernetes-map-type", "x-kubernetes-embedded-resource", "default", "example"):
        s.pop(key, None)
    for key, value in s.items():
        if key == "properties":
            out["properties"] = {k: _to_json_schema(v) for k, v in value.items()}
        elif key in ("items", "not"):
            out[key] = _to_json_schema(value)
        elif key == "additionalProperties":
            out[key] = value if isinstance(value, bool) else _to_json_schema(value)
        elif key in ("anyOf", "oneOf", "allOf"):
            # Structural-schema combinators only restrict shape; type comes from the parent.
            out[key] = [_to_json_schema(v) for v in value]
        else:
            out[key] = value
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    if nullable and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


@functools.lru_cache(maxsize=None)
def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> JSON Schema of the served version, from the vendored CRDs."""
    out = {}
    # Vendored verbatim (crds/*.yaml), and written from an upstream schema (crds/written/*.yaml).
    for f in sorted(CRDS.glob("*.yaml")) + sorted((CRDS / "written").glob("*.yaml")):
        crd = load_yaml(f)
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            if v.get("served") and "schema" in v:
                schema = _to_json_schema(v["schema"]["openAPIV3Schema"])
                # metadata is validated by the API server's ObjectMeta, not the CRD.
                schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                out[(f"{group}/{v['name']}", kind)] = schema
    return out


def validate_object(doc: dict) -> None:
    obj = strip(doc)
    key = (obj["apiVersion"], obj["kind"])
    if key in crd_schemas():
        jsonschema.Draft7Validator(crd_schemas()[key]).validate(obj)
    else:
        kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)


# ---------------------------------------------------------------------------------------------


class LintAndValidate(unittest.TestCase):
    def test_every_chart_lints_strictly_with_every_value_set(self):
        for chart in CHARTS:
            for name, values in variants(chart).items():
                with self.subTest(chart=chart, values=name):
                    report = helm.lint(str(HELM / chart), copy.deepcopy(values), strict=True, kube_version=f"v{KUBE_VERSION}")
                    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
                    self.assertEqual(problems, [], f"helm lint --strict {chart} ({name})")

    def test_every_rendered_object_validates(self):
        seen_kinds = set()
        for chart in ["gateway", "generator", "platform"]:
            for name, values in variants(chart).items():
                docs = render(chart, values)
                self.assertTrue(docs, f"{chart} ({name}) rendered nothing")
                for doc in docs:
                    seen_kinds.add((doc["apiVersion"], doc["kind"]))
                    with self.subTest(chart=chart, values=name, object=f"{doc['kind']}/{doc['metadata']['name']}"):
                        validate_object(doc)
        # The production value sets must exercise every optional object.
        for expected in [("autoscaling/v2", "HorizontalPodAutoscaler"), ("policy/v1", "PodDisruptionBudget"),
                         ("gateway.networking.k8s.io/v1", "HTTPRoute"), ("networking.k8s.io/v1", "Ingress"),
                         ("serving.knative.dev/v1", "Service"), ("sources.knative.dev/v1", "KafkaSource"),
                         ("kafka.strimzi.io/v1", "Kafka"), ("kafka.strimzi.io/v1", "KafkaNodePool"),
                         ("kafka.strimzi.io/v1", "KafkaTopic"), ("batch/v1", "Job")]:
            self.assertIn(expected, seen_kinds)

    def test_validation_rejects_what_the_cluster_would_reject(self):
        # The validators are only worth something if they fail: a typo in a core object, in a
        # KafkaSource and in a Strimzi topic must each be caught.
        deployment = one(render("gateway"), "Deployment")
        pod_spec(deployment)["containers"][0]["livenessProbes"] = {}
        with self.assertRaises(kubernetes_validate.ValidationError):
            validate_object(deployment)
        source_ = one(render("generator"), "KafkaSource")
        source_["spec"]["delivery"]["retries"] = 3
        with self.assertRaises(jsonschema.ValidationError):
            validate_object(source_)
        topic = by_kind(render("platform"), "KafkaTopic")[0]
        topic["spec"]["partitions"] = "three"
        with self.assertRaises(jsonschema.ValidationError):
            validate_object(topic)

    def test_values_schemas_reject_bad_values(self):
        cases = [
            ("gateway", {"ingress": {"controller": "traefik"}}),
            ("gateway", {"config": {"maxUploadMB": 0}}),
            ("gateway", {"store": {"endpoint": "minio:9000"}}),
            ("gateway", {"httpRoute": {"enabled": True, "parentRefs": []}}),
            # A secret typed into values instead of a Secret reference.
            ("gateway", {"config": {"extraEnv": {"AWS_SECRET_ACCESS_KEY": "hunter2"}}}),
            ("generator", {"config": {"extraEnv": {"EXAM_LLM_API_KEY": "sk-123"}}}),
            ("generator", {"kafkaSource": {"delivery": {"backoffDelay": "1s"}}}),
            ("platform", {"notifications": {"mode": "ftp"}}),
            ("gateway", {"replicas": 3}),  # unknown key: a typo must not be silently ignored
            # The admin password is a Secret reference, never a value.
            ("gateway", {"auth": {"admin": {"password": "hunter2"}}}),
            ("gateway", {"publicUrl": "exams.school.example"}),
            ("gateway", {"auth": {"session": {"idleMinutes": 0}}}),
            ("gateway", {"auth": {"trustForwardedFor": "yes"}}),
        ]
        for chart, bad in cases:
            with self.subTest(chart=chart, values=bad):
                with self.assertRaises(helm.HelmError):
                    render(chart, bad)


class GatewayContract(unittest.TestCase):
    def test_ingress_routes_websockets_to_the_gateway_with_tls(self):
        for name, values in variants("gateway").items():
            docs = render("gateway", values, release="exam-gateway")
            ingresses = by_kind(docs, "Ingress")
            if not ingresses:
                continue
            with self.subTest(values=name):
                ing = ingresses[0]
                service = one(docs, "Service")
                svc_ports = {p["name"] for p in service["spec"]["ports"]}
                rule = ing["spec"]["rules"][0]
                for ws_path in ["/api/v1/live", "/api/v1/exams/0192-abc/attempt", "/pkg/exam.wasm", "/teacher"]:
                    backend = ingress_backend(rule, ws_path)
                    self.assertIsNotNone(backend, f"{ws_path} is not routed")
                    self.assertEqual(backend["service"]["name"], service["metadata"]["name"])
                    self.assertIn(backend["service"]["port"]["name"], svc_ports)
                ann = ing["metadata"]["annotations"]
                limit_mb = (values or {}).get("config", {}).get("maxUploadMB", 20)
                if ann.get("nginx.org/websocket-services") is not None:
                    self.assertEqual(ann["nginx.org/websocket-services"], service["metadata"]["name"])
                    self.assertGreaterEqual(seconds(ann["nginx.org/proxy-read-timeout"]), 3600)
                    self.assertGreaterEqual(seconds(ann["nginx.org/proxy-send-timeout"]), 3600)
                    self.assertGreater(int(ann["nginx.org/client-max-body-size"].rstrip("m")), limit_mb)
                else:
                    self.assertGreaterEqual(int(ann["nginx.ingress.kubernetes.io/proxy-read-timeout"]), 3600)
                    self.assertGreater(int(ann["nginx.ingress.kubernetes.io/proxy-body-size"].rstrip("m")), limit_mb)
                self.assertEqual(ing["spec"]["ingressClassName"], "nginx")
                if (values or {}).get("ingress", {}).get("tls", {}).get("enabled"):
                    tls = ing["spec"]["tls"][0]
                    self.assertIn(rule["host"], tls["hosts"])
                    self.assertTrue(tls["secretName"])
                    self.assertIn("cert-manager.io/cluster-issuer", ann)

    def test_the_websocket_paths_in_the_chart_are_the_gateways(self):
        api = source("server/src/api.rs")
        self.assertIn('"/api/v1/live"', api)
        self.assertIn('"/api/v1/exams/{id}/attempt"', api)

    def test_httproute_sends_everything_to_the_gateway_service(self):
        docs = render("gateway", load_yaml(HELM / "gateway/ci/production-values.yaml"), release="exam-gateway")
        route, service = one(docs, "HTTPRoute"), one(docs, "Service")
        rule = route["spec"]["rules"][0]
        self.assertEqual(rule["matches"][0]["path"], {"type": "PathPrefix", "value": "/"})
        self.assertEqual(rule["backendRefs"][0]["name"], service["metadata"]["name"])
        self.assertEqual(rule["backendRefs"][0]["port"], service["spec"]["ports"][0]["port"])

    def test_probes_point_at_real_endpoints_on_the_served_port(self):
        docs = render("gateway")
        container = pod_spec(one(docs, "Deployment"))["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/readyz")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            self.assertIn(container[probe]["httpGet"]["port"], ports)
        # The gateway listens where the probes and the Service look.
        addr = env_of(container)["LEPTOS_SITE_ADDR"]["value"]
        self.assertEqual(int(addr.rsplit(":", 1)[1]), ports["http"])
        routes = source("server/src/lib.rs")
        self.assertIn('.route("/healthz"', routes)
        self.assertIn('.route("/readyz"', routes)

    def test_every_setting_the_chart_sets_is_one_the_code_reads(self):
        # The settings are read in exam_backends::settings, logs and traces in exam-telemetry.
        code = source(*SETTINGS, "server/src/main.rs", "llm/src/lib.rs", "telemetry/src/export.rs")
        for variant, values in variants("gateway").items():
            container = pod_spec(one(render("gateway", values), "Deployment"))["containers"][0]
            for name in env_of(container):
                with self.subTest(values=variant, env=name):
                    self.assertTrue(reads_env(code, name), f"the gateway never reads {name}")

    def test_identity_settings_default_to_the_gateways_defaults(self):
        container = pod_spec(one(render("gateway"), "Deployment"))["containers"][0]
        env = env_of(container)
        defaults = source(*SETTINGS)
        idle = re.search(r"session_idle: Duration::from_secs\((\d+) \* 60\)", defaults).group(1)
        max_hours = re.search(r"session_max: Duration::from_secs\((\d+) \* 3600\)", defaults).group(1)
        self.assertEqual(env["EXAM_SESSION_IDLE_MINS"]["value"], idle)
        self.assertEqual(env["EXAM_SESSION_MAX_HOURS"]["value"], max_hours)
        # Served through the default Ingress (http, no TLS by default), which sets X-Forwarded-For.
        self.assertEqual(env["EXAM_PUBLIC_URL"]["value"], "http://exams.example.com")
        self.assertEqual(env["EXAM_TRUST_FORWARDED_FOR"]["value"], "true")
        # No first teacher unless asked for: no EXAM_ADMIN_*, nothing mounted.
        self.assertFalse([n for n in env if n.startswith("EXAM_ADMIN_")])
        self.assertEqual([v["name"] for v in pod_spec(one(render("gateway"), "Deployment"))["volumes"]], ["tmp"])

    def test_public_url_follows_the_ingress_host_and_tls(self):
        def public_url(values):
            return env_of(pod_spec(one(render("gateway", values), "Deployment"))["containers"][0]).get("EXAM_PUBLIC_URL", {}).get("value")
        host = {"ingress": {"host": "exams.school.example"}}
        self.assertEqual(public_url(host), "http://exams.school.example")
        self.assertEqual(public_url({"ingress": {"host": "exams.school.example", "tls": {"enabled": True}}}), "https://exams.school.example")
        self.assertEqual(public_url({**host, "publicUrl": "https://www.school.example/"}), "https://www.school.example")
        # No Ingress: nothing to derive it from (the gateway then uses the request's Host).
        self.assertIsNone(public_url({"ingress": {"enabled": False}}))
        self.assertEqual(public_url({"ingress": {"enabled": False}, "publicUrl": "https://exams.school.example"}),
                         "https://exams.school.example")
        for name, values in variants("gateway").items():
            ingresses = by_kind(render("gateway", values), "Ingress")
            if ingresses and not (values or {}).get("publicUrl"):
                with self.subTest(values=name):
                    ing = ingresses[0]
                    scheme = "https" if ing["spec"].get("tls") else "http"
                    self.assertEqual(public_url(values), f"{scheme}://{ing['spec']['rules'][0]['host']}")

    def test_forwarded_for_is_trusted_only_behind_the_charts_proxy(self):
        def trusted(values):
            return env_of(pod_spec(one(render("gateway", values), "Deployment"))["containers"][0])["EXAM_TRUST_FORWARDED_FOR"]["value"]
        route = {"enabled": True, "parentRefs": [{"name": "public-gateway"}]}
        self.assertEqual(trusted({}), "true")
        self.assertEqual(trusted({"ingress": {"enabled": False}, "httpRoute": route}), "true")
        self.assertEqual(trusted({"ingress": {"enabled": False}}), "false")
        # Reachable without the proxy: a client could forge the header.
        self.assertEqual(trusted({"service": {"type": "LoadBalancer"}}), "false")
        self.assertEqual(trusted({"auth": {"trustForwardedFor": False}}), "false")
        self.assertEqual(trusted({"ingress": {"enabled": False}, "auth": {"trustForwardedFor": True}}), "true")

    def test_admin_password_is_a_read_only_file_from_the_secret(self):
        values = {"auth": {"admin": {"email": "head@school.example", "name": "Head", "passwordSecret": {"name": "exam-admin", "key": "pw"}}}}
        spec = pod_spec(one(render("gateway", values), "Deployment"))
        container = spec["containers"][0]
        env = env_of(container)
        self.assertEqual(env["EXAM_ADMIN_EMAIL"]["value"], "head@school.example")
        self.assertEqual(env["EXAM_ADMIN_NAME"]["value"], "Head")
        volume = secret_file(spec, container, env["EXAM_ADMIN_PASSWORD_FILE"]["value"])
        self.assertEqual(volume["secret"], {"secretName": "exam-admin", "defaultMode": 0o400, "items": [{"key": "pw", "path": "password"}]})
        # The read-only root filesystem and the rest of the hardening are unchanged.
        self.assertTrue(container["securityContext"]["readOnlyRootFilesystem"])
        self.assertEqual(spec["securityContext"]["fsGroup"], spec["securityContext"]["runAsGroup"])
        # The helmfile's release creates the first teacher from Secret exam-admin, key password.
        spec = pod_spec(one(render("gateway", load_yaml(HELM / "values/gateway.yaml")), "Deployment"))
        container = spec["containers"][0]
        volume = secret_file(spec, container, env_of(container)["EXAM_ADMIN_PASSWORD_FILE"]["value"])
        self.assertEqual((volume["secret"]["secretName"], volume["secret"]["items"]), ("exam-admin", [{"key": "password", "path": "password"}]))

    def test_admin_email_and_password_secret_go_together(self):
        with self.assertRaisesRegex(helm.HelmError, "auth.admin.email is set but auth.admin.passwordSecret.name is not"):
            render("gateway", {"auth": {"admin": {"email": "head@school.example"}}})
        with self.assertRaisesRegex(helm.HelmError, "auth.admin.passwordSecret.name is set but auth.admin.email is not"):
            render("gateway", {"auth": {"admin": {"passwordSecret": {"name": "exam-admin"}}}})

    def test_oidc_values_become_the_gateways_settings_and_the_secret_only_a_secret_key_ref(self):
        oidc = {"issuer": "https://login.microsoftonline.com/tid/v2.0", "clientId": "app-id",
                "clientSecret": {"name": "exam-oidc", "key": "secret"}, "roleClaim": "roles",
                "teacherValues": ["Exam.Teacher", "Exam.Admin"], "others": "refuse", "scopes": "openid email profile",
                "button": "Contoso"}
        container = pod_spec(one(render("gateway", {"auth": {"oidc": oidc}}), "Deployment"))["containers"][0]
        env = env_of(container)
        self.assertEqual({n: e.get("value") for n, e in env.items() if n.startswith("EXAM_OIDC_") and n != "EXAM_OIDC_CLIENT_SECRET"}, {
            "EXAM_OIDC_ISSUER": oidc["issuer"], "EXAM_OIDC_CLIENT_ID": "app-id", "EXAM_OIDC_ROLE_CLAIM": "roles",
            "EXAM_OIDC_TEACHER_VALUES": "Exam.Teacher,Exam.Admin", "EXAM_OIDC_OTHERS": "refuse",
            "EXAM_OIDC_SCOPES": "openid email profile", "EXAM_OIDC_BUTTON": "Contoso"})
        # The secret: only a reference to the Secret's key, never a value or a values-file string.
        self.assertEqual(env["EXAM_OIDC_CLIENT_SECRET"], {"name": "EXAM_OIDC_CLIENT_SECRET",
                         "valueFrom": {"secretKeyRef": {"name": "exam-oidc", "key": "secret"}}})
        # Every EXAM_OIDC_* the chart can set is read by the gateway, and the defaults agree.
        code = source(*SETTINGS)
        for name in env:
            if name.startswith("EXAM_OIDC_"):
                with self.subTest(env=name):
                    self.assertTrue(reads_env(code, name), f"the gateway never reads {name}")
        defaults = load_yaml(HELM / "gateway/values.yaml")["auth"]["oidc"]
        self.assertIn(f'role_claim: "{defaults["roleClaim"]}".into()', code)
        self.assertIn(f'teacher_values: vec!["{defaults["teacherValues"][0]}".into()]', code)
        self.assertIn("[" + ", ".join(f'"{s}"' for s in defaults["scopes"].split()) + "]", code)
        self.assertEqual(defaults["others"], "student")
        # Without a Secret name: a public client, no secret variable at all.
        public = {**oidc, "clientSecret": {"name": ""}}
        env = env_of(pod_spec(one(render("gateway", {"auth": {"oidc": public}}), "Deployment"))["containers"][0])
        self.assertNotIn("EXAM_OIDC_CLIENT_SECRET", env)
        # Off by default: nothing set.
        env = env_of(pod_spec(one(render("gateway"), "Deployment"))["containers"][0])
        self.assertFalse([n for n in env if n.startswith("EXAM_OIDC_")])
        # A secret in the values themselves is rejected by the schema.
        with self.assertRaises(helm.HelmError):
            render("gateway", {"auth": {"oidc": {**oidc, "clientSecret": "hunter2-the-secret"}}})
        with self.assertRaises(helm.HelmError):
            render("gateway", {"auth": {"oidc": {**oidc, "clientSecretValue": "hunter2"}}})

    def test_oidc_needs_its_client_and_a_public_url(self):
        with self.assertRaisesRegex(helm.HelmError, "auth.oidc.issuer is set but auth.oidc.clientId is not"):
            render("gateway", {"auth": {"oidc": {"issuer": "https://login.school.example"}}})
        with self.assertRaisesRegex(helm.HelmError, "auth.oidc.clientId is set but auth.oidc.issuer is not"):
            render("gateway", {"auth": {"oidc": {"clientId": "exam"}}})
        with self.assertRaisesRegex(helm.HelmError, "needs the public URL"):
            render("gateway", {"ingress": {"enabled": False}, "auth": {"oidc": {"issuer": "https://login.school.example", "clientId": "exam"}}})
        with self.assertRaises(helm.HelmError):
            render("gateway", {"auth": {"oidc": {"issuer": "https://x.example", "clientId": "c", "others": "teacher"}}})

    def test_shutdown_fits_in_the_pods_grace_period(self):
        container = pod_spec(one(render("gateway", {}), "Deployment"))["containers"][0]
        env = env_of(container)
        grace = pod_spec(one(render("gateway", {}), "Deployment"))["terminationGracePeriodSeconds"]
        delay, shutdown_grace = (int(env[name]["value"]) for name in ("EXAM_SHUTDOWN_DELAY_SECS", "EXAM_SHUTDOWN_GRACE_SECS"))
        self.assertGreater(delay, 0, "readiness drops before the gateway stops accepting")
        self.assertLess(delay + shutdown_grace, grace)
        with self.assertRaisesRegex(helm.HelmError, "terminationGracePeriodSeconds"):
            render("gateway", {"config": {"shutdownDelaySecs": 15, "shutdownGraceSecs": 15}})

    def test_network_policy_lets_in_only_the_ingress_and_out_only_dns_store_kafka(self):
        docs = render("gateway", {})
        policy = one(docs, "NetworkPolicy")["spec"]
        deployment = one(docs, "Deployment")
        self.assertEqual(policy["podSelector"]["matchLabels"], deployment["spec"]["selector"]["matchLabels"])
        self.assertEqual(sorted(policy["policyTypes"]), ["Egress", "Ingress"])
        http = policy["ingress"][0]
        self.assertEqual([p["port"] for p in http["ports"]], ["http"])
        self.assertEqual([f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for f in http["from"]], ["ingress-nginx"])
        ports = {p["name"] for p in pod_spec(deployment)["containers"][0]["ports"]}
        for rule in policy["ingress"]:
            for p in rule["ports"]:
                with self.subTest(port=p["port"]):
                    self.assertIn(p["port"], ports, "a policy port the container does not have")
        dns, cluster = policy["egress"][0], policy["egress"][1]
        self.assertEqual({p["port"] for p in dns["ports"]}, {53})
        self.assertEqual([t["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for t in cluster["to"]], ["exams", "kafka"])
        self.assertEqual(len(policy["egress"]), 2, "nothing outside the cluster unless egressCIDRs says so")
        outside = one(render("gateway", {"networkPolicy": {"egressCIDRs": ["203.0.113.0/24"]}}), "NetworkPolicy")["spec"]["egress"][2]
        self.assertEqual((outside["to"][0]["ipBlock"]["cidr"], outside["ports"][0]["port"]), ("203.0.113.0/24", 443))
        self.assertEqual(by_kind(render("gateway", {"networkPolicy": {"enabled": False}}), "NetworkPolicy"), [])
        with self.assertRaises(helm.HelmError):
            render("gateway", {"networkPolicy": {"egressCIDRs": ["example.org"]}})

        function = one(render("generator", {}), "NetworkPolicy")["spec"]
        service = one(render("generator", {}), "Service")
        self.assertEqual(function["podSelector"]["matchLabels"], {"serving.knative.dev/service": service["metadata"]["name"]})
        sources = [f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for f in function["ingress"][0]["from"]]
        self.assertEqual(sources, ["knative-serving", "knative-eventing"], "only Knative's activator and the KafkaSource dispatcher call it")

    def test_several_replicas_and_disruptions_are_safe(self):
        docs = render("gateway", load_yaml(HELM / "gateway/ci/production-values.yaml"), release="exam-gateway")
        deployment, hpa, pdb = one(docs, "Deployment"), one(docs, "HorizontalPodAutoscaler"), one(docs, "PodDisruptionBudget")
        # With an HPA the Deployment must not pin replicas (each upgrade would reset the scale).
        self.assertNotIn("replicas", deployment["spec"])
        self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"], deployment["metadata"]["name"])
        self.assertLess(pdb["spec"]["minAvailable"], hpa["spec"]["minReplicas"])
        self.assertEqual(pdb["spec"]["selector"]["matchLabels"], deployment["spec"]["selector"]["matchLabels"])
        # Live updates reach every replica: each gateway consumes announcements in its own
        # consumer group (Group::EveryInstance), so no session affinity is needed.
        self.assertIn("EveryInstance", source("server/src/lib.rs", "core/src/service.rs"))


class GeneratorContract(unittest.TestCase):
    def test_kafkasource_feeds_the_function_from_the_topic_the_store_writes(self):
        gen = render("generator", load_yaml(HELM / "values/generator.yaml"), release="exam-generator")
        plat = render("platform", load_yaml(HELM / "values/platform.yaml"), release="exam-platform")
        ksvc, src = one(gen, "Service"), one(gen, "KafkaSource")
        self.assertEqual(src["spec"]["sink"]["ref"],
                         {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": ksvc["metadata"]["name"]})
        job = one(plat, "Job")
        job_env = env_of(pod_spec(job)["containers"][0])
        uploads = [t for t in by_kind(plat, "KafkaTopic") if t["metadata"]["labels"]["exam-platform/topic-role"] == "uploads"][0]
        # The store notifies the uploads topic; the source reads that same topic on the same cluster.
        self.assertEqual(src["spec"]["topics"], [uploads["metadata"]["name"]])
        self.assertEqual(job_env["TOPIC"]["value"], uploads["metadata"]["name"])
        self.assertEqual(src["spec"]["bootstrapServers"], [job_env["BROKERS"]["value"]])
        kafka = one(plat, "Kafka")
        self.assertEqual(job_env["BROKERS"]["value"],
                         f"{kafka['metadata']['name']}-kafka-bootstrap.{kafka['metadata']['namespace']}.svc.cluster.local:9092")
        self.assertEqual(uploads["metadata"]["labels"]["strimzi.io/cluster"], kafka["metadata"]["name"])
        # The function publishes to the topic the gateways read.
        fn_env = env_of(pod_spec_ksvc(ksvc)["containers"][0])
        announcements = [t for t in by_kind(plat, "KafkaTopic") if t["metadata"]["labels"]["exam-platform/topic-role"] == "announcements"][0]
        self.assertEqual(fn_env["EXAM_ANNOUNCEMENTS_TOPIC"]["value"], announcements["metadata"]["name"])
        self.assertEqual(fn_env["KAFKA_BOOTSTRAP_SERVERS"]["value"], job_env["BROKERS"]["value"])

    def test_knative_service_is_cluster_local_and_bounded(self):
        for name, values in variants("generator").items():
            with self.subTest(values=name):
                docs = render("generator", values)
                ksvc, src = one(docs, "Service"), one(docs, "KafkaSource")
                self.assertEqual(ksvc["metadata"]["labels"]["networking.knative.dev/visibility"], "cluster-local")
                ann = ksvc["spec"]["template"]["metadata"]["annotations"]
                partitions = (values or {}).get("kafkaSource", {}).get("topicPartitions", 3)
                self.assertLessEqual(int(ann["autoscaling.knative.dev/max-scale"]), partitions)
                spec = pod_spec_ksvc(ksvc)
                self.assertLessEqual(iso_seconds(src["spec"]["delivery"]["timeout"]), spec["timeoutSeconds"])
                self.assertGreaterEqual(src["spec"]["delivery"]["retry"], 1)
                container = spec["containers"][0]
                self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/readyz")
                self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/healthz")
        fn = source("function/src/lib.rs")
        self.assertIn('"/healthz"', fn)
        self.assertIn('"/readyz"', fn)

    def test_impossible_scaling_and_timeouts_fail_the_render(self):
        with self.assertRaisesRegex(helm.HelmError, "maxScale"):
            render("generator", {"knative": {"maxScale": 9}})
        with self.assertRaisesRegex(helm.HelmError, "timeoutSeconds"):
            render("generator", {"kafkaSource": {"delivery": {"timeoutSeconds": 301}}})

    def test_logs_are_json_and_traces_are_off_unless_an_otlp_endpoint_is_given(self):
        for chart in ("gateway", "generator"):
            def env(values=None):
                docs = render(chart, values)
                spec = pod_spec(one(docs, "Deployment")) if chart == "gateway" else pod_spec_ksvc(one(docs, "Service"))
                return {k: v.get("value") for k, v in env_of(spec["containers"][0]).items()}
            with self.subTest(chart=chart):
                default = env()
                self.assertEqual(default["EXAM_LOG_FORMAT"], "json")
                self.assertFalse([n for n in default if n.startswith("OTEL_")])
                traced = env({"otel": {"endpoint": "http://otel-collector.monitoring:4318", "serviceName": "exams"}})
                self.assertEqual(traced["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://otel-collector.monitoring:4318")
                self.assertEqual(traced["OTEL_SERVICE_NAME"], "exams")
                self.assertEqual(env({"config": {"logFormat": "text"}})["EXAM_LOG_FORMAT"], "text")
                with self.assertRaises(Exception):
                    render(chart, {"otel": {"endpoint": "otel-collector:4318"}})
                with self.assertRaises(Exception):
                    render(chart, {"config": {"logFormat": "yaml"}})

    def test_every_setting_the_chart_sets_is_one_the_function_reads(self):
        code = source(*SETTINGS, "function/src/main.rs", "llm/src/lib.rs", "telemetry/src/export.rs")
        for variant, values in variants("generator").items():
            container = pod_spec_ksvc(one(render("generator", values), "Service"))["containers"][0]
            for name in env_of(container):
                with self.subTest(values=variant, env=name):
                    self.assertTrue(reads_env(code, name), f"generator-fn never reads {name}")


class PlatformContract(unittest.TestCase):
    def test_notification_job_is_an_idempotent_hook_for_the_uploads_prefix(self):
        for mode in ("minio", "s3api"):
            with self.subTest(mode=mode):
                job = one(render("platform", {"notifications": {"mode": mode}}), "Job")
                ann = job["metadata"]["annotations"]
                self.assertEqual(set(ann["helm.sh/hook"].split(",")), {"post-install", "post-upgrade"})
                self.assertIn("before-hook-creation", ann["helm.sh/hook-delete-policy"])
                container = pod_spec(job)["containers"][0]
                env = env_of(container)
                keys_rs = source("domain/src/keys.rs")
                prefix = re.search(r'pub const UPLOADS_PREFIX: &str = "([^"]+)";', keys_rs).group(1)
                self.assertEqual(env["PREFIX"]["value"], prefix)
                default_arn = re.search(r'notify_queue_arn: "([^"]+)"\.into\(\)', source(*SETTINGS)).group(1)
                self.assertEqual(env["QUEUE_ARN"]["value"], default_arn)
                self.assertEqual(env["EXAM_NOTIFY_QUEUE_ARN"]["value"], default_arn)
                if mode == "minio":
                    script = container["args"][0]
                    # Re-running must not fail or duplicate: every step is idempotent.
                    self.assertIn("mc mb --ignore-existing", script)
                    self.assertRegex(script, r'mc event add .*--event put --prefix "\$PREFIX" --ignore-existing')
                    self.assertIn("queue_dir=$QUEUE_DIR", script)
                else:
                    self.assertEqual(container["args"], ["setup-notifications"])

    def test_topics_outlive_the_release_and_match_the_code_defaults(self):
        docs = render("platform")
        names = {t["metadata"]["labels"]["exam-platform/topic-role"]: t["metadata"]["name"] for t in by_kind(docs, "KafkaTopic")}
        events = source("domain/src/events.rs")
        self.assertIn(f'UPLOADS_TOPIC: &str = "{names["uploads"]}"', events)
        self.assertIn(f'ANNOUNCEMENTS_TOPIC: &str = "{names["announcements"]}"', events)
        for t in by_kind(docs, "KafkaTopic"):
            self.assertEqual(t["metadata"]["annotations"]["helm.sh/resource-policy"], "keep")

    def test_existing_kafka_cluster_gets_topics_only(self):
        docs = render("platform", {"kafka": {"create": False, "clusterName": "shared", "namespace": "infra"}})
        self.assertEqual(by_kind(docs, "Kafka"), [])
        self.assertEqual(by_kind(docs, "KafkaNodePool"), [])
        for t in by_kind(docs, "KafkaTopic"):
            self.assertEqual(t["metadata"]["namespace"], "infra")
            self.assertEqual(t["metadata"]["labels"]["strimzi.io/cluster"], "shared")
        job_env = env_of(pod_spec(one(docs, "Job"))["containers"][0])
        self.assertEqual(job_env["BROKERS"]["value"], "shared-kafka-bootstrap.infra.svc.cluster.local:9092")
        # A Kafka not run by Strimzi: no Strimzi objects at all, the store pointed at its brokers.
        docs = render("platform", {"kafka": {"create": False, "manageTopics": False}, "notifications": {"brokers": "kafka-0.kafka:9092"}})
        self.assertEqual([d["kind"] for d in docs], ["Job"])
        self.assertEqual(env_of(pod_spec(docs[0])["containers"][0])["BROKERS"]["value"], "kafka-0.kafka:9092")


class Security(unittest.TestCase):
    SECRETISH = re.compile(r"(password|secret|token|api[_-]?key|access[_-]?key)", re.I)

    def test_every_container_runs_non_root_read_only_without_capabilities(self):
        for chart in ["gateway", "generator", "platform"]:
            for name, values in variants(chart).items():
                for doc in render(chart, values):
                    spec = pod_spec_ksvc(doc) if doc["kind"] == "Service" and doc["apiVersion"].startswith("serving") else \
                        pod_spec(doc) if doc["kind"] in ("Deployment", "Job") else None
                    if spec is None:
                        continue
                    for c in spec["containers"]:
                        with self.subTest(chart=chart, values=name, container=c["name"]):
                            sc = {**spec.get("securityContext", {}), **c.get("securityContext", {})}
                            self.assertTrue(sc.get("runAsNonRoot"))
                            self.assertTrue(sc.get("readOnlyRootFilesystem"))
                            self.assertFalse(sc.get("allowPrivilegeEscalation", True))
                            self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
                            # Pod Security "restricted" (README: enforce it on the namespace).
                            self.assertEqual(sc.get("seccompProfile", {}).get("type"), "RuntimeDefault")

    def test_credentials_come_only_from_secrets(self):
        for chart in ["gateway", "generator", "platform"]:
            for name, values in variants(chart).items():
                for doc in render(chart, values):
                    self.assertNotEqual(doc["kind"], "Secret", f"{chart} must not template Secrets")
                    spec = pod_spec_ksvc(doc) if doc["kind"] == "Service" and doc["apiVersion"].startswith("serving") else \
                        pod_spec(doc) if doc["kind"] in ("Deployment", "Job") else None
                    for c in (spec or {}).get("containers", []):
                        for e in c.get("env", []):
                            if self.SECRETISH.search(e["name"]) and e["name"] != "MC_CONFIG_DIR":
                                with self.subTest(chart=chart, values=name, env=e["name"]):
                                    if e["name"].endswith("_FILE"):
                                        # A path to the secret, which must be a file of a Secret volume.
                                        secret_file(spec, c, e["value"])
                                    else:
                                        self.assertIn("secretKeyRef", e.get("valueFrom", {}))

    def test_no_password_is_ever_an_environment_value(self):
        admin = {"auth": {"admin": {"email": "head@school.example", "passwordSecret": {"name": "exam-admin"}}}}
        for name, values in {**variants("gateway"), "admin": admin}.items():
            for c in pod_spec(one(render("gateway", values), "Deployment"))["containers"]:
                for e in c.get("env", []):
                    if "PASSWORD" in e["name"].upper() and not e["name"].endswith("_FILE"):
                        with self.subTest(values=name, env=e["name"]):
                            self.assertNotIn("value", e)

    def test_no_value_file_holds_a_secret(self):
        files = [p for p in HELM.rglob("*.yaml") if "tests" not in p.parts and "templates" not in p.parts and "manifests" not in p.parts]
        self.assertGreater(len(files), 8)
        for f in files:
            for key, value in walk(load_yaml(f) or {}):
                if self.SECRETISH.search(key) and isinstance(value, str) and value:
                    with self.subTest(file=str(f.relative_to(ROOT)), key=key):
                        # Only references to Secrets (names and keys) may appear.
                        self.assertRegex(key, r"(Secret|Key|secretName)$|^name$")
                        self.assertNotRegex(value, r"^(sk-|AKIA)|minio123|password")


class Helmfile(unittest.TestCase):
    def setUp(self):
        self.hf = load_yaml(HELM / "helmfile.yaml")
        self.releases = {f"{r['namespace']}/{r['name']}": r for r in self.hf["releases"]}

    def test_releases_resolve(self):
        repos = {r["name"] for r in self.hf["repositories"]}
        env = load_yaml(HELM / "environments/default.yaml")
        for rid, r in self.releases.items():
            with self.subTest(release=rid):
                chart = r["chart"]
                if chart.startswith("./"):
                    self.assertTrue((HELM / chart / "Chart.yaml").exists())
                else:
                    self.assertIn(chart.split("/")[0], repos)
                    self.assertRegex(str(r.get("version", "")), r"^\d+\.\d+\.\d+$", "remote charts are pinned")
                for v in r.get("values", []):
                    self.assertTrue((HELM / v).exists(), v)
                for need in r.get("needs", []):
                    self.assertIn(need, self.releases)
                if "condition" in r:
                    self.assertTrue(r["condition"].endswith(".enabled"))
                    self.assertIn(r["condition"].split(".")[0], env)

    def test_order_puts_operators_before_what_needs_them(self):
        needs = lambda rid: set(self.releases[rid].get("needs", []))  # noqa: E731
        self.assertIn("kafka/strimzi-operator", needs("exams/exam-platform"))
        self.assertIn("exams/minio-tenant", needs("exams/exam-platform"))
        self.assertTrue({"knative-serving/knative-serving", "knative-eventing/knative-eventing"} <= needs("exams/exam-generator"))
        self.assertIn("exams/exam-platform", needs("exams/exam-gateway"))

    def test_vendored_crds_are_the_versions_the_helmfile_installs(self):
        strimzi = self.releases["kafka/strimzi-operator"]["version"]
        serving = load_yaml(HELM / "knative-serving/Chart.yaml")["appVersion"]
        eventing = load_yaml(HELM / "knative-eventing/Chart.yaml")["appVersion"]
        names = {p.name for p in CRDS.glob("*.yaml")}
        self.assertIn(f"strimzi-{strimzi}-kafka.yaml", names)
        self.assertIn(f"knative-serving-v{serving}-service.yaml", names)
        self.assertIn(f"eventing-kafka-broker-v{eventing}-kafkasource.yaml", names)

    def test_vendored_crds_are_unmodified(self):
        rows = [line.split(" | ") for line in (CRDS / "SOURCES.md").read_text().splitlines() if not line.startswith("#")]
        self.assertEqual(len(rows), len(list(CRDS.glob("*.yaml"))))
        for f, _repo, _tag, _path, blob in rows:
            got = subprocess.run(["git", "hash-object", str(CRDS / f)], capture_output=True, text=True, check=True).stdout.strip()
            self.assertEqual(got, blob.strip(), f)


class KnativeWrappers(unittest.TestCase):
    def test_upstream_manifests_pass_through_with_configmaps_merged(self):
        for name in ("knative-serving", "knative-eventing"):
            with self.subTest(chart=name), tempfile.TemporaryDirectory() as tmp:
                chart = Path(tmp) / name
                shutil.copytree(HELM / name, chart)
                (chart / "manifests" / "core.yaml").write_text(
                    "# upstream header comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-network\n"
                    "  namespace: knative-serving\ndata:\n  _example: docs\n  ingress-class: istio.ingress.networking.knative.dev\n"
                    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: controller\n  namespace: knative-serving\n"
                    "spec:\n  selector:\n    matchLabels: {app: controller}\n  template:\n    metadata:\n      labels: {app: controller}\n"
                    "    spec:\n      containers:\n        - name: controller\n          image: gcr.io/knative-releases/controller@sha256:abc\n"
                )
                values = {"config": {"config-network": {"ingress-class": "kourier.ingress.networking.knative.dev"}}}
                out = helm.Chart.load(str(chart)).render(values, name=name, namespace=name)
                docs = [d for d in yaml.safe_load_all(out[f"{name}/templates/manifests.yaml"]) if d]
                self.assertEqual([d["kind"] for d in docs], ["ConfigMap", "Deployment"])
                self.assertEqual(docs[0]["data"]["ingress-class"], "kourier.ingress.networking.knative.dev")
                self.assertEqual(docs[0]["data"]["_example"], "docs")
                self.assertEqual(docs[1]["spec"]["template"]["spec"]["containers"][0]["image"],
                                 "gcr.io/knative-releases/controller@sha256:abc")
                self.assertIn("installed", out[f"{name}/templates/NOTES.txt"])

    def test_serving_uses_the_networking_layer_it_installs(self):
        values = load_yaml(HELM / "knative-serving/values.yaml")
        self.assertEqual(values["config"]["config-network"]["ingress-class"], "kourier.ingress.networking.knative.dev")
        self.assertIn("net-kourier/releases", (HELM / "knative-fetch-manifests.sh").read_text())
        # The generator's timeout must be allowed by Knative's ceiling.
        ceiling = int(values["config"]["config-defaults"]["max-revision-timeout-seconds"])
        for _, gen_values in variants("generator").items():
            ksvc = one(render("generator", gen_values), "Service")
            self.assertLessEqual(pod_spec_ksvc(ksvc)["timeoutSeconds"], ceiling)


class Dockerfile(unittest.TestCase):
    def setUp(self):
        self.text = (ROOT / "Dockerfile").read_text()

    def test_hadolint_is_clean(self):
        hadolint = ROOT / ".tools/hadolint/bin/hadolint"
        result = subprocess.run([str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_wasm_bindgen_cli_matches_the_lock_file(self):
        lock = (ROOT / "Cargo.lock").read_text()
        locked = re.search(r'name = "wasm-bindgen"\nversion = "([^"]+)"', lock).group(1)
        self.assertIn(f"ARG WASM_BINDGEN_VERSION={locked}\n", self.text)

    def test_runtime_images_match_the_charts(self):
        stages = {m.group(1): m.start() for m in re.finditer(r"^FROM \S+ AS (\w+)", self.text, re.M)}
        self.assertTrue({"gateway", "generator"} <= stages.keys())
        gateway = self.text[stages["gateway"]:stages["generator"]]
        generator = self.text[stages["generator"]:]
        for stage in (gateway, generator):
            self.assertRegex(stage, r"\nUSER 65532:65532\n")
        self.assertIn("LEPTOS_ENV=PROD", gateway)
        deployment = one(render("gateway"), "Deployment")
        port = pod_spec(deployment)["containers"][0]["ports"][0]["containerPort"]
        self.assertIn(f"EXPOSE {port}\n", gateway)
        self.assertEqual(pod_spec(deployment)["securityContext"]["runAsUser"], 65532)
        ksvc = one(render("generator"), "Service")
        self.assertIn(f"EXPOSE {pod_spec_ksvc(ksvc)['containers'][0]['ports'][0]['containerPort']}\n", generator)

    def test_base_images_are_build_arguments_with_the_public_defaults(self):
        # scripts/image.sh builds from local stand-ins by overriding these two; real registries
        # get the defaults.
        self.assertIn("ARG BUILDER_IMAGE=rust:1.95.0-slim-bookworm\n", self.text)
        self.assertIn("ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot\n", self.text)
        froms = dict(m.groups()[::-1] for m in re.finditer(r"^FROM (\S+) AS (\w+)", self.text, re.M))
        self.assertEqual(froms["toolchain"], "${BUILDER_IMAGE}")
        self.assertEqual((froms["gateway"], froms["generator"]), ("${RUNTIME_IMAGE}", "${RUNTIME_IMAGE}"))
        # Every other stage builds on one of ours: no third base image to stand in for.
        self.assertEqual({f for f in froms.values() if not f.startswith("${")}, {"toolchain"})
        # A `# syntax=` directive makes BuildKit pull its frontend from Docker Hub (offline: fails).
        self.assertNotRegex(self.text, r"(?im)^#\s*syntax\s*=")
        # ARCHITECTURE.md names the same toolchain image.
        self.assertIn("`rust:1.95.0-slim-bookworm`", (ROOT / "ARCHITECTURE.md").read_text())

    def test_runtime_stages_log_json(self):
        stages = {m.group(1): m.start() for m in re.finditer(r"^FROM \S+ AS (\w+)", self.text, re.M)}
        self.assertIn("EXAM_LOG_FORMAT=json", self.text[stages["gateway"]:stages["generator"]])
        self.assertIn("EXAM_LOG_FORMAT=json", self.text[stages["generator"]:])


# ---------------------------------------------------------------------------------------------


def pod_spec_ksvc(ksvc: dict) -> dict:
    return ksvc["spec"]["template"]["spec"]


def ingress_backend(rule: dict, path: str):
    """The backend NGINX would pick for `path` (longest matching Prefix/Exact path)."""
    best, best_len = None, -1
    for p in rule["http"]["paths"]:
        ppath, kind = p["path"], p["pathType"]
        if kind == "Exact":
            ok = path == ppath
        else:
            ok = ppath == "/" or path == ppath.rstrip("/") or path.startswith(ppath.rstrip("/") + "/")
        if ok and len(ppath) > best_len:
            best, best_len = p["backend"], len(ppath)
    return best


def secret_file(spec: dict, container: dict, path: str) -> dict:
    """The Secret (or projected Secret) volume `path` is a file of, mounted read-only; fails otherwise."""
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for m in container.get("volumeMounts", []):
        if path.startswith(m["mountPath"].rstrip("/") + "/") and m.get("readOnly"):
            v = volumes[m["name"]]
            items = v.get("secret", {}).get("items") or \
                [i for s in v.get("projected", {}).get("sources", []) if "secret" in s for i in s["secret"].get("items", [])]
            if ("secret" in v or "projected" in v) and path[len(m["mountPath"].rstrip("/")) + 1:] in {i["path"] for i in items}:
                return v
    raise AssertionError(f"{path} is not a file of a read-only Secret volume")


def reads_env(code: str, name: str) -> bool:
    """Whether the Rust sources read environment variable `name`."""
    if name == "RUST_LOG":
        return "EnvFilter::try_from_default_env" in code
    if name.startswith("KAFKA_"):
        # Every KAFKA_* variable becomes a librdkafka property (backends/src/kafka.rs).
        return 'with_prefix("KAFKA_")' in code
    return f'"{name}"' in code


def seconds(v: str) -> int:
    m = re.fullmatch(r"(\d+)(s|m|h)?", v)
    return int(m.group(1)) * {"s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]


def iso_seconds(v: str) -> float:
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?", v)
    h, mi, s = m.groups()
    return int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


def walk(node, key=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, key)
    else:
        yield key, node


if __name__ == "__main__":
    unittest.main()
