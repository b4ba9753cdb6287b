#!/usr/bin/env bash
# The whole suite as two pytest runs side by side: the live tests (marker `live`: real
# Prometheus, Alertmanager and Redis on compressed time; a quarter of a core, mostly waiting)
# and the rest. One after the other they took 12.5 minutes on two cores; side by side, about
# as long as the live part. The rest prints as it goes, the live run's output follows it, then
# both runs' summaries: the end of the output always says what failed.
# Usage: scripts/test.sh PYTHON [pytest options and paths...]
set -uo pipefail

python=$1
shift
logs=$(mktemp -d)
live_pid=""
# Stopped early (Ctrl-C, a CI timeout): the live run gets an interrupt, as pytest in a terminal
# would, so that its fixtures stop the programs it started; then it is waited for.
stop_live() {
  if [ -n "$live_pid" ]; then
    kill -INT -- "-$live_pid" 2>/dev/null
    wait "$live_pid" 2>/dev/null
  fi
}
trap 'stop_live; rm -rf "$logs"' EXIT
trap 'exit 130' INT TERM

# The live run in a process group of its own, which the terminal's Ctrl-C does not reach.
set -m
"$python" -m pytest -m live "$@" >"$logs/live.txt" 2>&1 &
live_pid=$!
set +m

"$python" -m pytest -m "not live" "$@" 2>&1 | tee "$logs/rest.txt"
rest=$?
wait "$live_pid"
live=$?
live_pid=""

echo
echo "=================================== the live tests ==================================="
cat "$logs/live.txt"
echo
echo "=================================== both runs ========================================"
for part in rest live; do
  echo "$part: $(tail -n 1 "$logs/$part.txt")"
  grep -E '^(FAILED|ERROR) ' "$logs/$part.txt"
done
# pytest's 5 is "no tests collected": paths given that hold only one kind of test.
ok() { [ "$1" -eq 0 ] || [ "$1" -eq 5 ]; }
ok "$rest" && ok "$live" && ! { [ "$rest" -eq 5 ] && [ "$live" -eq 5 ]; }
