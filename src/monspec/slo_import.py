"""`monspec import` of SLO specs: Sloth (`version: prometheus/v1`, multi-document files, the
Kubernetes `PrometheusServiceLevel`) and OpenSLO (`kind: SLO`, v1 and v1alpha, ratio metrics on
Prometheus) become `slos:` entries with the same objective, burn factors and windows.

Sloth's event queries keep Sloth's own error ratio, `(errors) / (total)` over `{{.window}}`;
an OpenSLO ratio of counter selectors becomes a `ratio` SLI. Sloth alerts have no `for`
unless its alert_for plugin sets one, so the imported windows say `for: 0s` unless given.
Whatever has no meaning here (SLI plugins, calendar windows, time-slice budgets, alert
policies) is an error naming the field.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from monspec.errors import Position, Problem, SpecError
from monspec.render import yamltext
from monspec.spec.slos import PAGE_WINDOWS, SLO_WINDOWS, TICKET_WINDOWS, WINDOW_TEMPLATE

SLOTH_SLO_FIELDS = ("name", "objective", "description", "labels", "sli", "alerting")
ALERT_FOR_PLUGIN = "sloth.dev/contrib/alert_for/v1"
OPENSLO_UNITS = {"Day": "d", "day": "d", "Week": "w", "week": "w"}


def is_slo_document(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    return (data.get("version") == "prometheus/v1" or data.get("kind") == "PrometheusServiceLevel"
            or (str(data.get("apiVersion", "")).startswith("openslo/") and data.get("kind") in ("SLO", "SLI", "Service")))


class _Reader:
    """Collects `slos:` entries (as plain data) and located problems from the documents of one file."""

    def __init__(self) -> None:
        self.slos: dict[str, dict] = {}
        self.queries: list[str] = []  # for the catalog: metrics the imported SLIs read
        self.problems: list[Problem] = []

    def fail(self, doc, path: tuple, message: str, hint: str | None = None) -> None:
        self.problems.append(doc.problem("import/slo", message, path, hint=hint))

    def add(self, doc, path: tuple, key: str, slo: dict) -> None:
        if key in self.slos:
            self.fail(doc, path, f"SLO `{key}` is defined twice")
            return
        self.slos[key] = slo

    # --- Sloth ---------------------------------------------------------------------------------

    def sloth(self, doc, data: dict) -> None:
        kubernetes = data.get("kind") == "PrometheusServiceLevel"
        base: tuple = ("spec",) if kubernetes else ()
        spec = data.get("spec") if kubernetes else data
        if not isinstance(spec, dict):
            self.fail(doc, base, "expected a mapping with `service` and `slos`")
            return
        allowed = ("service", "labels", "slos") if kubernetes else ("version", "service", "labels", "slos", "slo_plugins")
        for field in spec:
            if field not in allowed:
                self.fail(doc, (*base, field), f"Sloth field `{field}` has no monspec equivalent",
                          hint=f"monspec reads {', '.join(allowed)}")
        for i, plugin in enumerate((spec.get("slo_plugins") or {}).get("chain") or []):
            if not isinstance(plugin, dict) or plugin.get("id") != ALERT_FOR_PLUGIN:
                self.fail(doc, (*base, "slo_plugins", "chain", i), "only Sloth's alert_for plugin has a monspec "
                          "equivalent (`for` on the alert windows)")
        service = str(spec.get("service") or "")
        labels = dict(spec.get("labels") or {})
        slos = spec.get("slos")
        if not isinstance(slos, list) or not slos:
            self.fail(doc, (*base, "slos"), "expected a non-empty list of SLOs")
            return
        for i, slo in enumerate(slos):
            self.sloth_slo(doc, (*base, "slos", i), slo, service, labels, camel=kubernetes)

    def sloth_slo(self, doc, path: tuple, slo: Any, service: str, labels: dict, camel: bool) -> None:
        if not isinstance(slo, dict):
            self.fail(doc, path, "an SLO must be a mapping")
            return
        for field in slo:
            if field not in SLOTH_SLO_FIELDS:
                self.fail(doc, (*path, field), f"Sloth SLO field `{field}` has no monspec equivalent")
        name = str(slo.get("name") or "")
        objective = self.objective(doc, (*path, "objective"), slo.get("objective"), percent=True)
        sli = slo.get("sli") or {}
        events, raw = sli.get("events"), sli.get("raw")
        error_key, total_key, ratio_key = (("errorQuery", "totalQuery", "errorRatioQuery") if camel
                                           else ("error_query", "total_query", "error_ratio_query"))
        ratio = None
        if isinstance(events, dict):
            errors, total = str(events.get(error_key, "")).strip(), str(events.get(total_key, "")).strip()
            query = f"({errors})\n/\n({total})"
            ratio = _summed_rates(errors, total)
        elif isinstance(raw, dict):
            query = str(raw.get(ratio_key, "")).strip()
        else:
            other = next((k for k in sli if k not in ("events", "raw")), "sli")
            self.fail(doc, (*path, "sli", other) if other != "sli" else (*path, "sli"),
                      f"Sloth SLI `{other}` has no monspec equivalent: use `events` or `raw` queries")
            return
        if not WINDOW_TEMPLATE.search(query):
            self.fail(doc, (*path, "sli"), "the SLI queries need `{{.window}}` in their ranges")
            return
        if objective is None:
            return
        self.queries.append(query)
        out: dict[str, Any] = {"title": name, "description": str(slo.get("description") or name), "objective": objective,
                               "window": "30d"}
        merged = {**labels, **dict(slo.get("labels") or {})}
        if merged:
            out["labels"] = merged
        if ratio is not None:  # sum(rate(x[{{.window}}])) over plain selectors: a ratio SLI, and testable
            by, errors, total = ratio
            out["by"] = by
            out["sli"] = {"ratio": {"errors": errors, "total": total}}
        else:
            out["sli"] = {"raw": {"error_ratio": query}}
        out["alerting"] = self.sloth_alerting(doc, (*path, "alerting"), slo.get("alerting") or {}, camel)
        self.add(doc, (*path, "name"), _key(f"{service}_{name}" if service else name), out)

    def sloth_alerting(self, doc, path: tuple, alerting: dict, camel: bool) -> dict:
        out: dict[str, Any] = {}
        if alerting.get("name"):
            out["name"] = str(alerting["name"])
        for field in ("labels", "annotations"):
            if alerting.get(field):
                out[field] = dict(alerting[field])
        for ours, pairs, theirs in (("page", PAGE_WINDOWS, "pageAlert" if camel else "page_alert"),
                                    ("ticket", TICKET_WINDOWS, "ticketAlert" if camel else "ticket_alert")):
            given = alerting.get(theirs) or {}
            for field in given:
                if field not in ("disable", "labels", "annotations", "for"):
                    self.fail(doc, (*path, theirs, field), f"Sloth alert field `{field}` has no monspec equivalent")
            severity: dict[str, Any] = {}
            if str(given.get("disable", "false")).lower() == "true":
                severity["disable"] = True
            for field in ("labels", "annotations"):
                if given.get(field):
                    severity[field] = dict(given[field])
            for_ = str(given.get("for") or "0s")
            severity["windows"] = [{"long": long, "short": short, "factor": factor, "for": for_}
                                   for long, short, factor, _ in pairs]
            out[ours] = severity
        return out

    # --- OpenSLO -------------------------------------------------------------------------------

    def openslo(self, doc, data: dict, indicators: dict[str, dict]) -> None:
        if data.get("kind") != "SLO":
            return  # SLI documents are read through `indicatorRef`; a Service says nothing we use
        spec = data.get("spec") or {}
        meta = data.get("metadata") or {}
        v1 = data.get("apiVersion") == "openslo/v1"
        for field in ("alertPolicies", "thresholdMetric"):
            if field in spec:
                self.fail(doc, ("spec", field), f"OpenSLO `{field}` has no monspec equivalent",
                          hint="monspec generates the workbook's burn-rate alerts; `alerting:` in the SLO overrides them")
        if str(spec.get("budgetingMethod", "Occurrences")) != "Occurrences":
            self.fail(doc, ("spec", "budgetingMethod"), f"budgeting method `{spec.get('budgetingMethod')}`: monspec "
                      "counts occurrences (events), not time slices")
        objectives = spec.get("objectives") or []
        if len(objectives) != 1:
            self.fail(doc, ("spec", "objectives"), f"{len(objectives)} objectives: monspec imports exactly one per SLO")
            return
        target = objectives[0].get("target")
        objective = (self.objective(doc, ("spec", "objectives", 0, "target"), target, percent=False) if target is not None
                     else self.objective(doc, ("spec", "objectives", 0, "targetPercent"),
                                         objectives[0].get("targetPercent"), percent=True))
        window = self.openslo_window(doc, spec, v1)
        ratio, path = self.openslo_ratio(doc, spec, indicators, v1)
        if ratio is None or objective is None or window is None:
            return
        sli = self.openslo_sli(doc, path, ratio, v1)
        if sli is None:
            return
        name = str(meta.get("name") or "slo")
        out: dict[str, Any] = {"title": str(meta.get("displayName") or name),
                               "description": str(spec.get("description") or meta.get("displayName") or name),
                               "objective": objective, "window": window, "sli": sli}
        self.add(doc, ("metadata", "name"), _key(name), out)

    def openslo_window(self, doc, spec: dict, v1: bool) -> str | None:
        windows = spec.get("timeWindow" if v1 else "timeWindows") or [{"duration": "30d", "isRolling": "true"}]
        field = "timeWindow" if v1 else "timeWindows"
        if len(windows) != 1:
            self.fail(doc, ("spec", field), "monspec imports one time window")
            return None
        window = windows[0]
        if v1:
            text, rolling = str(window.get("duration", "")), str(window.get("isRolling", "false")).lower() == "true"
        else:
            unit = OPENSLO_UNITS.get(str(window.get("unit", "")), "")
            text, rolling = f"{window.get('count', '')}{unit}", str(window.get("isRolling", "true")).lower() == "true"
            if unit == "w" and str(window.get("count", "")).isdigit():
                text = f"{int(window['count']) * 7}d"
        if not rolling or "calendar" in window:
            self.fail(doc, ("spec", field, 0), "a calendar window: monspec SLOs use rolling windows")
            return None
        if text not in SLO_WINDOWS:
            self.fail(doc, ("spec", field, 0), f"window {text or '?'}: monspec SLO windows are {', '.join(SLO_WINDOWS)}")
            return None
        return text

    def openslo_ratio(self, doc, spec: dict, indicators: dict[str, dict], v1: bool) -> tuple[dict | None, tuple]:
        if not v1:
            ratio = (spec.get("objectives") or [{}])[0].get("ratioMetrics")
            return (ratio if isinstance(ratio, dict) else None), ("spec", "objectives", 0, "ratioMetrics")
        if "indicatorRef" in spec:
            ref = str(spec["indicatorRef"])
            if ref not in indicators:
                self.fail(doc, ("spec", "indicatorRef"), f"no `kind: SLI` named `{ref}` in this file")
                return None, ()
            ratio = ((indicators[ref].get("spec") or {}).get("ratioMetric"))
            path: tuple = ("spec", "indicatorRef")
        else:
            ratio = (((spec.get("indicator") or {}).get("spec") or {}).get("ratioMetric"))
            path = ("spec", "indicator", "spec", "ratioMetric")
        if not isinstance(ratio, dict):
            self.fail(doc, path[:3] if "indicator" in path else path, "only `ratioMetric` SLIs have a monspec equivalent")
            return None, ()
        return ratio, path

    def openslo_sli(self, doc, path: tuple, ratio: dict, v1: bool) -> dict | None:
        queries: dict[str, str] = {}
        for part in ("good", "bad", "total"):
            if part not in ratio:
                continue
            source = ratio[part]
            if v1:
                metric = (source or {}).get("metricSource") or {}
                kind, query = str(metric.get("type", "")), str((metric.get("spec") or {}).get("query", ""))
                where = (*path, part, "metricSource", "type")
            else:
                kind, query = str((source or {}).get("source", "")), str((source or {}).get("query", ""))
                where = (*path, part, "source")
            if kind.lower() != "prometheus":
                self.fail(doc, where, f"metric source `{kind}`: monspec reads Prometheus queries")
                return None
            queries[part] = query.strip()
        if "total" not in queries or ("good" in queries) == ("bad" in queries):
            self.fail(doc, path, "a ratio needs `total` and one of `good` or `bad`")
            return None
        events = queries.get("bad") or queries["good"]
        templated = WINDOW_TEMPLATE.search(events) and WINDOW_TEMPLATE.search(queries["total"])
        if templated:
            if "bad" in queries:
                query = f"({queries['bad']})\n/\n({queries['total']})"
            else:
                query = f"1 - (\n  ({queries['good']})\n  /\n  ({queries['total']})\n)"
            self.queries.append(query)
            return {"raw": {"error_ratio": query}}
        if _is_selector(events) and _is_selector(queries["total"]):
            self.queries += [f"rate({q}[{{{{.window}}}}])" for q in (events, queries["total"])]
            return {"ratio": {"errors" if "bad" in queries else "good": events, "total": queries["total"]}}
        self.fail(doc, path, "the queries are neither counter selectors nor Sloth-style `{{.window}}` templates")
        return None

    def objective(self, doc, path: tuple, value: Any, percent: bool) -> Decimal | None:
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            self.fail(doc, path, f"objective {value!r} is not a number")
            return None
        number = number if percent else number * 100
        if not 0 < number < 100:
            self.fail(doc, path, f"objective {number}% is not strictly between 0 and 100")
            return None
        return number.normalize()


def read_slo_documents(path: Path, documents: list[tuple[Any, dict]]) -> tuple[dict[str, dict], list[str], list[Problem]]:
    """(slos, queries, problems) of the SLO documents of one file, as (doc, data) pairs."""
    reader = _Reader()
    indicators = {str((d.get("metadata") or {}).get("name")): d for _, d in documents
                  if d.get("kind") == "SLI" and str(d.get("apiVersion", "")).startswith("openslo/")}
    for doc, data in documents:
        if str(data.get("apiVersion", "")).startswith("openslo/"):
            reader.openslo(doc, data, indicators)
        else:
            reader.sloth(doc, data)
    if not reader.slos and not reader.problems:
        reader.problems.append(Problem("import/empty", "no SLOs in the file", Position(path, 1, 1)))
    if reader.problems:
        raise SpecError(reader.problems)
    return reader.slos, reader.queries, reader.problems


def slos_text(slos: dict[str, dict]) -> list[str]:
    """The `slos:` section as spec YAML lines."""
    out = ["slos:"]
    for key, slo in slos.items():
        out.append(f"  {yamltext.key(key)}:")
        out += _lines(slo, 4)
    return out


def _lines(data: dict, indent: int) -> list[str]:
    pad = " " * indent
    out = []
    for k, v in data.items():
        if isinstance(v, dict):
            out.append(f"{pad}{yamltext.key(str(k))}:")
            out += _lines(v, indent + 2)
        elif isinstance(v, list) and all(isinstance(item, str) for item in v):
            out.append(f"{pad}{yamltext.key(str(k))}: [{', '.join(yamltext.scalar(item, indent) for item in v)}]")
        elif isinstance(v, list):
            out.append(f"{pad}{yamltext.key(str(k))}:")
            for item in v:
                inner = ", ".join(f"{yamltext.key(str(a))}: {_scalar(b, indent + 4)}" for a, b in item.items())
                out.append(f"{pad}  - {{{inner}}}")
        else:
            out.append(f"{pad}{yamltext.key(str(k))}: {_scalar(v, indent)}")
    return out


def _scalar(value: Any, indent: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    return yamltext.scalar(str(value), indent)


SUMMED_RATE = re.compile(r"^\s*sum\s*(?:by\s*\(([^)]*)\)\s*)?\(\s*rate\s*\((.+)\[\{\{\s*\.window\s*\}\}\]\s*\)\s*\)\s*$", re.S)


def _summed_rates(errors: str, total: str) -> tuple[list[str], str, str] | None:
    """(by, error selector, total selector) when both queries are `sum [by (…)] (rate(<selector>[{{.window}}]))`."""
    found = [SUMMED_RATE.match(q) for q in (errors, total)]
    if not all(found):
        return None
    groupings = [[g.strip() for g in (m.group(1) or "").split(",") if g.strip()] for m in found if m]
    selectors = [m.group(2).strip() for m in found if m]
    if groupings[0] != groupings[1] or not all(_is_selector(sel) for sel in selectors):
        return None
    return groupings[0], selectors[0], selectors[1]


def _key(name: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return key if key and key[0].isalpha() else f"slo_{key}"


def _is_selector(query: str) -> bool:
    from monspec.lint.sites import is_selector

    return is_selector(query)
