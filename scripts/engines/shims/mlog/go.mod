// Logging-only stand-in for monis.app/mlog, which the Go module proxy does not serve: it lets
// scripts/slow-setup.d/20-engines-cluster.sh build the workload identity webhook from upstream
// source (github.com/Azure/azure-workload-identity imports it only for its logs). It implements
// the part of mlog's API that cmd/webhook and pkg/webhook call, over go-logr's funcr (JSON lines
// on stderr); no behaviour of the webhook depends on it.
module monis.app/mlog

go 1.22

require github.com/go-logr/logr v1.4.2
