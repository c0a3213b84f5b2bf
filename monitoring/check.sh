#!/bin/sh
# Static checks of the monitoring configuration; no running service needed.
#
#   monitoring/check.sh            from anywhere; exits non-zero on the first failure
#
# (1) promtool check config: prometheus.yml and, through rule_files, every rule file.
# (2) promtool check rules: the rule files on their own (names, PromQL, templates).
# (3) promtool test rules: unit tests firing and not firing every alert.
# (4) Grafana provisioning and dashboards: valid JSON, fixed uids, data-source uids that resolve
#     (Grafana itself does not run on the build machine).
# (5) amtool check-config: alertmanager/alertmanager.yml (route, receivers, timers).
# PROMTOOL may name another promtool binary (e.g. one from the Prometheus 3.x release), AMTOOL
# another amtool.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
promtool=${PROMTOOL:-promtool}
amtool=${AMTOOL:-amtool}

if ! command -v "$promtool" >/dev/null 2>&1; then
    echo "check.sh: $promtool not found (Debian: apt-get install prometheus)" >&2
    exit 1
fi
if ! command -v "$amtool" >/dev/null 2>&1; then
    echo "check.sh: $amtool not found (Debian: apt-get install prometheus-alertmanager)" >&2
    exit 1
fi

cd "$here/prometheus"
"$promtool" --version 2>&1 | head -n 1
"$promtool" check config prometheus.yml
"$promtool" check rules rules/*.yml
"$promtool" test rules tests/*.test.yml
python3 "$root/tests/e2e/checks_monitoring.py" --static --repo-root "$root"
"$amtool" --version 2>&1 | head -n 1
"$amtool" check-config "$here/alertmanager/alertmanager.yml"
