#!/usr/bin/env bash
# npm run e2e:kind: the e2e suite on a kind cluster (for machines with Docker; not these CI machines).
#   1. builds varmor-hook and containerd's base runtime spec (the node image's own `ctr oci spec` + the hook)
#   2. kind create cluster with kind-config.yaml (pod annotation passthrough, the hook, the seccomp root)
#   3. builds the images as OCI tars (manifests/images/build.ts) and `kind load image-archive`s them
#   4. runs e2e/run.sh with the kind kubeconfig (deploys manifests/, runs the suite)
#   5. deletes the cluster (KEEP_CLUSTER=1 keeps it)
# Needs: docker, kind (>= 0.30 for kindest/node v1.34), node 20, gcc (the hook and pause are static C).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
name="${KIND_CLUSTER_NAME:-varmor-e2e}"
work="$root/e2e/cluster/.work/kind"
TS="node --import ./testing/ts-loader.mjs"
node_image="$(sed -n 's/^ *image: *\(kindest\/node:[^ ]*\).*/\1/p' kind-config.yaml | head -1)"

for tool in docker kind; do
  if ! command -v "$tool" >/dev/null; then
    echo "e2e:kind: '$tool' is not installed; this target needs Docker and kind (https://kind.sigs.k8s.io)." >&2
    echo "e2e:kind: without Docker, run the same suite on the local cluster: npm run e2e" >&2
    exit 2
  fi
done
if ! docker info >/dev/null 2>&1; then
  echo "e2e:kind: the Docker daemon is not reachable (docker info failed)" >&2
  exit 2
fi

mkdir -p "$work/seccomp"
echo "e2e:kind: building varmor-hook and the base runtime spec from $node_image"
$TS --input-type=module -e "
  const { buildHook } = await import('./agent/hook/build.ts');
  buildHook('$work/varmor-hook');
"
docker run --rm --entrypoint ctr "$node_image" oci spec > "$work/default-spec.json"
$TS --input-type=module -e "
  const fs = await import('node:fs');
  const { baseRuntimeSpec } = await import('./agent/hook/spec.ts');
  const { HOOK_SOCKET } = await import('./e2e/cluster/hook.ts');
  const spec = JSON.parse(fs.readFileSync('$work/default-spec.json', 'utf8'));
  fs.writeFileSync('$work/base-runtime-spec.json', JSON.stringify(baseRuntimeSpec(spec, '/usr/local/bin/varmor-hook', HOOK_SOCKET), null, 2));
"
sed "s#hostPath: \./#hostPath: $root/#" kind-config.yaml > "$work/kind-config.yaml"

kubeconfig="$work/kubeconfig"
if ! kind get clusters 2>/dev/null | grep -qx "$name"; then
  kind create cluster --name "$name" --config "$work/kind-config.yaml" --kubeconfig "$kubeconfig" --wait 180s
else
  kind get kubeconfig --name "$name" > "$kubeconfig"
fi
cleanup() {
  if [ "${KEEP_CLUSTER:-}" = 1 ]; then
    echo "e2e:kind: keeping cluster $name (KUBECONFIG=$kubeconfig)"
  else
    kind delete cluster --name "$name"
  fi
}
trap cleanup EXIT

# tsc emits even on type errors (npm run typecheck reports those); only a missing dist/ is fatal here.
npm run --silent build || [ -f dist/cli/main.js ]
$TS manifests/images/build.ts --out "$work/images" busybox product
for tar in "$work/images/busybox.tar" "$work/images/varmor-ts.tar"; do
  kind load image-archive "$tar" --name "$name"
done

# The node's seccomp root is mounted from $work/seccomp (kind-config.yaml): the suite checks the agent's files there.
KUBECONFIG="$kubeconfig" VARMOR_E2E_SECCOMP_ROOT="$work/seccomp" bash e2e/run.sh "$@"
