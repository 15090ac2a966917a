#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `ionclockctl prometheus` checked by its real consumers, on the host: the
# VMs of make check wrote the metrics of a live device (the module on the
# igb PHC) to the console between "ionclock-metrics-begin/end <series>"
# lines.  For each kernel series, promtool (Debian's prometheus package)
# must accept the text, and Debian's node_exporter must serve it from its
# textfile directory, scraped over loopback, with every ionclock sample
# unchanged and no textfile scrape error.  The block has exactly the
# metrics userspace/ctl_metrics.c names, which are exactly the dashboard's
# (packaging/grafana); and a real Prometheus (Debian's), on loopback,
# scraping that node_exporter with packaging/prometheus's rules loaded,
# evaluates every rule without error and returns data for every query of
# every dashboard panel.  TAP, then "metrics: N passed, N failed".
#   metrics_test.sh [series...]        (default: 6.1 6.12)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
series=("$@")
[ ${#series[@]} -gt 0 ] || series=(6.1 6.12)
tmp=$(mktemp -d)
exporter=
prom=
cleanup() {
	[ -n "$exporter" ] && kill "$exporter" 2>/dev/null
	[ -n "$prom" ] && kill "$prom" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$top/selftests/tap.sh"

# The block for series $1 from its console log, without CRs.
extract() {
	tr -d '\r' <"$top/build/vm-$1/console.log" |
		sed -n "/^ionclock-metrics-begin $1\$/,/^ionclock-metrics-end $1\$/p" |
		sed '1d;$d'
}

has_block() {
	[ -s "$1" ] && grep -q '^ionclock_' "$1" ||
		{ echo "no metrics block in the console log"; return 1; }
}

promtool_accepts() { promtool check metrics <"$1"; }

promtool_rejects() {
	if promtool check metrics <"$1"; then
		echo "promtool accepted a broken file"
		return 1
	fi
	return 0
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Serve directory $1 on a free loopback port, scrape it into $2.
scrape() {
	local dir=$1 out=$2 port i
	port=$(free_port)
	prometheus-node-exporter --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$dir" \
		--web.listen-address="127.0.0.1:$port" >"$tmp/exporter.log" 2>&1 &
	exporter=$!
	for i in $(seq 50); do
		curl -sf "http://127.0.0.1:$port/metrics" >"$out" && break
		sleep 0.2
	done
	kill "$exporter" 2>/dev/null
	wait "$exporter" 2>/dev/null
	exporter=
	[ -s "$out" ] || { cat "$tmp/exporter.log"; return 1; }
}

# Every ionclock sample of file $1 is in scrape $2 with the same value
# (labels compared as sets: the exporter sorts them; values as numbers: it
# prints floats its own way), and the exporter reports no error reading it.
same_samples() {
	python3 - "$1" "$2" <<'EOF'
import re, sys
line = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
def samples(path):
    out = {}
    for l in open(path):
        l = l.rstrip('\n')
        if not l or l.startswith('#'):
            continue
        m = line.match(l)
        if not m:
            sys.exit('unparsable line in %s: %s' % (path, l))
        key = (m.group(1), frozenset(label.findall(m.group(2) or '')))
        out[key] = float(m.group(3))
    return out
want, got = samples(sys.argv[1]), samples(sys.argv[2])
mine = [k for k in want if k[0].startswith('ionclock_')]
bad = 0
for k in mine:
    if k not in got:
        print('missing from the scrape:', k); bad += 1
    elif abs(got[k] - want[k]) > 1e-12 * max(1.0, abs(want[k])):
        print('changed:', k, want[k], '->', got[k]); bad += 1
err = [v for k, v in got.items() if k[0] == 'node_textfile_scrape_error']
if err != [0.0]:
    print('node_textfile_scrape_error:', err); bad += 1
if len(mine) < 10:
    print('only %d ionclock samples' % len(mine)); bad += 1
print('%d ionclock samples compared' % len(mine))
sys.exit(bad != 0)
EOF
}

dash=$top/packaging/grafana/ionclock-dashboard.json
rules=$top/packaging/prometheus/ionclock.rules.yml

# The block's metric names are ctl_metrics.c's, and the dashboard's.
same_names() {
	python3 - "$1" "$top/userspace/ctl_metrics.c" <<'EOF'
import re, sys
live = set(re.findall(r'^(ionclock_[a-zA-Z0-9_]*)[{ ]', open(sys.argv[1]).read(), re.M))
src = set(re.findall(r'"(ionclock_[a-z0-9_]+)"', open(sys.argv[2]).read()))
for m in sorted(src - live):
    print('ctl_metrics.c names %s; the live device did not emit it' % m)
for m in sorted(live - src):
    print('the live device emitted %s, which ctl_metrics.c does not name' % m)
sys.exit(live != src)
EOF
	python3 "$top/selftests/dashboard_check.py" --dashboard "$dash" \
		--rules "$rules" --exporter "$1" --exporter-text --names
}

# Prometheus on loopback scraping node_exporter, which serves directory $1,
# every second, with the rules loaded; then every dashboard query must
# return data and every rule evaluate without error.
prometheus_queries() {
	local dir=$1 ep pp rc
	ep=$(free_port)
	pp=$(free_port)
	prometheus-node-exporter --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$dir" \
		--web.listen-address="127.0.0.1:$ep" >"$tmp/exporter.log" 2>&1 &
	exporter=$!
	cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $rules
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$ep']
EOF
	rm -rf "$tmp/tsdb"
	prometheus --config.file="$tmp/prometheus.yml" \
		--storage.tsdb.path="$tmp/tsdb" \
		--web.listen-address="127.0.0.1:$pp" >"$tmp/prometheus.log" 2>&1 &
	prom=$!
	python3 "$top/selftests/dashboard_check.py" --dashboard "$dash" --exprs \
		>"$tmp/exprs" &&
	python3 - "$pp" "$tmp/exprs" <<'EOF'
import json, sys, time, urllib.parse, urllib.request
base = 'http://127.0.0.1:%s/api/v1/' % sys.argv[1]
def get(path, **q):
    url = base + path + ('?' + urllib.parse.urlencode(q) if q else '')
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)
def scrapes():
    try:
        r = get('query', query='count_over_time(up{job="node"}[1m])')
        return float(r['data']['result'][0]['value'][1]) if r['data']['result'] else 0
    except OSError:
        return 0
end = time.time() + 60
while scrapes() < 4:
    if time.time() > end:
        sys.exit('Prometheus did not scrape node_exporter 4 times in 60 s')
    time.sleep(0.5)
time.sleep(2)   # a rule evaluation or two after the scrapes
bad = 0
up = get('query', query='up{job="node"}')['data']['result']
if [x['value'][1] for x in up] != ['1']:
    print('up:', up); bad += 1
nrules = 0
for g in get('rules')['data']['groups']:
    for r in g['rules']:
        nrules += 1
        if r.get('health') != 'ok':
            print('rule %s: %s %s' % (r['name'], r.get('health'), r.get('lastError'))); bad += 1
n = 0
for line in open(sys.argv[2]):
    title, expr = line.rstrip('\n').split('\t', 1)
    r = get('query', query=expr)
    n += 1
    if r.get('status') != 'success' or not r['data']['result']:
        print('panel "%s": no data for %s: %s' % (title, expr, r)); bad += 1
print('%d rules evaluated, %d dashboard queries run' % (nrules, n))
sys.exit(bad != 0 or n < 10 or nrules < 5)
EOF
	rc=$?
	kill "$prom" "$exporter" 2>/dev/null
	wait "$prom" "$exporter" 2>/dev/null
	prom= exporter=
	[ "$rc" = 0 ] || tail -n 5 "$tmp/prometheus.log"
	return "$rc"
}

state_is() {
	grep -qF "ionclock_state{device=\"/dev/ionclock0\",state=\"$2\"} 1" "$1"
}

for s in "${series[@]}"; do
	mkdir -p "$tmp/$s"
	m=$tmp/$s/ionclock.prom
	if [ -f "$top/build/vm-$s/console.log" ]; then
		extract "$s" >"$m"
	else
		: >"$m"
	fi
	result "$s: the VM wrote a metrics block" has_block "$m"
	result "$s: promtool check metrics accepts it" promtool_accepts "$m"
	result "$s: it says the device was tracking" state_is "$m" tracking
	result "$s: node_exporter serves it over loopback" \
		scrape "$tmp/$s" "$tmp/$s.scrape"
	result "$s: every ionclock sample scraped unchanged, no scrape error" \
		same_samples "$m" "$tmp/$s.scrape"
	result "$s: the metrics are exactly ctl_metrics.c's and the dashboard's" \
		same_names "$m"
	result "$s: Prometheus scrapes them, evaluates the rules, answers every dashboard query" \
		prometheus_queries "$tmp/$s"
	# The checks can fail: promtool must refuse a counter without
	# _total, and a line that is not a sample.
	sed 's/ionclock_samples_total/ionclock_samples/g' "$m" >"$tmp/$s/bad1"
	result "$s: promtool rejects a counter named without _total" \
		promtool_rejects "$tmp/$s/bad1"
	{ cat "$m"; echo 'ionclock_generation{device="/dev/ionclock0"} one'; } \
		>"$tmp/$s/bad2"
	result "$s: promtool rejects a malformed value" \
		promtool_rejects "$tmp/$s/bad2"
done

echo "1..$n"
echo "metrics: $pass passed, $fail failed"
[ "$fail" = 0 ]
