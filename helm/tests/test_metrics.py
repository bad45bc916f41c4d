"""Offline checks of the charts' metrics objects (run by `make deploy-check`): the gateway's
metrics port on its Deployment and Service (and never behind the Ingress or HTTPRoute), the
optional ServiceMonitors (validated against the Prometheus Operator CRD in crds/written), the
Grafana dashboard ConfigMap, and that the dashboard only queries metrics the binaries export:
helm/tests/metric-names.txt, which the Rust tests check against what the binaries register.
"""

from __future__ import annotations

import json
import re
import unittest

from test_charts import HELM, by_kind, crd_schemas, env_of, one, pod_spec, render, validate_object

NAMES = HELM / "tests" / "metric-names.txt"
ON = {"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
                  "dashboard": {"enabled": True, "folder": "Exams"}}}


def exported() -> dict[str, str]:
    """Family name -> type, from the shared list."""
    out = {}
    for line in NAMES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, kind, *_ = line.split()
            out[name] = kind
    return out


def series_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (labels and strings removed first)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    return set(re.findall(r"\bexam_[a-z0-9_]+\b", expr))


def family_of(name: str, families: dict[str, str]) -> str | None:
    if name in families:
        return name
    for suffix in ("_bucket", "_count", "_sum"):
        base = name.removesuffix(suffix)
        if name.endswith(suffix) and families.get(base) == "histogram":
            return base
    return None


def dashboard(docs: list[dict]) -> dict:
    cm = one(docs, "ConfigMap") if len(by_kind(docs, "ConfigMap")) == 1 else \
        next(c for c in by_kind(docs, "ConfigMap") if c["metadata"]["name"].endswith("-dashboard"))
    return json.loads(cm["data"]["exam-platform.json"])


class GatewayMetrics(unittest.TestCase):
    def test_metrics_port_is_on_the_pod_and_service_but_not_behind_the_ingress(self):
        docs = render("gateway")
        container = pod_spec(one(docs, "Deployment"))["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        self.assertEqual(ports, {"http": 3000, "metrics": 9090})
        self.assertEqual(env_of(container)["EXAM_METRICS_ADDR"]["value"], "0.0.0.0:9090")
        service = {p["name"]: p for p in one(docs, "Service")["spec"]["ports"]}
        self.assertEqual(service["metrics"]["targetPort"], "metrics")
        ingress = one(render("gateway", {"ingress": {"enabled": True, "host": "exams.example.org"}}), "Ingress")
        for rule in ingress["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                self.assertEqual(p["backend"]["service"]["port"].get("name", "http"), "http")
                self.assertNotEqual(p["backend"]["service"]["port"].get("number"), 9090)

    def test_metrics_can_be_turned_off(self):
        docs = render("gateway", {"metrics": {"enabled": False}})
        container = pod_spec(one(docs, "Deployment"))["containers"][0]
        self.assertNotIn("EXAM_METRICS_ADDR", env_of(container))
        self.assertEqual([p["name"] for p in one(docs, "Service")["spec"]["ports"]], ["http"])
        self.assertEqual(by_kind(render("gateway", {"metrics": {"enabled": False, **{k: v for k, v in ON["metrics"].items()}}}),
                                 "ServiceMonitor"), [])

    def test_service_monitor_is_off_by_default_and_validates_when_on(self):
        self.assertIn(("monitoring.coreos.com/v1", "ServiceMonitor"), crd_schemas())
        self.assertEqual(by_kind(render("gateway"), "ServiceMonitor"), [])
        self.assertEqual(by_kind(render("generator"), "ServiceMonitor"), [])
        docs = render("gateway", ON)
        sm = one(docs, "ServiceMonitor")
        validate_object(sm)
        self.assertEqual(sm["metadata"]["labels"]["release"], "kube-prometheus-stack")
        self.assertEqual(sm["spec"]["endpoints"][0]["port"], "metrics")
        self.assertEqual(sm["spec"]["endpoints"][0]["path"], "/metrics")
        # It selects the gateway's Service (the one with the metrics port).
        service = one(docs, "Service")
        for k, v in sm["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(service["metadata"]["labels"][k], v)
        gen = one(render("generator", {"metrics": {"serviceMonitor": {"enabled": True}}}), "ServiceMonitor")
        validate_object(gen)
        ksvc = one(render("generator"), "Service")
        self.assertEqual(gen["spec"]["selector"]["matchLabels"]["serving.knative.dev/service"], ksvc["metadata"]["name"])
        self.assertEqual(gen["spec"]["endpoints"][0]["path"], "/metrics")

    def test_the_crd_check_rejects_a_bad_service_monitor(self):
        sm = one(render("gateway", ON), "ServiceMonitor")
        sm["spec"]["endpoints"][0]["interval"] = "thirty seconds"
        with self.assertRaises(Exception):
            validate_object(sm)
        sm = one(render("gateway", ON), "ServiceMonitor")
        sm["spec"]["endpoints"][0]["prot"] = "metrics"
        with self.assertRaises(Exception):
            validate_object(sm)

    def test_dashboard_config_map_is_for_grafanas_sidecar(self):
        self.assertEqual([c for c in by_kind(render("gateway"), "ConfigMap") if c["metadata"]["name"].endswith("-dashboard")], [])
        docs = render("gateway", ON)
        cm = next(c for c in by_kind(docs, "ConfigMap") if c["metadata"]["name"].endswith("-dashboard"))
        validate_object(cm)
        self.assertEqual(cm["metadata"]["labels"]["grafana_dashboard"], "1")
        self.assertEqual(cm["metadata"]["annotations"]["grafana_folder"], "Exams")
        board = dashboard(docs)
        self.assertEqual(board["uid"], "exam-platform")
        titles = [p["title"] for p in board["panels"] if p["type"] != "row"]
        for wanted in ["Request rate by route", "5xx errors by route", "Latency p95 by route", "Open WebSockets",
                       "Generation outcomes (per hour)", "Generation duration p95 by stage", "Store errors by operation",
                       "Publish errors and retries by topic"]:
            self.assertIn(wanted, titles)

    def test_dashboard_queries_only_metrics_the_binaries_export(self):
        families = exported()
        used = set()
        board = dashboard(render("gateway", ON))
        exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
        exprs += [v["query"] for v in board["templating"]["list"] if v["type"] == "query"]
        self.assertTrue(exprs)
        for expr in exprs:
            names = series_names(expr)
            self.assertTrue(names, expr)
            for name in names:
                family = family_of(name, families)
                self.assertIsNotNone(family, f"{name} (in {expr}) is not exported by either binary")
                used.add(family)
        # The on-call essentials are on the board.
        for wanted in ["exam_http_request_duration_seconds", "exam_websockets_open", "exam_generation_outcomes_total",
                       "exam_generation_duration_seconds", "exam_store_operation_duration_seconds",
                       "exam_bus_publish_duration_seconds", "exam_bus_background_backlog"]:
            self.assertIn(wanted, used)

    def test_the_name_check_catches_a_misspelt_metric(self):
        families = exported()
        self.assertIsNone(family_of("exam_http_requests_total", families))
        self.assertIsNone(family_of("exam_websockets_open_count", families))
        self.assertEqual(family_of("exam_store_operation_duration_seconds_bucket", families), "exam_store_operation_duration_seconds")
        self.assertEqual(series_names('sum(rate(exam_a_total{route="exam_b"}[5m])) / exam_c'), {"exam_a_total", "exam_c"})


if __name__ == "__main__":
    unittest.main()
