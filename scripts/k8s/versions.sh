# Pinned versions of the test control plane, and where their binaries are cached. Source it.
# Bump a version here and the next `scripts/k8s-testenv up` builds it once into a new cache folder.
K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
K8S_CACHE="${FSLM_CACHE:-$HOME/.cache/fslm}/k8s"
K8S_BIN="$K8S_CACHE/kubernetes-$K8S_VERSION/bin"
ETCD_BIN="$K8S_CACHE/etcd-$ETCD_VERSION/bin"
KWOK_BIN="$K8S_CACHE/kwok-$KWOK_VERSION/bin"
export K8S_VERSION ETCD_VERSION KWOK_VERSION K8S_CACHE K8S_BIN ETCD_BIN KWOK_BIN
