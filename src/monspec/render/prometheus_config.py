"""generated/prometheus/prometheus.yml: a runnable Prometheus config for the service, one scrape job per component."""
from __future__ import annotations

from monspec.model import Model
from monspec.render import yamltext
from monspec.render.templates import YAML_HEADER

PATH = "prometheus/prometheus.yml"


def render(model: Model) -> dict[str, str]:
    specs = model.specs
    p = specs.project
    s = yamltext.scalar
    text = (
        f"{YAML_HEADER}"
        "global:\n"
        f"  scrape_interval: {s(p.scrape_interval, 2)}\n"
        f"  evaluation_interval: {s(p.evaluation_interval, 2)}\n"
        "rule_files:\n"
        "  - rules.yml\n"
        "alerting:\n"
        "  alertmanagers:\n"
        "    - static_configs:\n"
        f"        - targets: [{s(p.alertmanager, 10)}]\n"
        "scrape_configs:\n"
    ) + "".join(
        f"  - job_name: {s(c.job, 4)}\n"
        "    metrics_path: /metrics\n"
        "    static_configs:\n"
        f"      - targets: [{s(c.scrape_target, 8)}]\n"
        for c in p.scrape_jobs.values()
    )
    return {PATH: text}
