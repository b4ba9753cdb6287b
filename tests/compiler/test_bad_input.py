"""The malformed-spec corpus: each case gives one exact message with file:line:col and a caret,
exit code 1, no traceback, and leaves the output folder untouched."""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from monspec.cli import main
from monspec.output import read_tree
from support.processes import require_program

FIXTURE = Path(__file__).parent.parent / "fixtures" / "golden_specs"
PROJECT = (FIXTURE / "project.yaml").read_text(encoding="utf-8")


@dataclass
class Case:
    id: str
    file: str  # written into a copy of the fixture spec set (replacing a file of that name)
    content: str
    expected: str  # stderr, exactly, before the "N error(s)" line
    needs_promtool: bool = False


ROUTING = (FIXTURE / "routing.yaml").read_text(encoding="utf-8")
ALERT = "alerts:\n  a:\n    expr: shop_error_ratio > 0.5\n    for: 1m\n    severity: warning\n    summary: s\n    description: d\n"
KPI = "kpis:\n  k:\n    expr: shop_error_ratio\n    unit: ratio\n    description: d\n"

CASES = [
    Case("yaml-syntax", "bad.yaml", "alerts:\n  x: [unclosed\n", """\
specs/bad.yaml:2:6: error: invalid YAML: while parsing a flow sequence: did not find expected ',' or ']' [yaml/syntax]
    x: [unclosed
       ^"""),
    Case("yaml-bad-indent", "bad.yaml", "alerts:\n  x: 1\n y: 2\n", """\
specs/bad.yaml:3:2: error: invalid YAML: while parsing a block mapping: did not find expected key [yaml/syntax]
   y: 2
   ^"""),
    Case("unknown-field", "bad.yaml", """\
alerts:
  slow_checkout:
    expr: shop_error_ratio > 0.5
    severty: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:2:3: error: missing required field `severity` [spec/missing-field]
    slow_checkout:
    ^
specs/bad.yaml:4:5: error: unknown field `severty` [spec/unknown-field]
      severty: warning
      ^
  hint: did you mean `severity`?"""),
    Case("unknown-disabled-check", "bad.yaml", """\
alerts:
  slow_checkout:
    expr: shop_error_ratio > 0.5
    severity: warning
    summary: s
    description: d
    lint: {disable: [alert/missing-fr], reason: an event}
""", """\
specs/bad.yaml:7:22: error: `disable`: unknown check id `alert/missing-fr`, did you mean `alert/missing-for`? [spec/invalid]
      lint: {disable: [alert/missing-fr], reason: an event}
                       ^"""),
    Case("wrong-type", "bad.yaml", """\
kpis:
  orders:
    expr: shop_error_ratio
    unit: ratio
    description: [not, a, string]
""", """\
specs/bad.yaml:5:18: error: `description`: expected a string, found a list [spec/invalid]
      description: [not, a, string]
                   ^"""),
    Case("bad-duration", "bad.yaml", """\
alerts:
  slow:
    expr: shop_error_ratio > 0.5
    for: 5 minutes
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:4:10: error: `for`: invalid duration '5 minutes': use a number and a unit, largest unit first, e.g. "30s", "5m", "1h30m" (units: ms, s, m, h, d, w, y) [spec/invalid]
      for: 5 minutes
           ^"""),
    Case("invalid-promql", "bad.yaml", """\
alerts:
  broken:
    expr: sum(rate(shop_requests_total[5m]) > 1
    for: 1m
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:3:14: error: invalid PromQL in alert `broken`: unclosed left parenthesis [promql/syntax]
      expr: sum(rate(shop_requests_total[5m]) > 1
               ^""", needs_promtool=True),
    Case("invalid-promql-block", "bad.yaml", """\
alerts:
  broken:
    expr: |
      rate(shop_requests_total[5m)
      > 1
    for: 1m
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:4:34: error: invalid PromQL in alert `broken`: unexpected ")" in subquery or range, expected ":" or "]" [promql/syntax]
        rate(shop_requests_total[5m)
                                   ^""", needs_promtool=True),
    Case("unknown-metric", "bad.yaml", """\
alerts:
  typo:
    expr: shop_request_total > 1
    for: 1m
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:3:11: error: unknown metric `shop_request_total` in alert `typo` [promql/unknown-metric]
      expr: shop_request_total > 1
            ^
  hint: did you mean `shop_requests_total`?"""),
    Case("unknown-label-value", "bad.yaml", """\
alerts:
  errors:
    expr: rate(shop_requests_total{outcome="eror"}[5m]) > 1
    for: 1m
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:3:36: error: `outcome` of `shop_requests_total` is never "eror": allowed "error", "ok" [promql/label-value]
      expr: rate(shop_requests_total{outcome="eror"}[5m]) > 1
                                     ^
  hint: did you mean `error`?"""),
    Case("histogram-as-gauge", "bad.yaml", """\
alerts:
  slow:
    expr: shop_request_duration_seconds > 0.5
    for: 1m
    severity: warning
    summary: s
    description: d
""", """\
specs/bad.yaml:3:11: error: `shop_request_duration_seconds` is a histogram: its base name has no value to compare [promql/histogram-as-value]
      expr: shop_request_duration_seconds > 0.5
            ^
  hint: compare a quantile instead: histogram_quantile(0.95, sum by (job, instance, le) (rate(shop_request_duration_seconds_bucket[5m]))), or the recorded `shop_request_duration_seconds:p99`"""),
    Case("duplicate-name", "bad.yaml", """\
kpis:
  error_ratio:
    expr: shop_error_ratio
    unit: ratio
    description: again
""", """\
specs/kpis.yaml:2:3: error: kpi `error_ratio` is defined twice [spec/duplicate-name]
    error_ratio:
    ^
  also at specs/bad.yaml:2:3"""),
    Case("contradictory-thresholds", "bad.yaml", """\
kpis:
  queue_depth:
    expr: shop_queue_utilization
    unit: ratio
    description: fill
    warning: ">0.95"
    critical: ">0.90"
""", """\
specs/bad.yaml:6:14: error: `warning` (>0.95) is stricter than `critical` (>0.9): the warning must fire first [kpi/threshold-order]
      warning: ">0.95"
               ^
  hint: swap them, or move warning between target and 0.9"""),
    Case("empty-file", "bad.yaml", "", """\
specs/bad.yaml:1:1: error: empty spec file: expected a mapping such as `kpis:` or `alerts:` [spec/empty-file]
  
  ^"""),
    Case("list-not-mapping", "bad.yaml", """\
alerts:
  - expr: up == 0
    severity: critical
""", """\
specs/bad.yaml:2:3: error: `alerts`: expected a mapping, found a list [spec/invalid]
    - expr: up == 0
    ^"""),
    Case("empty-kpi-name", "bad.yaml", """\
kpis:
  "":
    expr: shop_error_ratio
    unit: ratio
    description: d
""", """\
specs/bad.yaml:2:3: error: an empty name: give it one, such as `p99_latency` [spec/invalid]
    "":
    ^"""),
    Case("guide-alert-key", "bad.yaml", """\
alerts:
  redis_master_down:
    alert: shop_queue_utilization == 0
    for: 30s
    severity: critical
    summary: s
    description: d
""", """\
specs/bad.yaml:3:5: error: the guide's `alert:` key holds the expression: rename it to `expr:` (the alert's name is its key in `alerts:`) [spec/invalid]
      alert: shop_queue_utilization == 0
      ^"""),
    Case("guide-threshold-words", "bad.yaml", """\
kpis:
  warmed:
    expr: shop_queue_utilization
    unit: keys
    description: keys warmed
    target: ">50 per cycle"
""", """\
specs/bad.yaml:6:13: error: `target`: cannot read threshold '>50 per cycle': write an operator and a number (">0.90", "<0.001", "==0") or a band ("70-90%"); put words such as "per cycle" in the KPI's `unit` or `description` [spec/invalid]
      target: ">50 per cycle"
              ^"""),
    Case("bare-number-threshold", "bad.yaml", """\
kpis:
  latency:
    expr: shop_queue_utilization
    unit: ratio
    description: d
    warning: 0.5
""", """\
specs/bad.yaml:6:14: error: `warning`: threshold '0.5' has no comparison: write ">0.5" when higher is worse or "<0.5" when lower is worse ("==0.5" only if exactly that value is meant) [spec/invalid]
      warning: 0.5
               ^"""),
    Case("bare-number-threshold-string", "bad.yaml", """\
kpis:
  latency:
    expr: shop_queue_utilization
    unit: ratio
    description: d
    critical: "90%"
""", """\
specs/bad.yaml:6:15: error: `critical`: threshold '90%' has no comparison: write ">90%" when higher is worse or "<90%" when lower is worse ("==90%" only if exactly that value is meant) [spec/invalid]
      critical: "90%"
                ^"""),
    Case("syntax-the-target-prometheus-cannot-load", "bad.yaml", """\
recording_rules:
  - record: shop_queue:top2
    unit: ratio
    help: The two fullest queues.
    expr: limitk(2, shop_queue_utilization)
""", """\
specs/bad.yaml:5:11: error: `limitk` needs Prometheus 2.54; the target is 2.42 (project.prometheus_version) [promql/unsupported-by-target]
      expr: limitk(2, shop_queue_utilization)
            ^
  hint: rewrite it for the target, or raise `prometheus_version` when every Prometheus (and promtool) that loads these rules is that new"""),
    Case("quoted-metric-name-the-target-prometheus-cannot-load", "bad.yaml", """\
recording_rules:
  - record: shop_queue:max
    unit: ratio
    help: The fullest queue.
    expr: max({"shop_queue_utilization", job="shop"})
""", """\
specs/bad.yaml:5:17: error: a quoted metric or label name needs Prometheus 3.0; the target is 2.42 (project.prometheus_version) [promql/unsupported-by-target]
      expr: max({"shop_queue_utilization", job="shop"})
                  ^
  hint: rewrite it for the target, or raise `prometheus_version` when every Prometheus (and promtool) that loads these rules is that new"""),
    Case("duplicate-yaml-key", "bad.yaml", """\
kpis:
  a:
    expr: shop_error_ratio
    expr: shop_queue_utilization
    unit: ratio
    description: d
""", """\
specs/bad.yaml:4:5: error: duplicate key 'expr' in this mapping [yaml/duplicate-key]
      expr: shop_queue_utilization
      ^
  also at specs/bad.yaml:3:5
  hint: YAML keeps only the last one; remove or rename one of them"""),
    # SLOs (specs/slos.yaml in the fixture's spec set)
    Case("slo-objective-range", "slos.yaml", """\
slos:
  checkout:
    description: Requests that succeed.
    objective: 100
    sli:
      ratio: {errors: 'shop_requests_total{outcome="error"}', total: shop_requests_total}
""", """\
specs/slos.yaml:4:16: error: `objective`: the objective is a percentage strictly between 0 and 100, got 100 [spec/invalid]
      objective: 100
                 ^"""),
    Case("slo-unknown-metric", "slos.yaml", """\
slos:
  checkout:
    description: Requests that succeed.
    objective: 99.9
    sli:
      ratio:
        errors: shop_requests_total{outcome="error"}
        total: shop_request_total
""", """\
specs/slos.yaml:8:16: error: unknown metric `shop_request_total` in the SLI of SLO `checkout` [promql/unknown-metric]
          total: shop_request_total
                 ^
  hint: did you mean `shop_requests_total`?"""),
    Case("slo-missing-bucket", "slos.yaml", """\
slos:
  fast_checkout:
    description: Requests answered within 250 ms.
    objective: 99
    sli:
      latency:
        histogram: shop_request_duration_seconds
        le: 0.25
""", """\
specs/slos.yaml:8:13: error: 0.25 is not a bucket bound of `shop_request_duration_seconds` [slo/bucket]
          le: 0.25
              ^
  hint: its buckets: 0.01, 0.05, 0.1, 0.5, 1"""),
    Case("slo-window-too-short", "slos.yaml", """\
slos:
  checkout:
    description: Requests that succeed.
    objective: 99.9
    sli:
      ratio:
        errors: shop_requests_total{outcome="error"}
        total: shop_requests_total
    alerting:
      page:
        windows:
          - {long: 1h, short: 30s, factor: 14.4}
""", """\
specs/slos.yaml:12:31: error: the short window 30s is shorter than 4 scrape intervals (10s) or one evaluation interval (20s) [slo/window]
            - {long: 1h, short: 30s, factor: 14.4}
                                ^
  hint: use at least 40s"""),
    Case("slo-unreachable-threshold", "slos.yaml", """\
slos:
  checkout:
    description: Requests that succeed.
    objective: 90
    sli:
      ratio:
        errors: shop_requests_total{outcome="error"}
        total: shop_requests_total
""", """\
specs/slos.yaml:4:16: error: a 14.4x burn of a 10% error budget needs an error ratio of 144%: this alert can never fire [slo/unreachable-threshold]
      objective: 90
                 ^
  hint: lower the factor below 10, or disable `page` alerting"""),
    Case("slo-not-a-selector", "slos.yaml", """\
slos:
  checkout:
    description: Requests that succeed.
    objective: 99.9
    sli:
      ratio:
        errors: shop_requests_total{outcome="error"}
        total: sum(rate(shop_requests_total[5m]))
""", """\
specs/slos.yaml:8:16: error: `total` must be one series selector such as `http_requests_total{code=~"5.."}`; the SLI adds rate() and sum() itself (use `raw` for any other query) [slo/selector]
          total: sum(rate(shop_requests_total[5m]))
                 ^"""),
    Case("slo-two-kinds", "slos.yaml", """\
slos:
  checkout:
    description: Requests that succeed.
    objective: 99.9
    sli:
      ratio:
        errors: shop_requests_total{outcome="error"}
        good: shop_requests_total{outcome="ok"}
        total: shop_requests_total
""", """\
specs/slos.yaml:7:9: error: give exactly one of `errors` or `good`, with `total` [spec/invalid]
          errors: shop_requests_total{outcome="error"}
          ^"""),
    Case("slo-raw-without-window", "slos.yaml", """\
slos:
  checkout:
    description: Requests that succeed.
    objective: 99.9
    sli:
      raw:
        error_ratio: sum(rate(shop_requests_total{outcome="error"}[5m])) / sum(rate(shop_requests_total[5m]))
""", """\
specs/slos.yaml:7:22: error: `error_ratio`: the query needs `{{.window}}` where each window's range goes, e.g. `rate(x[{{.window}}])` [spec/invalid]
          error_ratio: sum(rate(shop_requests_total{outcome="error"}[5m])) / sum(rate(shop_requests_total[5m]))
                       ^"""),
    Case("yaml-merge-key", "bad.yaml", "defaults: &d\n  severity: warning\nalerts:\n  a:\n    <<: *d\n    expr: shop_error_ratio > 0.5\n", """\
specs/bad.yaml:5:5: error: YAML merge keys (`<<`) are not supported: write the keys out [yaml/unsupported]
      <<: *d
      ^"""),
    Case("yaml-unknown-tag", "bad.yaml", "alerts:\n  a: !include other.yaml\n", """\
specs/bad.yaml:2:6: error: unsupported YAML tag '!include' [yaml/unsupported]
    a: !include other.yaml
       ^
  hint: remove the tag, or quote the value"""),
    Case("yaml-bad-int-tag", "bad.yaml", KPI + "    for: !!int x\n", """\
specs/bad.yaml:6:10: error: 'x' is not a whole number [yaml/invalid-value]
      for: !!int x
           ^"""),
    Case("yaml-bare-equals", "bad.yaml", KPI + "    target: =\n", """\
specs/bad.yaml:6:13: error: a bare `=` is not a value: quote it ('=') [yaml/unsupported]
      target: =
              ^"""),
    Case("yaml-complex-key", "bad.yaml", "alerts:\n  ? [a, b]\n  : 1\n", """\
specs/bad.yaml:2:5: error: a key must be a plain value, not a mapping or a list [yaml/unsupported]
    ? [a, b]
      ^"""),
    Case("yaml-recursive-alias", "bad.yaml", "alerts: &a\n  a: *a\n", """\
specs/bad.yaml:1:9: error: an alias refers to a mapping or list that contains it [yaml/recursive-alias]
  alerts: &a
          ^"""),
    Case("yaml-alias-bomb", "bad.yaml", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
         + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)) + "alerts: *a8\n", """\
specs/bad.yaml:1:34: error: this file holds more than 200,000 values (every use of an alias counted) [yaml/too-large]
  a0: &a0 [x, x, x, x, x, x, x, x, x, x]
                                   ^
  hint: split it into several files, or use fewer aliases"""),
    Case("yaml-too-deep", "bad.yaml", "alerts:" + "".join(f"\n{'  ' * i}k{i}:" for i in range(1, 70)) + " x\n", f"""\
specs/bad.yaml:66:131: error: nested more than 64 levels deep [yaml/too-large]
  {' ' * 130}k65:
  {' ' * 130}^"""),
    Case("yaml-too-large", "bad.yaml", "# " + "x" * (1024 * 1024) + "\n", """\
specs/bad.yaml:1:1: error: this file is 1,048,579 bytes, over the limit of 1,048,576 bytes per spec file [yaml/too-large]
  hint: split it into several files"""),
    Case("threshold-huge-number", "bad.yaml", KPI + "    critical: 1" + "0" * 400 + "\n", f"""\
specs/bad.yaml:6:15: error: `critical`: threshold 10000000000000000000… is too large: use a number between -1e300 and 1e300 [spec/invalid]
      critical: 1{"0" * 400}
                ^"""),
    Case("threshold-minus-inf", "bad.yaml", KPI + "    critical: -.inf\n", """\
specs/bad.yaml:6:15: error: `critical`: threshold -inf is not a finite number: use a number between -1e300 and 1e300 [spec/invalid]
      critical: -.inf
                ^"""),
    Case("threshold-overflow-text", "bad.yaml", KPI + "    warning: \">1e309\"\n", """\
specs/bad.yaml:6:14: error: `warning`: threshold '>1e309' is not a finite number: use a number between -1e300 and 1e300 [spec/invalid]
      warning: ">1e309"
               ^"""),
    Case("duration-absurd", "bad.yaml", KPI + "    for: 99999y\n", """\
specs/bad.yaml:6:10: error: `for`: duration '99999y' is longer than 10y, the longest monspec accepts [spec/invalid]
      for: 99999y
           ^"""),
    Case("interval-absurd", "project.yaml", PROJECT.replace("evaluation_interval: 20s", "evaluation_interval: 99999y"), """\
specs/project.yaml:8:24: error: `evaluation_interval`: duration '99999y' is longer than 10y, the longest monspec accepts [spec/invalid]
    evaluation_interval: 99999y
                         ^"""),
    Case("interval-zero", "project.yaml", PROJECT.replace("scrape_interval: 10s", "scrape_interval: 0s"), """\
specs/project.yaml:7:20: error: `scrape_interval`: an interval of 0s is outside 1s to 1d [spec/invalid]
    scrape_interval: 0s
                     ^"""),
    Case("templates-outside", "project.yaml", PROJECT + "  templates: ../../elsewhere\n", """\
specs/project.yaml:14:14: error: `templates` folder '../../elsewhere' leaves the repository [spec/invalid]
    templates: ../../elsewhere
               ^
  hint: keep the project's templates inside its repository, e.g. next to the specs"""),
    Case("grafana-settings", "project.yaml", PROJECT + """\
  grafana:
    version: "12.0"
    folder_uid: cache team
    allow_ui_update: true
""", """\
specs/project.yaml:15:14: error: `version`: Input should be '11.6' or '10.4', found '12.0' [spec/invalid]
      version: "12.0"
               ^
specs/project.yaml:16:17: error: `folder_uid`: a Grafana uid is 1-40 letters, digits, `-` or `_`, got 'cache team' [spec/invalid]
      folder_uid: cache team
                  ^
specs/project.yaml:17:5: error: unknown field `allow_ui_update` [spec/unknown-field]
      allow_ui_update: true
      ^
  hint: did you mean `allow_ui_updates`?"""),
    Case("label-name", "project.yaml", PROJECT.replace("    team: checkout", "    'a: b': checkout"), """\
specs/project.yaml:13:5: error: 'a: b' is not a valid label name: use letters, digits and _, not starting with a digit [spec/invalid]
      'a: b': checkout
      ^"""),
    Case("annotation-name", "bad.yaml", ALERT + "    annotations:\n      ✓ ok: x\n", """\
specs/bad.yaml:9:7: error: '✓ ok' is not a valid label name: use letters, digits and _, not starting with a digit [spec/invalid]
        ✓ ok: x
        ^"""),
    Case("scrape-target", "project.yaml", PROJECT.replace("scrape_target: 127.0.0.1:9100", "scrape_target: ''"), """\
specs/project.yaml:6:18: error: `scrape_target`: expected host:port, such as 127.0.0.1:9100 [spec/invalid]
    scrape_target: ''
                   ^"""),
    Case("job-newline", "project.yaml", PROJECT.replace("job: shop-api", 'job: "shop\\napi"'), """\
specs/project.yaml:5:8: error: `job`: expected one line of text (1 to 200 characters, no control characters) [spec/invalid]
    job: "shop\\napi"
         ^"""),
    Case("kpi-not-a-vector", "bad.yaml", (KPI + "    critical: '>1'\n").replace("expr: shop_error_ratio", "expr: 1e3"), """\
specs/bad.yaml:3:11: error: the expression of kpi `k` gives a scalar, not a series per instance [promql/not-a-vector]
      expr: 1e3
            ^
  hint: Prometheus rules and the alerts on a KPI need an instant vector, e.g. a selector or an aggregation"""),
    Case("top-level-bracket-key", "bad.yaml", '"a[0]": 1\n', """\
specs/bad.yaml:1:1: error: unknown field `a[0]` [spec/unknown-field]
  "a[0]": 1
  ^
  hint: allowed: project, metrics, recording_rules, kpis, alerts, routing, rule_groups, dashboards, slos"""),
    Case("empty-alert-expr", "bad.yaml", ALERT.replace("expr: shop_error_ratio > 0.5", "expr: ' '"), """\
specs/bad.yaml:3:11: error: `expr`: an empty expression: write the PromQL condition the alert fires on [spec/invalid]
      expr: ' '
            ^"""),
    Case("absurd-limit", "bad.yaml", "rule_groups:\n  g:\n    limit: 99999999999999999999\n    rules:\n      - alert: X\n        expr: up == 0\n", """\
specs/bad.yaml:3:12: error: `limit`: Input should be less than or equal to 1000000000 [spec/invalid]
      limit: 99999999999999999999
             ^"""),
    Case("unclosed-template", "bad.yaml", ALERT.replace("summary: s", "summary: 'Queue at {{ $value'").replace("expr: shop_error_ratio > 0.5", "expr: shop_queue_utilization > 0.99").replace("severity: warning", "severity: critical"), """\
specs/bad.yaml:6:14: error: `summary` is not a valid Go template: an action `{{` is never closed [alert/template]
      summary: 'Queue at {{ $value'
               ^
  hint: close the action with }}, or write a literal {{ as {{ "{{" }}"""),
    Case("group-by-label", "routing.yaml", ROUTING.replace("group_by: [alertname, job]", "group_by: [alertname, \"a'b\"]"), """\
specs/routing.yaml:5:25: error: `group_by`: "a'b" is not a valid label name: use letters, digits and _, not starting with a digit [spec/invalid]
    group_by: [alertname, "a'b"]
                          ^"""),
    Case("pagerduty-url", "routing.yaml", ROUTING.replace("url: https://events.eu.pagerduty.com/v2/enqueue", "url: 1y"), """\
specs/routing.yaml:11:16: error: `url`: expected an http(s) URL with a host [spec/invalid]
            url: 1y
                 ^"""),
    Case("zero-repeat-interval", "routing.yaml", ROUTING.replace("repeat_interval: 3h", "repeat_interval: 0s"), """\
specs/routing.yaml:6:20: error: `repeat_interval`: must be longer than 0s: Alertmanager refuses a zero interval [spec/invalid]
    repeat_interval: 0s
                     ^"""),
    Case("empty-secret-file", "routing.yaml", ROUTING.replace("routing_key_file: secrets/pagerduty-routing-key", "routing_key_file: ''"), """\
specs/routing.yaml:10:29: error: `routing_key_file`: String should have at least 1 character [spec/invalid]
          - routing_key_file: ''
                              ^"""),
    Case("label-template", "bad.yaml", ALERT.replace("expr: shop_error_ratio > 0.5", "expr: shop_queue_utilization > 0.99").replace("severity: warning", "severity: critical") + "    labels:\n      page: '{{'\n", """\
specs/bad.yaml:9:13: error: `page` is not a valid Go template: an action `{{` is never closed [alert/template]
        page: '{{'
              ^
  hint: close the action with }}, or write a literal {{ as {{ "{{" }}"""),
]


def _run(args, cwd):
    return subprocess.run([sys.executable, "-m", "monspec.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def _generate_in_process(cwd: Path, monkeypatch: pytest.MonkeyPatch):
    """`monspec generate` through click in this process (positions print relative to cwd)."""
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, ["generate"])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_spec_is_reported_exactly(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if case.needs_promtool:
        require_program("promtool")  # it locates PromQL syntax errors
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    (specs / case.file).write_text(case.content)
    result = _generate_in_process(tmp_path, monkeypatch)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), "no traceback"
    body = result.stderr.rsplit("\n", 2)[0] if result.stderr.count("error(s)") else result.stderr
    assert body.rstrip("\n") == case.expected
    assert result.stderr.rstrip("\n").splitlines()[-1].endswith("error(s), 0 warning(s)")
    assert not (tmp_path / "generated").exists(), "nothing may be written when the specs are bad"


def test_bad_specs_leave_an_existing_output_folder_untouched(tmp_path: Path) -> None:
    """Once through the real command: exit 1, no traceback, generated/ byte-identical."""
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    assert _run(["generate"], tmp_path).returncode == 0
    before = read_tree(tmp_path / "generated")
    case = next(c for c in CASES if c.id == "unknown-field")
    (specs / case.file).write_text(case.content)
    result = _run(["generate"], tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(case.expected)
    assert read_tree(tmp_path / "generated") == before


def test_a_symlink_out_of_the_spec_folder_is_refused_unread(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    secret = tmp_path / "secret.env"
    secret.write_text("API_TOKEN=hunter2\n")
    (specs / "linked.yaml").symlink_to(secret)
    result = _run(["generate"], tmp_path)
    assert result.returncode == 1
    assert "hunter2" not in result.stderr
    assert result.stderr.splitlines() == [
        "specs/linked.yaml:1:1: error: this file is a symlink that leads out of specs [spec/symlink]",
        "  hint: copy the file into the spec folder instead",
        "1 error(s), 0 warning(s)",
    ]


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(FIXTURE, specs)
    (specs / "bad.yaml").write_text("")
    result = _run(["--debug", "generate"], tmp_path)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "SpecError" in result.stderr


def test_usage_error_exits_2(tmp_path: Path) -> None:
    result = _run(["generate", "--no-such-option"], tmp_path)
    assert result.returncode == 2
    assert "Error: No such option '--no-such-option'." in result.stderr


def test_missing_specs_folder(tmp_path: Path) -> None:
    result = _run(["generate", "--specs", "nowhere"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "error: specs folder nowhere does not exist [monspec/error]"
