"""generated/grafana/dashboards/<project>-slos.json: the SLO dashboard (monspec.model.slo_board).

Rendered by the same dashboard renderer as every other dashboard; its queries read the SLO
recordings, which are aggregated by job, so they are filtered on `$job` only (and not at all when
an SLO aggregates `job` away).
"""
from __future__ import annotations

from monspec.model import Model
from monspec.render import jsontext
from monspec.render.dashboards import dashboard_json


def render(model: Model) -> dict[str, str]:
    return {f"grafana/dashboards/{data['uid']}.json": jsontext.dumps(data) + "\n"
            for data in slo_dashboards(model)}


def slo_dashboards(model: Model) -> list[dict]:
    """The SLO dashboard as Grafana stores it (none without SLOs); `monspec push` sends it too."""
    key = model.slo_board_key
    if key is None:
        return []
    by_job = all("job" in o.slo.by for o in model.objectives)

    def carries(name: str, label: str) -> bool:
        """SLO series (and the SLO alerts in ALERTS) carry the SLO's `by` labels: never an instance."""
        if name.startswith("slo:") or name == "ALERTS":
            return label == "job" and by_job
        return model.catalog.carries(name, label)

    return [dashboard_json(model, key, model.dashboards[key], carries=carries)]
