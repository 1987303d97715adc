/**
 * The reference app: the same charts as the Python, Go and Java apps beside it, written with the
 * TypeScript API. Usage: tsx main.ts <outdir> [conflict|skip]
 */
import { App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IdentityProbes, NmiInitCheck, withIdentityProbes, WorkloadIdentityProbes } from '../../../../../src';

const [outdir, mode] = process.argv.slice(2);
const app = new App({ outdir });

if (mode === 'conflict' || mode === 'skip') {
  // A container that already has a readiness probe: the default onConflict 'error' fails
  // synthesis; 'skip' leaves the workload as it is and lists it.
  const chart = new Chart(app, 'conflict');
  const legacy = new kplus.Deployment(chart, 'legacy', {
    containers: [{ image: 'myregistry.azurecr.io/legacy:1.0.0', portNumber: 8080, readiness: kplus.Probe.fromHttpGet('/healthz') }],
  });
  if (mode === 'skip') {
    const mixin = new IdentityProbes({ onConflict: 'skip' });
    chart.with(mixin);
    app.synth();
    for (const s of mixin.skipped) console.log(`SKIPPED: ${s.path}: ${s.reason}`);
  } else {
    withIdentityProbes(legacy);
    try {
      app.synth();
    } catch (e) {
      console.log(`ERROR: ${(e as Error).name}: ${(e as Error).message}`); // as jsii reports it in other languages
    }
  }
} else {
  // One workload.
  const orders = new Chart(app, 'orders');
  const web = new kplus.Deployment(orders, 'web', {
    containers: [{ image: 'myregistry.azurecr.io/orders:1.4.2', portNumber: 8080 }],
  });
  withIdentityProbes(web, {
    clientId: '00000000-0000-0000-0000-000000000000',
    resource: 'https://vault.azure.net',
    podIdentityBinding: 'orders-identity',
    readiness: { periodSeconds: Duration.seconds(5) },
    resources: { cpuLimit: '200m' },
  });
  // A whole chart.
  const workers = new Chart(app, 'workers');
  new kplus.Deployment(workers, 'worker', { containers: [{ image: 'myregistry.azurecr.io/worker:2.0.0' }] });
  new kplus.Job(workers, 'migrate', { containers: [{ image: 'myregistry.azurecr.io/migrate:2.0.0' }] });
  workers.with(new NmiInitCheck({ client: 'wget', deadline: Duration.minutes(5), interval: 3 }));
  // Workload identity on a chart: the ServiceAccount gets the client-id annotation.
  const billing = new Chart(app, 'billing');
  const sa = new kplus.ServiceAccount(billing, 'sa');
  new kplus.Deployment(billing, 'api', { serviceAccount: sa, containers: [{ image: 'myregistry.azurecr.io/billing:3.1.0', portNumber: 8080 }] });
  billing.with(new WorkloadIdentityProbes({ clientId: '11111111-1111-1111-1111-111111111111', proxySidecar: true, onConflict: 'sidecar' }));
  app.synth();
}
