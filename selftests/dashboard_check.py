#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The Grafana dashboard and the Prometheus rules against the exporter.

  dashboard_check.py --dashboard FILE --structure
      it is JSON, has the rows Overview, On-call and Debug in that order,
      and every other panel has at least one target with a PromQL expr
  dashboard_check.py --dashboard FILE --rules FILE --exporter FILE --names
      every ionclock metric the dashboard or the rules name is emitted by
      the exporter (its names are the "ionclock_..." strings of
      userspace/ctl_metrics.c, or with --exporter-text those of a live
      scrape) or recorded by the rules; and every metric the exporter emits
      is on the dashboard
  dashboard_check.py --dashboard FILE --exprs
      prints each target's expr, Grafana's variables replaced so that
      Prometheus can run it (metrics_test.sh does, against a live device)
Exits 1 after saying what is wrong.
"""
import argparse
import json
import re
import sys

ROWS = ['Overview', 'On-call', 'Debug']
METRIC = re.compile(r'\b(ionclock[_:][a-zA-Z0-9_:]*)')
# Grafana's variables, as a query over every instance and device sees them.
VARIABLES = {'$instance': '.+', '$device': '.+', '$__rate_interval': '1m'}


def load_dashboard(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit('%s: %s' % (path, e))


def targets(dash):
    for p in dash.get('panels', []):
        if p.get('type') == 'row':
            continue
        for t in p.get('targets', []):
            yield p, t


def structure(dash):
    bad = []
    rows = [p.get('title') for p in dash.get('panels', [])
            if p.get('type') == 'row']
    if rows != ROWS:
        bad.append('rows are %s, not %s' % (rows, ROWS))
    for p in dash.get('panels', []):
        if p.get('type') == 'row':
            continue
        exprs = [t.get('expr', '').strip() for t in p.get('targets', [])]
        if not exprs or not all(exprs):
            bad.append('panel "%s" has a target without a query'
                       % p.get('title'))
        if not p.get('datasource'):
            bad.append('panel "%s" has no datasource' % p.get('title'))
    return bad


def exported(path, text):
    with open(path) as f:
        src = f.read()
    if text:
        # A scrape: the names of its samples.
        return set(re.findall(r'^(ionclock_[a-zA-Z0-9_]*)[{ ]', src, re.M))
    return set(re.findall(r'"(ionclock_[a-z0-9_]+)"', src))


def names(dash, rules_path, exporter_path, text):
    with open(rules_path) as f:
        rules = f.read()
    recorded = set(re.findall(r'^\s*- record:\s*(\S+)', rules, re.M))
    emitted = exported(exporter_path, text)
    if not emitted:
        return ['no ionclock metric found in %s' % exporter_path]
    on_dash = set()
    for _, t in targets(dash):
        on_dash |= set(METRIC.findall(t.get('expr', '')))
    in_rules = set(METRIC.findall(
        '\n'.join(l for l in rules.splitlines() if not
                  re.match(r'^\s*(#|- record:)', l))))
    bad = []
    for where, used in (('dashboard', on_dash), ('rules', in_rules)):
        for m in sorted(used - emitted - recorded):
            bad.append('%s names %s, which the exporter does not emit'
                       % (where, m))
    for m in sorted(emitted - on_dash):
        bad.append('the exporter emits %s, which the dashboard does not show'
                   % m)
    return bad


def exprs(dash):
    for p, t in targets(dash):
        e = t['expr']
        for k, v in VARIABLES.items():
            e = e.replace(k, v)
        print('%s\t%s' % (p.get('title'), ' '.join(e.split())))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dashboard', required=True)
    ap.add_argument('--rules')
    ap.add_argument('--exporter')
    ap.add_argument('--exporter-text', action='store_true')
    ap.add_argument('--structure', action='store_true')
    ap.add_argument('--names', action='store_true')
    ap.add_argument('--exprs', action='store_true')
    a = ap.parse_args()
    dash = load_dashboard(a.dashboard)
    bad = []
    if a.structure:
        bad += structure(dash)
    if a.names:
        if not a.rules or not a.exporter:
            sys.exit('--names needs --rules and --exporter')
        bad += names(dash, a.rules, a.exporter, a.exporter_text)
    if a.exprs:
        exprs(dash)
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
