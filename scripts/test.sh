#!/usr/bin/env bash
# Runs every test: static checks, host tests, the qemu guest suite (BPF LSM enforcement)
# and the end-to-end suite against a real local Kubernetes. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .reports && rm -f .reports/*.json
JEST="node --experimental-vm-modules node_modules/jest/bin/jest.js"

node scripts/check.mjs .reports/checks.json
# The upstream Kubernetes binaries (cached after the first, ~8 min, build): host tests that need a real
# kube-apiserver use them too, so build them before those run.
bash e2e/cluster/build.sh || echo "test: Kubernetes binaries not built; tests that need an API server say so"
$JEST --selectProjects unit --json --outputFile=.reports/unit.json "$@"
$JEST --selectProjects guest --json --outputFile=.reports/guest.json --passWithNoTests
${E2E_CMD:-bash e2e/run.sh} || true
# The uninstall suite runs only on the local cluster (e2e/run.sh without KUBECONFIG).
uninstall_report=.reports/uninstall.json
[ -n "${KUBECONFIG:-}" ] && uninstall_report=
node scripts/summarize.mjs .reports/checks.json .reports/unit.json .reports/guest.json .reports/e2e.json $uninstall_report
