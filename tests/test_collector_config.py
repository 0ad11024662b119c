"""Structural checks of the example backends in collector-config/.

Nothing here starts a container: the files are parsed and cross-checked, so a typo in a
component id, a pipeline that names an undefined exporter, a compose file mounting a file
that is not in the repository or a dashboard that does not query Loki fails in CI instead
of at `docker compose up`. Needs PyYAML (a test dependency).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPOSITORY = Path(__file__).resolve().parent.parent
CONFIG_ROOT = REPOSITORY / "collector-config"
DASHBOARD = CONFIG_ROOT / "grafana" / "dashboards" / "mcp-logs.json"

# Component types of the OpenTelemetry Collector contrib distribution
# (otel/opentelemetry-collector-contrib 0.162.0, the image the compose files pin), by kind.
# Source: open-telemetry/opentelemetry-collector-releases,
# distributions/otelcol-contrib/manifest.yaml, which lists the Go modules built into the
# distribution; the type names are the ones those modules register (their metadata.yaml
# `type:`), after the 2026 lower_snake_case renames (collector issue #14396: otlp ->
# otlp_grpc and otlphttp -> otlp_http in v0.144.0; contrib issue #45339 / PR #48533:
# loadbalancing -> load_balancing). This is the subset relevant to OTLP log and trace
# pipelines, not all ~250 components: a type missing here may still be in contrib, so
# check the manifest before adding it.
CONTRIB_COMPONENTS: dict[str, frozenset[str]] = {
    "receivers": frozenset(
        {"otlp", "nop", "filelog", "journald", "syslog", "hostmetrics", "prometheus", "jaeger", "zipkin", "kafka"}
    ),
    "processors": frozenset(
        {
            "memory_limiter",
            "batch",
            "attributes",
            "resource",
            "filter",
            "transform",
            "resourcedetection",
            "k8sattributes",
            "redaction",
            "probabilistic_sampler",
            "tail_sampling",
        }
    ),
    "exporters": frozenset(
        {
            "otlp_grpc",
            "otlp_http",
            "debug",
            "nop",
            "load_balancing",
            "file",
            "kafka",
            "prometheus",
            "prometheusremotewrite",
            "zipkin",
            "elasticsearch",
            "clickhouse",
        }
    ),
    "extensions": frozenset(
        {
            "health_check",
            "file_storage",
            "db_storage",
            "pprof",
            "zpages",
            "basicauth",
            "bearertokenauth",
            "oauth2client",
            "headers_setter",
        }
    ),
    "connectors": frozenset({"forward", "count", "routing", "failover"}),
}

# Old names the distribution still accepts as deprecated aliases (they log a warning).
DEPRECATED_ALIASES: dict[str, dict[str, str]] = {
    "exporters": {"otlp": "otlp_grpc", "otlphttp": "otlp_http", "loadbalancing": "load_balancing"},
}
# Still built in, but on the way out: upstream is replacing the batch processor with
# exporter-side batching (`sending_queue.batch`; collector RFC PR #15273).
DISCOURAGED: dict[str, frozenset[str]] = {"processors": frozenset({"batch"})}

STORAGE_EXTENSION_TYPES = frozenset({"file_storage", "db_storage"})
SIGNALS = frozenset({"logs", "traces", "metrics", "profiles"})
COMPONENT_KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")
PIPELINE_KINDS = ("receivers", "processors", "exporters")

COLLECTOR_IMAGE = "otel/opentelemetry-collector-contrib"
GRAFANA_PROVISIONING_DASHBOARDS = ("/etc/grafana/provisioning/dashboards", "/otel-lgtm/grafana/conf/provisioning/dashboards")
GRAFANA_PROVISIONING_DATASOURCES = "/etc/grafana/provisioning/datasources"

EXPECTED_COLLECTOR_CONFIGS = {
    "debug/collector.yaml",
    "grafana/collector.yaml",
    "jaeger/collector.yaml",
    "jaeger-loki/collector.yaml",
    "scale-out/agent.yaml",
    "scale-out/gateway.yaml",
}
EXPECTED_COMPOSE_FILES = {
    "debug/docker-compose.yml",
    "grafana/docker-compose.yml",
    "jaeger/docker-compose.yml",
    "jaeger-loki/docker-compose.yml",
    "lgtm/docker-compose.yml",
    "scale-out/docker-compose.yml",
}


def _relative(path: Path) -> str:
    return path.relative_to(CONFIG_ROOT).as_posix()


def _load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


YAML_FILES = sorted([*CONFIG_ROOT.rglob("*.yaml"), *CONFIG_ROOT.rglob("*.yml")])


def _is_collector_config(document: Any) -> bool:
    return isinstance(document, dict) and "receivers" in document and isinstance(document.get("service"), dict)


COLLECTOR_CONFIGS = [path for path in YAML_FILES if _is_collector_config(_load_yaml(path))]
COMPOSE_FILES = [path for path in YAML_FILES if path.name in ("docker-compose.yml", "docker-compose.yaml", "compose.yaml")]


def _collector_params() -> list[Any]:
    return [pytest.param(path, id=_relative(path)) for path in COLLECTOR_CONFIGS]


def _compose_params() -> list[Any]:
    return [pytest.param(path, id=_relative(path)) for path in COMPOSE_FILES]


def _component_type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def _pipelines(config: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    return config["service"].get("pipelines") or {}


def _used(config: dict[str, Any], kind: str) -> set[str]:
    return {component for pipeline in _pipelines(config).values() for component in pipeline.get(kind) or []}


def _find_key(node: Any, key: str, trail: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every (path, value) where `key` occurs anywhere below `node`."""
    found: list[tuple[tuple[str, ...], Any]] = []
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                found.append(((*trail, name), value))
            found.extend(_find_key(value, key, (*trail, str(name))))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_find_key(value, key, (*trail, str(index))))
    return found


def _exporter_hosts(config: dict[str, Any]) -> set[str]:
    """Host names every exporter sends to: `endpoint` values and load_balancing static hostnames."""
    hosts: set[str] = set()
    for exporter in (config.get("exporters") or {}).values():
        for _, endpoint in _find_key(exporter or {}, "endpoint"):
            split = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
            hosts.add(split.hostname or "")
        for _, hostnames in _find_key(exporter or {}, "hostnames"):
            hosts.update(urlsplit(f"//{hostname}").hostname or "" for hostname in hostnames)
    return hosts


# --- every YAML file ------------------------------------------------------------------


def test_the_expected_setups_are_present() -> None:
    assert {_relative(path) for path in COLLECTOR_CONFIGS} == EXPECTED_COLLECTOR_CONFIGS
    assert {_relative(path) for path in COMPOSE_FILES} == EXPECTED_COMPOSE_FILES
    assert (CONFIG_ROOT / "README.md").is_file()
    assert DASHBOARD.is_file()


@pytest.mark.parametrize("path", [pytest.param(path, id=_relative(path)) for path in YAML_FILES])
def test_yaml_parses_to_a_mapping(path: Path) -> None:
    document = _load_yaml(path)
    assert isinstance(document, dict) and document, f"{_relative(path)} is empty or not a mapping"


@pytest.mark.parametrize("path", [pytest.param(path, id=_relative(path)) for path in COLLECTOR_CONFIGS + COMPOSE_FILES])
def test_starts_with_a_comment_saying_what_it_is_and_how_to_start_it(path: Path) -> None:
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    text = "\n".join(header)
    assert len(header) >= 3, "missing comment header"
    assert "docker compose up" in text or "otelcol-contrib --config" in text, "header does not say how to start it"


# --- collector configs ----------------------------------------------------------------


@pytest.mark.parametrize("path", _collector_params())
def test_pipelines_only_name_defined_components(path: Path) -> None:
    config = _load_yaml(path)
    pipelines = _pipelines(config)
    assert pipelines, "no pipelines"
    for pipeline_id, pipeline in pipelines.items():
        assert pipeline.get("receivers"), f"pipeline {pipeline_id} has no receivers"
        assert pipeline.get("exporters"), f"pipeline {pipeline_id} has no exporters"
        for kind in PIPELINE_KINDS:
            defined = set(config.get(kind) or {}) | set(config.get("connectors") or {})
            for component_id in pipeline.get(kind) or []:
                assert component_id in defined, f"pipeline {pipeline_id}: {kind[:-1]} {component_id!r} is not defined"
    for extension_id in config["service"].get("extensions") or []:
        assert extension_id in (config.get("extensions") or {}), f"extension {extension_id!r} is not defined"


@pytest.mark.parametrize("path", _collector_params())
def test_pipeline_ids_name_a_signal(path: Path) -> None:
    for pipeline_id in _pipelines(_load_yaml(path)):
        assert _component_type(pipeline_id) in SIGNALS, f"pipeline {pipeline_id!r}: type must be one of {sorted(SIGNALS)}"


@pytest.mark.parametrize("path", _collector_params())
def test_every_component_type_is_in_the_contrib_distribution(path: Path) -> None:
    config = _load_yaml(path)
    for kind in COMPONENT_KINDS:
        known = CONTRIB_COMPONENTS[kind] | set(DEPRECATED_ALIASES.get(kind, {}))
        for component_id in config.get(kind) or {}:
            component_type = _component_type(component_id)
            assert component_type in known, f"{kind[:-1]} type {component_type!r} ({component_id}) is not in otelcol-contrib"


@pytest.mark.parametrize("path", _collector_params())
def test_uses_current_names_and_no_batch_processor(path: Path) -> None:
    config = _load_yaml(path)
    for kind, aliases in DEPRECATED_ALIASES.items():
        for component_id in config.get(kind) or {}:
            old = _component_type(component_id)
            assert old not in aliases, f"{component_id}: {old!r} is a deprecated alias of {aliases[old]!r}"
    for kind, types in DISCOURAGED.items():
        for component_id in config.get(kind) or {}:
            assert _component_type(component_id) not in types, f"{component_id}: batch in the exporter's sending_queue instead"


@pytest.mark.parametrize("path", _collector_params())
def test_every_defined_component_is_used(path: Path) -> None:
    config = _load_yaml(path)
    for kind in PIPELINE_KINDS:
        unused = set(config.get(kind) or {}) - _used(config, kind)
        assert not unused, f"{kind} defined but in no pipeline: {sorted(unused)}"
    enabled = set(config["service"].get("extensions") or [])
    assert not set(config.get("extensions") or {}) - enabled, "extension defined but not in service.extensions"


@pytest.mark.parametrize("path", _collector_params())
def test_otlp_receivers_listen_on_4317_grpc_and_4318_http(path: Path) -> None:
    config = _load_yaml(path)
    otlp = {cid: body for cid, body in (config.get("receivers") or {}).items() if _component_type(cid) == "otlp"}
    assert otlp, "no otlp receiver"
    for component_id, body in otlp.items():
        protocols = (body or {})["protocols"]
        assert set(protocols) == {"grpc", "http"}, f"{component_id}: expected both grpc and http"
        assert protocols["grpc"]["endpoint"].rsplit(":", 1)[1] == "4317", f"{component_id}: gRPC must be on 4317"
        assert protocols["http"]["endpoint"].rsplit(":", 1)[1] == "4318", f"{component_id}: HTTP must be on 4318"


@pytest.mark.parametrize("path", _collector_params())
def test_memory_limiter_comes_first(path: Path) -> None:
    for pipeline_id, pipeline in _pipelines(_load_yaml(path)).items():
        processors = pipeline.get("processors") or []
        limiters = [index for index, pid in enumerate(processors) if _component_type(pid) == "memory_limiter"]
        assert limiters in ([], [0]), f"pipeline {pipeline_id}: memory_limiter must be the first processor"


@pytest.mark.parametrize("path", _collector_params())
def test_persistent_queues_use_an_enabled_storage_extension(path: Path) -> None:
    config = _load_yaml(path)
    extensions = config.get("extensions") or {}
    enabled = set(config["service"].get("extensions") or [])
    for exporter_id, exporter in (config.get("exporters") or {}).items():
        for trail, storage in _find_key(exporter or {}, "storage"):
            where = f"{exporter_id}.{'.'.join(trail)}"
            assert trail[-2:] == ("sending_queue", "storage") and len(trail) == 2, (
                f"{where}: persistent storage belongs in the exporter's own top-level sending_queue"
            )
            assert storage in extensions and storage in enabled, f"{where}: {storage!r} is not an enabled extension"
            assert _component_type(storage) in STORAGE_EXTENSION_TYPES, f"{where}: {storage!r} is not a storage extension"


@pytest.mark.parametrize("path", _collector_params())
def test_loki_is_reached_through_its_native_otlp_endpoint(path: Path) -> None:
    config = _load_yaml(path)
    for exporter_id, exporter in (config.get("exporters") or {}).items():
        endpoint = str((exporter or {}).get("endpoint", ""))
        if urlsplit(endpoint).hostname == "loki":
            assert _component_type(exporter_id) == "otlp_http", f"{exporter_id}: Loki ingests OTLP over HTTP only"
            assert urlsplit(endpoint).path == "/otlp", f"{exporter_id}: use http://loki:3100/otlp (the exporter adds /v1/logs)"
            pipelines = [pid for pid, p in _pipelines(config).items() if exporter_id in (p.get("exporters") or [])]
            assert pipelines and all(_component_type(pid) == "logs" for pid in pipelines), f"{exporter_id}: logs only"


SCALE_OUT = CONFIG_ROOT / "scale-out"


def test_jaeger_only_sends_traces_to_jaeger_and_acknowledges_log_records() -> None:
    # Jaeger v2 answers OTLP logs with UNIMPLEMENTED: in the Jaeger-only setup MCP logs travel as
    # span events on the traces pipeline, and log records are taken and discarded (nop) so that a
    # client that still sends them sees no export errors.
    config = _load_yaml(CONFIG_ROOT / "jaeger" / "collector.yaml")
    pipelines = _pipelines(config)
    assert set(pipelines) == {"traces", "logs"}
    [traces_exporter] = pipelines["traces"]["exporters"]
    assert _component_type(traces_exporter) == "otlp_grpc"
    assert config["exporters"][traces_exporter]["endpoint"] == "jaeger:4317"
    assert [_component_type(exporter) for exporter in pipelines["logs"]["exporters"]] == ["nop"]
    compose = _load_yaml(CONFIG_ROOT / "jaeger" / "docker-compose.yml")
    assert set(compose["services"]) == {"otel-collector", "jaeger"}, "Jaeger only: no Loki, no Grafana"
    header = (CONFIG_ROOT / "jaeger" / "collector.yaml").read_text(encoding="utf-8")
    assert "MCP_OTEL_SPAN_EVENTS=true" in header and "OTEL_LOGS_EXPORTER=none" in header


def test_jaeger_with_loki_sends_traces_to_jaeger_and_logs_to_loki() -> None:
    pipelines = _pipelines(_load_yaml(CONFIG_ROOT / "jaeger-loki" / "collector.yaml"))
    assert [_component_type(exporter) for exporter in pipelines["traces"]["exporters"]] == ["otlp_grpc"]
    assert pipelines["logs"]["exporters"] == ["otlp_http/loki"]


def test_scale_out_agent_balances_onto_gateways_with_a_durable_queue() -> None:
    agent = _load_yaml(SCALE_OUT / "agent.yaml")
    compose_services = _load_yaml(SCALE_OUT / "docker-compose.yml")["services"]
    balancer = agent["exporters"]["load_balancing"]
    assert balancer["routing_key"] in {"service", "traceID"}
    queue = balancer["sending_queue"]
    assert queue["enabled"] is True and queue["storage"] == "file_storage/queue"
    assert balancer["retry_on_failure"]["enabled"] is True
    assert balancer["retry_on_failure"]["max_elapsed_time"] == 0, "must keep retrying while every gateway is down"
    sub_exporter = balancer["protocol"]["otlp"]
    assert "endpoint" not in sub_exporter, "the resolver supplies the endpoints"
    assert sub_exporter["sending_queue"]["enabled"] is False, "queue once, at the top level"
    gateways = balancer["resolver"]["static"]["hostnames"]
    assert len(gateways) >= 2
    for hostname in gateways:
        host, port = hostname.rsplit(":", 1)
        assert port == "4317" and host in compose_services, f"{hostname} is not a gateway service on 4317"
        assert compose_services[host]["volumes"][0].startswith("./gateway.yaml:"), f"{host} does not run gateway.yaml"
    for pipeline in _pipelines(agent).values():
        assert pipeline["exporters"] == ["load_balancing"]


def test_scale_out_gateways_write_logs_to_loki_and_traces_to_tempo() -> None:
    gateway = _load_yaml(SCALE_OUT / "gateway.yaml")
    pipelines = _pipelines(gateway)
    assert pipelines["logs"]["exporters"] == ["otlp_http/loki"]
    assert pipelines["traces"]["exporters"] == ["otlp_grpc/tempo"]
    assert gateway["exporters"]["otlp_grpc/tempo"]["endpoint"] == "tempo:4317"
    for exporter in gateway["exporters"].values():
        assert exporter["sending_queue"]["storage"] == "file_storage/queue"


# --- compose files --------------------------------------------------------------------


def _mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each volume; named volumes keep their name as source."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            mounts.append((str(volume.get("source", "")), str(volume["target"])))
        else:
            parts = str(volume).split(":")
            mounts.append((parts[0], parts[1] if len(parts) > 1 else parts[0]))
    return mounts


def _is_bind(source: str) -> bool:
    return source.startswith((".", "/", "~"))


def _host_path(compose: Path, source: str) -> Path:
    return (compose.parent / source).resolve()


def _services(compose: Path) -> dict[str, dict[str, Any]]:
    return _load_yaml(compose)["services"]


@pytest.mark.parametrize("path", _compose_params())
def test_compose_bind_mounts_exist(path: Path) -> None:
    document = _load_yaml(path)
    named = set(document.get("volumes") or {})
    for name, service in document["services"].items():
        for source, target in _mounts(service):
            if _is_bind(source):
                assert _host_path(path, source).exists(), f"{name}: {source} (-> {target}) does not exist"
                assert _host_path(path, source).is_relative_to(CONFIG_ROOT), f"{name}: {source} is outside collector-config/"
            else:
                assert source in named, f"{name}: named volume {source!r} is not declared"


@pytest.mark.parametrize("path", _compose_params())
def test_compose_images_are_pinned(path: Path) -> None:
    for name, service in _services(path).items():
        image = service["image"]
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag and tag != "latest", f"{name}: pin {image} to a version"


@pytest.mark.parametrize("path", _compose_params())
def test_compose_collectors_run_a_checked_config_and_reach_their_backends(path: Path) -> None:
    services = _services(path)
    collectors = {name: s for name, s in services.items() if s["image"].startswith(f"{COLLECTOR_IMAGE}:")}
    if path.parent.name == "lgtm":
        assert not collectors, "otel-lgtm has its own collector"
        return
    assert collectors
    checked = {p.resolve() for p in COLLECTOR_CONFIGS}
    for name, service in collectors.items():
        flags = [arg for arg in service["command"] if arg.startswith("--config=")]
        assert len(flags) == 1, f"{name}: expected one --config="
        in_container = flags[0].removeprefix("--config=")
        sources = [source for source, target in _mounts(service) if target == in_container]
        assert len(sources) == 1, f"{name}: {in_container} is not mounted"
        config_path = _host_path(path, sources[0])
        assert config_path in checked, f"{name}: {sources[0]} is not one of the checked collector configs"
        for host in _exporter_hosts(_load_yaml(config_path)):
            assert host in services, f"{name}: exports to {host!r}, which is not a service in {_relative(path)}"


def _grafana_services(path: Path) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in _services(path).items()
        if service["image"].startswith(("grafana/grafana:", "grafana/otel-lgtm:"))
    }


GRAFANA_COMPOSE_FILES = [path for path in COMPOSE_FILES if _grafana_services(path)]


@pytest.mark.parametrize("path", [pytest.param(path, id=_relative(path)) for path in GRAFANA_COMPOSE_FILES])
def test_compose_grafana_provisions_the_mcp_logs_dashboard(path: Path) -> None:
    for name, service in _grafana_services(path).items():
        mounts = [(_host_path(path, source), target) for source, target in _mounts(service) if _is_bind(source)]
        providers: list[dict[str, Any]] = []
        for host, target in mounts:
            if target.startswith(GRAFANA_PROVISIONING_DASHBOARDS):
                files = sorted(host.glob("*.y*ml")) if host.is_dir() else [host]
                for provider_file in files:
                    providers.extend(_load_yaml(provider_file)["providers"])
        assert providers, f"{name}: no dashboard provider mounted"
        dashboard_dirs = [options_path for p in providers if (options_path := p["options"]["path"])]
        served = [host for host, target in mounts if target in dashboard_dirs]
        assert any((host / DASHBOARD.name).resolve() == DASHBOARD for host in served), (
            f"{name}: no provider path is a mounted directory containing {DASHBOARD.name}"
        )


@pytest.mark.parametrize("path", [pytest.param(path, id=_relative(path)) for path in GRAFANA_COMPOSE_FILES])
def test_compose_grafana_has_a_loki_datasource(path: Path) -> None:
    for name, service in _grafana_services(path).items():
        if service["image"].startswith("grafana/otel-lgtm:"):
            continue  # the image provisions its own Loki, Tempo and Prometheus datasources
        sources = [_host_path(path, s) for s, t in _mounts(service) if t == GRAFANA_PROVISIONING_DATASOURCES]
        assert len(sources) == 1, f"{name}: datasources are not provisioned"
        datasources = [d for f in sorted(sources[0].glob("*.y*ml")) for d in _load_yaml(f)["datasources"]]
        loki = [d for d in datasources if d["type"] == "loki"]
        assert len(loki) == 1 and urlsplit(loki[0]["url"]).hostname in _services(path), f"{name}: no reachable Loki"


# --- dashboard ------------------------------------------------------------------------

DASHBOARD_VARIABLES = {"datasource", "service", "mcp_server", "__auto", "__range", "__interval"}


def _dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def _panels() -> list[dict[str, Any]]:
    return [panel for panel in _dashboard()["panels"] if panel["type"] != "row"]


def _balanced(expr: str) -> bool:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for character in re.sub(r'"(?:\\.|[^"\\])*"', '""', expr):
        if character in "([{":
            stack.append(character)
        elif character in pairs:
            if not stack or stack.pop() != pairs[character]:
                return False
    return not stack


def test_dashboard_parses_and_uses_a_loki_datasource_variable() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] and dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "loki"
    for name, variable in variables.items():
        if variable["type"] == "query":
            assert variable["datasource"] == {"type": "loki", "uid": "${datasource}"}, f"variable {name} must query Loki"
    assert _panels()
    assert len({panel["id"] for panel in _panels()}) == len(_panels()), "panel ids must be unique"


@pytest.mark.parametrize("panel", [pytest.param(panel, id=panel["title"]) for panel in _panels()])
def test_dashboard_panel_queries_loki(panel: dict[str, Any]) -> None:
    assert panel["datasource"] == {"type": "loki", "uid": "${datasource}"}
    assert panel["targets"]
    for target in panel["targets"]:
        assert target["datasource"] == panel["datasource"], "targets use the panel's Loki datasource"
        expr = target["expr"]
        assert re.search(r'\{service_name=~"\$service"\}', expr), "stream selector on the service_name label"
        assert _balanced(expr), f"unbalanced brackets in {expr}"
        assert set(re.findall(r"\$(\w+)", expr)) <= DASHBOARD_VARIABLES, f"unknown variable in {expr}"
        assert "." not in "".join(re.findall(r"(?:by \(|\| )([\w., ]+)", expr)), "Loki names use _ where OTLP has ."


def test_dashboard_has_the_volume_and_error_panels() -> None:
    by_title = {panel["title"]: panel for panel in _panels()}
    expressions = {title: " ".join(t["expr"] for t in panel["targets"]) for title, panel in by_title.items()}
    timeseries = [expressions[t] for t, p in by_title.items() if p["type"] == "timeseries"]
    assert any("sum by (severity_text)" in expr for expr in timeseries), "volume by severity"
    assert any("sum by (mcp_server_name)" in expr for expr in timeseries), "volume by MCP server"
    logs = [p for p in by_title.values() if p["type"] == "logs"]
    assert len(logs) == 1, "one logs panel"
    assert "| severity_number >= 17" in logs[0]["targets"][0]["expr"], "error-and-worse records only"
    assert logs[0]["options"]["enableLogDetails"] is True, "attributes must be viewable"
    assert logs[0]["options"]["sortOrder"] == "Descending", "latest first"
