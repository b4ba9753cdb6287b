"""The small spec set the lint tests write: a project and a catalog (importable from any test folder)."""

PROJECT = """\
project:
  name: shop
  title: Shop
  job: shop
  scrape_interval: 15s
  runbook_base_url: https://runbooks.example.com/shop.md
"""

CATALOG = """\
metrics:
  requests_total:
    type: counter
    unit: operations
    help: Requests by outcome.
    labels:
      outcome: [ok, error]
  latency_seconds:
    type: histogram
    unit: seconds
    help: Request latency.
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5]
  queue_utilization:
    type: gauge
    unit: ratio
    help: Share of the queue in use.
    aggregation: max
recording_rules:
  - record: latency_seconds:p95
    unit: seconds
    help: p95 latency.
    expr: histogram_quantile(0.95, sum by (job, instance, le) (rate(latency_seconds_bucket[5m])))
"""
