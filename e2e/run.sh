#!/usr/bin/env bash
# The end-to-end suite (jest project `e2e`), writing .reports/e2e.json.
#   KUBECONFIG set:  deploy varmor-ts to that cluster (images must already be on its nodes, e.g. e2e/kind.sh
#                    loads them) and run the suite; VARMOR_E2E_SKIP_DEPLOY=1 runs it against what is there.
#   KUBECONFIG unset: build Kubernetes (cached), bring up the local cluster (e2e/cluster), build and import
#                    the images, deploy, run the suite, then the uninstall suite (jest project `uninstall`,
#                    .reports/uninstall.json), and always tear the cluster down.
# When the cluster cannot be had, the suite still runs and every test fails with the reason: nothing is
# skipped silently. Extra arguments go to jest.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .reports
TS="node --import ./testing/ts-loader.mjs"
# The running cluster's containerd snapshots (under e2e/cluster/.work) hold a copy of the repo: keep jest out.
JEST="node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects e2e --runInBand --json --outputFile=.reports/e2e.json"
t0=$(date +%s)
say() { echo "e2e: $*"; }

# Jest's own arguments (a test path pattern) come before the array option, which would take them as its values.
run_suite() {
  $JEST "$@" --modulePathIgnorePatterns '<rootDir>/e2e/cluster/.work/'
}

if [ -n "${KUBECONFIG:-}" ]; then
  say "running against KUBECONFIG=$KUBECONFIG"
  # The controller's suites (e2e/controller) start their own API server, and kubectl checks use the built one.
  bash e2e/cluster/build.sh || say "Kubernetes binaries not built: suites that need their own API server will say so"
  if [ "${VARMOR_E2E_SKIP_DEPLOY:-}" != 1 ]; then
    if ! $TS manifests/deploy.ts ${VARMOR_E2E_DEPLOY_ARGS:-}; then
      export VARMOR_E2E_UNAVAILABLE="deploying varmor-ts to $KUBECONFIG failed (see the deploy output above)"
    fi
  fi
  run_suite "$@"
  exit $?
fi

work=e2e/cluster/.work
unavailable=""
# One local cluster per machine (one bridge, one work dir): a second run waits for the first.
mkdir -p "$work"
exec 9>"$work/e2e.lock"
if ! flock -n 9; then
  say "another e2e run holds $work/e2e.lock; waiting (up to 30 min)"
  flock -w 1800 9 || unavailable="another e2e run kept the local cluster busy for 30 min"
fi
cleanup() {
  say "tearing the local cluster down"
  $TS e2e/cluster/cli.ts down || say "WARNING: cluster down reported leftovers"
  say "total e2e wall time $(( $(date +%s) - t0 ))s"
}

if [ -n "$unavailable" ]; then
  :
elif ! bash e2e/cluster/build.sh; then
  unavailable="the Kubernetes binaries could not be built (e2e/cluster/build.sh failed; see above)"
elif ! npm run --silent build; then
  # tsc still emits on type errors (the static checks report those); only a missing dist/ stops us.
  if [ -f dist/cli/main.js ]; then
    say "WARNING: npm run build reported errors (see above); building the image from the emitted dist/"
  else
    unavailable="npm run build failed and dist/cli/main.js is missing: the product image needs dist/"
  fi
fi

if [ -z "$unavailable" ]; then
  trap cleanup EXIT
  # The daemons outlive this script if it is killed: they must not inherit the lock (fd 9).
  if ! VARMOR_E2E_IMAGES=product $TS e2e/cluster/cli.ts up 9>&-; then
    unavailable="the local cluster did not come up (logs: $work/cluster/logs)"
  else
    export KUBECONFIG="$PWD/$work/kubeconfig"
    export VARMOR_E2E_SECCOMP_ROOT="$PWD/$work/cluster/kubelet/seccomp"
    export VARMOR_E2E_CONTAINERD_SOCKET="$PWD/$work/cluster/containerd/containerd.sock"
    if ! $TS manifests/deploy.ts --containerd-socket "$PWD/$work/cluster/containerd/containerd.sock" --seccomp-root "$VARMOR_E2E_SECCOMP_ROOT"; then
      unavailable="deploying varmor-ts to the local cluster failed (pod logs: $work/cluster/pod-logs)"
    fi
  fi
fi

if [ -n "$unavailable" ]; then
  say "CANNOT RUN: $unavailable"
  export VARMOR_E2E_UNAVAILABLE="$unavailable"
fi
run_suite "$@"
rc=$?
# Last: the uninstall (e2e/uninstall), which removes the product the suite ran against.
node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects uninstall --runInBand --json \
  --outputFile=.reports/uninstall.json --modulePathIgnorePatterns '<rootDir>/e2e/cluster/.work/' || rc=1
if [ $rc -ne 0 ] && [ -d "$work/cluster/pod-logs" ]; then
  say "failed: last lines of the varmor pods' logs ($work/cluster/pod-logs):"
  for f in $(find "$work/cluster/pod-logs" -path '*varmor_varmor-*' -name '*.log' 2>/dev/null | head -6); do
    echo "--- $f"; tail -n 15 "$f"
  done
fi
exit $rc
