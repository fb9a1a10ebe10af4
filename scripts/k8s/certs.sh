#!/usr/bin/env bash
# Writes the test control plane's certificates into DIR: a CA, the API server's serving cert
# (loopback and the in-cluster names), an admin client cert (system:masters) and the service
# account signing key. ECDSA P-256 keys, so this takes a fraction of a second.
set -euo pipefail
dir="$1"; mkdir -p "$dir"; cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 3650 -subj "/CN=fslm-testenv-ca" 2>/dev/null
sign() { # name subject extensions
  openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 -extfile <(printf '%b' "$3") 2>/dev/null
  rm -f "$1.csr"
}
sign apiserver "/CN=kube-apiserver" \
  "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment"
sign admin "/O=system:masters/CN=fslm-testenv-admin" "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment"
openssl ecparam -name prime256v1 -genkey -noout -out sa.key 2>/dev/null
openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null
