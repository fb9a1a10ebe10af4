#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok from the Go module
# proxy into a cache folder per version (see versions.sh). Idempotent: a component whose folder holds
# a `.complete` marker is skipped, so a warm run takes well under a second. Builds go to a temp
# folder first and are moved into place only when complete; a lock keeps two builds from racing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/versions.sh"
log() { printf '[k8s-build] %s %s\n' "$(date +%T)" "$*" >&2; }
command -v go >/dev/null || { log "go is not on PATH (need Go >= 1.26 for kwok $KWOK_VERSION)"; exit 1; }
NICE=(nice -n 10)

mkdir -p "$K8S_CACHE"
exec 9>"$K8S_CACHE/.build.lock"
flock 9

# finish DIR TMPBIN: moves a finished build into place.
finish() {
  local dir="$1" tmp="$2"
  rm -rf "$dir"; mkdir -p "$(dirname "$dir")"
  mv "$tmp" "$dir"
  date -u +%FT%TZ > "$dir/.complete"
}

build_etcd() {
  [ -f "$ETCD_BIN/.complete" ] && return 0
  log "etcd $ETCD_VERSION: building"
  local t0=$SECONDS work; work=$(mktemp -d)
  (
    cd "$work"
    go mod init fslm.dev/etcd-build >/dev/null 2>&1
    go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
    mkdir -p out
    "${NICE[@]}" go build -trimpath -o out/etcd go.etcd.io/etcd/server/v3
  )
  finish "$ETCD_BIN" "$work/out"; rm -rf "$work"
  log "etcd $ETCD_VERSION: built in $((SECONDS - t0))s"
}

build_kubernetes() {
  [ -f "$K8S_BIN/.complete" ] && return 0
  log "kubernetes $K8S_VERSION: resolving staging modules"
  local t0=$SECONDS work gomod staging; work=$(mktemp -d)
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$gomod" ] || { log "cannot find go.mod of k8s.io/kubernetes@$K8S_VERSION"; exit 1; }
  # Every staging module is required as v0.0.0 and replaced by ./staging/...; pin each to v0.<minor>.<patch>.
  staging=$(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1} $1 == "require" && $2 ~ /^k8s\.io\// && $3 == "v0.0.0" {print $2}' "$gomod" | sort -u)
  local stagingver="v0.${K8S_VERSION#v1.}"
  {
    echo "module fslm.dev/k8s-build"
    echo
    echo "go 1.26"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    for m in $staging; do echo "replace $m => $m $stagingver"; done
  } > "$work/go.mod"
  log "kubernetes $K8S_VERSION: $(wc -w <<<"$staging") staging modules at $stagingver; downloading"
  local cmds=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
  (
    cd "$work"
    # Name the version on every path, or `go get` upgrades k8s.io/kubernetes to the newest release.
    go get -tool "${cmds[@]/%/@$K8S_VERSION}" >&2
    grep -q "k8s.io/kubernetes $K8S_VERSION" go.mod || { echo "go.mod did not keep k8s.io/kubernetes $K8S_VERSION" >&2; exit 1; }
    minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
    ld="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld="$ld -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%FT%TZ)"
    done
    log "kubernetes $K8S_VERSION: compiling (about 7 minutes cold on 2 cores)"
    mkdir -p out
    "${NICE[@]}" go build -trimpath -ldflags "$ld" -o out/ "${cmds[@]}"
  )
  finish "$K8S_BIN" "$work/out"; rm -rf "$work"
  log "kubernetes $K8S_VERSION: built in $((SECONDS - t0))s"
}

build_kwok() {
  [ -f "$KWOK_BIN/.complete" ] && return 0
  log "kwok $KWOK_VERSION: building"
  local t0=$SECONDS work; work=$(mktemp -d)
  mkdir -p "$work/out"
  GOBIN="$work/out" "${NICE[@]}" go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # The stage files kwok needs at run time live in its module; keep a copy beside the binary.
  local moddir; moddir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  mkdir -p "$work/out/stage"
  # Node life cycle and the generic pod stages; fslm's own pod stages (scripts/k8s/kwok-stages) finish pods.
  cp "$moddir/kustomize/stage/node/fast/node-initialize.yaml" "$moddir/kustomize/stage/node/heartbeat/node-heartbeat.yaml" \
     "$moddir/kustomize/stage/pod/fast/pod-ready.yaml" "$moddir/kustomize/stage/pod/fast/pod-delete.yaml" "$work/out/stage/"
  chmod u+w "$work/out/stage/"*
  finish "$KWOK_BIN" "$work/out"; rm -rf "$work"
  log "kwok $KWOK_VERSION: built in $((SECONDS - t0))s"
}

t0=$SECONDS
build_etcd
build_kwok
build_kubernetes
log "all binaries ready in $((SECONDS - t0))s under $K8S_CACHE"
