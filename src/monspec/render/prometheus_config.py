"""generated/prometheus/prometheus.yml: a runnable Prometheus config for the service, one scrape job per component."""
from __future__ import annotations

from monspec.model import Model
from monspec.render import yamltext

PATH = "prometheus/prometheus.yml"


def render(model: Model) -> dict[str, str]:
    p = model.specs.project
    config = {
        "global": {"scrape_interval": p.scrape_interval, "evaluation_interval": p.evaluation_interval},
        "rule_files": ["rules.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [p.alertmanager]}]}]},
        "scrape_configs": [{"job_name": c.job, "metrics_path": "/metrics", "static_configs": [{"targets": [c.scrape_target]}]}
                           for c in p.scrape_jobs.values()],
    }
    return {PATH: yamltext.emit(config)}
