#!/usr/bin/env bash
# Builds the upstream Kubernetes binaries the local cluster runs (kube-apiserver, kubelet,
# kube-controller-manager, kube-scheduler, and a matching kubectl) from the pinned k8s.io/kubernetes module in k8s/, into .work/bin/.
# Cached: skipped when every binary exists and was built from the same go.mod/go.sum; Go's build cache
# makes a rebuild after a change fast. The first (cold) build's wall time is printed and kept in .work/build-time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$here/.work/bin"
mkdir -p "$bin"
cmds=(kube-apiserver kubelet kube-controller-manager kube-scheduler kubectl)
# The Go toolchain of these machines lives in /usr/local/go, which is not always on PATH.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; fi
if ! command -v go >/dev/null; then
  echo "build.sh: the Go toolchain is missing (go >= 1.24 is needed to build Kubernetes v$(cat "$here/k8s/K8S_VERSION"))" >&2
  exit 3
fi
stamp="$(cat "$here/k8s/go.mod" "$here/k8s/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)"
ok=1
for c in "${cmds[@]}"; do [ -x "$bin/$c" ] || ok=0; done
if [ "$ok" = 1 ] && [ "$(cat "$bin/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "build.sh: Kubernetes binaries are up to date in $bin"
  exit 0
fi
ver="$(cat "$here/k8s/K8S_VERSION")"
minor="${ver#v1.}"; minor="${minor%%.*}"
# Without these the binaries report v0.0.0-master, which the kubelet publishes as the node version.
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$ver -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$ver -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
echo "build.sh: building Kubernetes $ver (${cmds[*]}) into $bin; a fully cold build (modules + all binaries) took 467 s on 2 cores"
start=$(date +%s)
cd "$here/k8s"
# CGO is off: the kubelet and the control plane need no cgo on Linux, and static binaries need no libs.
CGO_ENABLED=0 GOFLAGS="-trimpath -mod=mod" nice -n 10 go build -ldflags="$ldflags" -o "$bin/" \
  $(for c in "${cmds[@]}"; do echo "k8s.io/kubernetes/cmd/$c"; done)
secs=$(( $(date +%s) - start ))
echo "$stamp" > "$bin/.stamp"
echo "build.sh: built in ${secs}s"
[ -f "$here/.work/build-time" ] || echo "$secs" > "$here/.work/build-time"
