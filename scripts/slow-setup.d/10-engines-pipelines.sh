#!/usr/bin/env bash
# The pipeline engines for test/slow/pipelines: the Kyverno CLI, standalone kustomize, Helm 3 and
# Helm 4, built once from their Go modules into the engines cache (scripts/engines/lib.sh); a second
# run reuses them. Pinned versions: bump them here (docs/pipelines.md names the versions last run).
# Each build prints its wall and CPU time; the first run here needed about 20 min of CPU in all,
# Kyverno 12 of them (610 s user + 125 s sys with an empty Go build cache; README, `npm run test:slow`).
set -euo pipefail
. "$(dirname "$0")/../engines/lib.sh"

# Kyverno CLI (kubectl-kyverno, run as `kyverno`). Kyverno's own go.mod (v1.19.1) carries a `replace`
# that a module requiring Kyverno does not inherit (replace directives apply only in the main
# module), so it is copied here from github.com/kyverno/kyverno@v1.19.1/go.mod:
#   replace k8s.io/pod-security-admission => github.com/kyverno/pod-security-admission v0.0.0-20251031094455-46f20778634f
# Without it the build would take upstream's k8s.io/pod-security-admission v0.36.2, not the fork
# Kyverno v1.19.1 is released with.
# Its version string comes from -ldflags, as Kyverno's Makefile sets it (pkg/version.BuildVersion);
# built as a dependency, the binary would otherwise report "(devel)".
KYVERNO_VERSION=v1.19.1
ENGINE_LDFLAGS="-X github.com/kyverno/kyverno/pkg/version.BuildVersion=$KYVERNO_VERSION" \
  engine_build kyverno "$KYVERNO_VERSION" github.com/kyverno/kyverno github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno \
  'replace k8s.io/pod-security-admission => github.com/kyverno/pod-security-admission v0.0.0-20251031094455-46f20778634f'

# kustomize standalone: the only kustomize that runs exec KRM functions (kubectl's embedded one does not).
# v5.8.2: v5.8.3 needs Go >= 1.27 (its go.mod), newer than the Go this project builds with.
engine_build kustomize v5.8.2 sigs.k8s.io/kustomize/kustomize/v5 sigs.k8s.io/kustomize/kustomize/v5

# Helm 3 and Helm 4 (post-renderers: an executable in 3, a plugin in 4).
HELM3_VERSION=v3.22.0
ENGINE_LDFLAGS="-X helm.sh/helm/v3/internal/version.version=$HELM3_VERSION" \
  engine_build helm3 "$HELM3_VERSION" helm.sh/helm/v3 helm.sh/helm/v3/cmd/helm
HELM4_VERSION=v4.3.2
ENGINE_LDFLAGS="-X helm.sh/helm/v4/internal/version.version=$HELM4_VERSION" \
  engine_build helm4 "$HELM4_VERSION" helm.sh/helm/v4 helm.sh/helm/v4/cmd/helm
