"""The Python app: the same charts as ../typescript/main.ts. Usage: python main.py <outdir> [conflict|skip]"""
import sys

import cdk8s_plus_27 as kplus
from cdk8s import App, Chart, Duration
from cdk8s_identity_health import (
    ConflictPolicy, HttpClient, IdentityProbes, NmiInitCheck, ProbeTimingOptions, ResourceOptions, Strategies,
    WorkloadIdentityProbes)

outdir = sys.argv[1]
mode = sys.argv[2] if len(sys.argv) > 2 else ""
app = App(outdir=outdir)

if mode in ("conflict", "skip"):
    # A container that already has a readiness probe: the default onConflict ERROR fails
    # synthesis; SKIP leaves the workload as it is and lists it.
    chart = Chart(app, "conflict")
    legacy = kplus.Deployment(chart, "legacy", containers=[kplus.ContainerProps(
        image="myregistry.azurecr.io/legacy:1.0.0", port_number=8080, readiness=kplus.Probe.from_http_get("/healthz"))])
    if mode == "skip":
        mixin = IdentityProbes(on_conflict=ConflictPolicy.SKIP)
        chart.with_(mixin)
        app.synth()
        for s in mixin.skipped:
            print(f"SKIPPED: {s.path}: {s.reason}")
    else:
        Strategies.with_identity_probes(legacy)
        try:
            app.synth()
        except Exception as e:  # jsii raises the TypeScript error as a Python exception
            print(f"ERROR: {e}")
else:
    # One workload.
    orders = Chart(app, "orders")
    web = kplus.Deployment(orders, "web", containers=[kplus.ContainerProps(
        image="myregistry.azurecr.io/orders:1.4.2", port_number=8080)])
    Strategies.with_identity_probes(
        web,
        client_id="00000000-0000-0000-0000-000000000000",
        resource="https://vault.azure.net",
        pod_identity_binding="orders-identity",
        readiness=ProbeTimingOptions(period_seconds=Duration.seconds(5)),
        resources=ResourceOptions(cpu_limit="200m"),
    )
    # A whole chart.
    workers = Chart(app, "workers")
    kplus.Deployment(workers, "worker", containers=[kplus.ContainerProps(image="myregistry.azurecr.io/worker:2.0.0")])
    kplus.Job(workers, "migrate", containers=[kplus.ContainerProps(image="myregistry.azurecr.io/migrate:2.0.0")])
    workers.with_(NmiInitCheck(client=HttpClient.WGET, deadline=Duration.minutes(5), interval=3))
    # Workload identity on a chart: the ServiceAccount gets the client-id annotation.
    billing = Chart(app, "billing")
    sa = kplus.ServiceAccount(billing, "sa")
    kplus.Deployment(billing, "api", service_account=sa, containers=[kplus.ContainerProps(
        image="myregistry.azurecr.io/billing:3.1.0", port_number=8080)])
    billing.with_(WorkloadIdentityProbes(
        client_id="11111111-1111-1111-1111-111111111111", proxy_sidecar=True, on_conflict=ConflictPolicy.SIDECAR))
    app.synth()
