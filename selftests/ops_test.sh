#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The operator's files against the exporter, on the host (no VM): the
# Prometheus rules (promtool check rules, and promtool test rules with
# selftests/rules_test.yml) and the Grafana dashboard (it parses, has its
# three rows, every panel has a query).  Every ionclock metric either names
# is one that ionclockctl prometheus emits (or a recording rule of the rules
# file), and every metric the exporter emits is on the dashboard.  Each
# check is also shown failing on a broken copy.  metrics_test.sh runs the
# dashboard's queries against a live device's metrics.
# TAP, then "ops: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
rules=$top/packaging/prometheus/ionclock.rules.yml
dash=$top/packaging/grafana/ionclock-dashboard.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$top/selftests/tap.sh"

fails() { ! "$@"; }

# The rules test refers to the rules file by a relative path: a broken
# copy goes into a tree of the same shape.
rules_test_with() {
	mkdir -p "$tmp/t/selftests" "$tmp/t/packaging/prometheus"
	cp "$top/selftests/rules_test.yml" "$tmp/t/selftests/"
	cp "$1" "$tmp/t/packaging/prometheus/ionclock.rules.yml"
	(cd "$tmp/t/selftests" && promtool test rules rules_test.yml)
}

# The metric checks: selftests/dashboard_check.py.
check() { python3 "$top/selftests/dashboard_check.py" "$@"; }

result "promtool check rules accepts the rules file" promtool check rules "$rules"
result "promtool test rules: every alert fires and stays silent as its tests say" \
	rules_test_with "$rules"
sed 's/ > 0.050$/ > 0.070/' "$rules" >"$tmp/moved.yml"
result "... and fails on a rules file whose warning threshold moved" \
	fails rules_test_with "$tmp/moved.yml"
sed 's/^\(\s*\)- alert: IonclockNotTracking/\1- alert: IonclockNotTrackingAtAll/' \
	"$rules" >"$tmp/renamed.yml"
result "... and on one with an alert renamed" fails rules_test_with "$tmp/renamed.yml"
printf 'groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: rate(\n' \
	>"$tmp/syntax.yml"
result "promtool check rules refuses a malformed expression" \
	fails promtool check rules "$tmp/syntax.yml"

result "the dashboard parses, with rows Overview, On-call, Debug, and a query on every panel" \
	check --dashboard "$dash" --structure
result "every metric of the rules and the dashboard is one the exporter emits, and the dashboard shows every one" \
	check --dashboard "$dash" --rules "$rules" \
	--exporter "$top/userspace/ctl_metrics.c" --names
sed 's/ionclock_error_bound_seconds{/ionclock_error_bound_secs{/' "$dash" >"$tmp/d1.json"
result "... and refuses a dashboard with a metric the exporter does not emit" \
	fails check --dashboard "$tmp/d1.json" --rules "$rules" \
	--exporter "$top/userspace/ctl_metrics.c" --names
python3 - "$dash" "$tmp/d2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d['panels'] = [p for p in d['panels'] if not any(
    'ionclock_holdover_seconds' in t.get('expr', '') for t in p.get('targets', []))]
json.dump(d, open(sys.argv[2], 'w'))
PY
result "... and one that leaves an exported metric out" \
	fails check --dashboard "$tmp/d2.json" --rules "$rules" \
	--exporter "$top/userspace/ctl_metrics.c" --names
sed 's/ionclock_error_bound_seconds > 0.001/ionclock_error_bounds_seconds > 0.001/' \
	"$rules" >"$tmp/r1.yml"
result "... and a rules file with a metric the exporter does not emit" \
	fails check --dashboard "$dash" --rules "$tmp/r1.yml" \
	--exporter "$top/userspace/ctl_metrics.c" --names
head -c 2000 "$dash" >"$tmp/cut.json"
result "... and a dashboard that is not JSON" \
	fails check --dashboard "$tmp/cut.json" --structure

echo "1..$n"
echo "ops: $pass passed, $fail failed"
[ "$fail" = 0 ]
