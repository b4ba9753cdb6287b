#!/usr/bin/env bash
# Installs the real programs the tests start: promtool, prometheus, amtool,
# alertmanager, redis-server, redis-sentinel, PostgreSQL 15 and VictoriaMetrics (vmalert
# and the single-node server), from Debian's packages, when any is missing.
set -euo pipefail

need=()
command -v promtool >/dev/null && command -v prometheus >/dev/null || need+=(prometheus)
command -v amtool >/dev/null && command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-sentinel >/dev/null || need+=(redis-sentinel)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql)
command -v vmalert >/dev/null && command -v victoria-metrics >/dev/null || need+=(victoria-metrics)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "monspec needs these Debian packages (or the same programs on PATH): ${need[*]}" >&2
  echo "  promtool, prometheus  <- prometheus" >&2
  echo "  amtool, alertmanager  <- prometheus-alertmanager" >&2
  echo "  redis-server          <- redis-server" >&2
  echo "  redis-sentinel        <- redis-sentinel" >&2
  echo "  postgres, initdb (15) <- postgresql" >&2
  echo "  vmalert, victoria-metrics <- victoria-metrics" >&2
  exit 1
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${need[*]} with apt-get" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian's packages start the services; the tests start their own on free ports.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter redis-server redis-sentinel postgresql victoria-metrics; do
  $sudo service "$svc" stop >/dev/null 2>&1 || true
done
