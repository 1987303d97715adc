#!/usr/bin/env bash
# Engines of test/slow/cluster: etcd, kube-apiserver (with its staging modules pinned to the same
# release), the AAD Pod Identity NMI (archived upstream: its last release) and the Azure Workload
# Identity mutating webhook, built from the Go module proxy into the engines cache (scripts/engines/lib.sh).
# Each build's time is printed; a second run reuses the cache.
set -euo pipefail
. "$(dirname "$0")/../engines/lib.sh"

KUBERNETES_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
NMI_VERSION=v1.8.17
AZWI_VERSION=v1.6.0

# kube-apiserver: k8s.io/kubernetes replaces its staging modules (k8s.io/api, apimachinery, apiserver,
# client-go, ...) with ./staging paths that are not part of its module zip; pin each of them to the
# matching v0.<minor>.<patch> tag, derived from kubernetes' own go.mod rather than a hand list.
k8s_staging_pins() {
  local gomod staging
  gomod=$(cd "$(mktemp -d)" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [ -s "$gomod" ] || { echo "engines: could not download the go.mod of k8s.io/kubernetes@$KUBERNETES_VERSION" >&2; return 1; }
  staging="v0.${KUBERNETES_VERSION#v1.}"
  sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/.*#replace \1 => \1 '"$staging"'#p' "$gomod"
}

engine_build etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3

minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
ENGINE_LDFLAGS="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean" \
  engine_build kube-apiserver "$KUBERNETES_VERSION" k8s.io/kubernetes k8s.io/kubernetes/cmd/kube-apiserver "$(k8s_staging_pins)"

# kubelet (the stretch suite test/slow/cluster/kubelet.test.ts): same release, same pins; it reuses most
# of kube-apiserver's compiled packages from Go's build cache.
engine_build kubelet "$KUBERNETES_VERSION" k8s.io/kubernetes k8s.io/kubernetes/cmd/kubelet "$(k8s_staging_pins)"

ENGINE_LDFLAGS="-X github.com/Azure/aad-pod-identity/version.NMIVersion=$NMI_VERSION" \
  engine_build nmi "$NMI_VERSION" github.com/Azure/aad-pod-identity github.com/Azure/aad-pod-identity/cmd/nmi

# The webhook imports monis.app/mlog (logging only), which the Go module proxy does not serve
# (403): scripts/engines/shims/mlog stands in for it; the webhook's own code is upstream's.
ENGINE_LDFLAGS="-X github.com/Azure/azure-workload-identity/pkg/version.BuildVersion=$AZWI_VERSION" \
  engine_build azwi-webhook "$AZWI_VERSION" github.com/Azure/azure-workload-identity github.com/Azure/azure-workload-identity/cmd/webhook \
  "replace monis.app/mlog => $(cd "$(dirname "$0")/../engines/shims/mlog" && pwd)"

# Upstream manifests the suites install as they are: aad-pod-identity's CRDs, the webhook's
# MutatingWebhookConfiguration (only its clientConfig is pointed at the loopback server).
engine_asset nmi "$NMI_VERSION" github.com/Azure/aad-pod-identity config/crd/aadpodidentity.k8s.io.yaml
engine_asset azwi-webhook "$AZWI_VERSION" github.com/Azure/azure-workload-identity deploy/azure-wi-webhook.yaml

# Debian packages: iptables for the real NMI (legacy backend: its lock is what holds NMI in "Not
# Active" in a test); containerd, runc and the CNI plugins for kubelet.
missing=()
command -v iptables-legacy >/dev/null || missing+=(iptables)
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
if [ ${#missing[@]} -gt 0 ]; then
  echo "engines: installing ${missing[*]} with apt-get"
  { apt-get install -y --no-install-recommends "${missing[@]}" || { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }; } >/dev/null \
    || { echo "engines: could not install ${missing[*]} with apt-get (the NMI and kubelet suites need them)" >&2; exit 1; }
fi

# The pods' image for kubelet: Debian's static busybox, unpacked into the cache, never installed:
# the package would replace the system's busybox, and the behaviour bed needs the non-standalone
# one (a standalone BusyBox runs its own date/sleep, not the bed's virtual-clock shims).
bb_dir="$IH_ENGINES_CACHE/busybox-static"
if [ ! -x "$bb_dir/bin/busybox" ]; then
  work=$(mktemp -d)
  ( cd "$work" && { apt-get download busybox-static >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get download busybox-static >/dev/null; }; } ) \
    || { echo "engines: could not download the Debian package busybox-static (the kubelet suite's image)" >&2; exit 1; }
  rm -rf "$bb_dir" && mkdir -p "$bb_dir/bin"
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/x"
  cp "$work/x/bin/busybox" "$bb_dir/bin/busybox"
  dpkg-deb -f "$work"/busybox-static_*.deb Version >"$bb_dir/version"
  rm -rf "$work"
fi
engine_record busybox-static "$(cat "$bb_dir/version")" "$bb_dir/bin/busybox"
