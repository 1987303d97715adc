// One measured synth process (scripts/bench/synth.ts): 1,000 cdk8s-plus-27 Deployments,
// app.synth() into a temp outdir, with one case on top:
// - 'none': nothing (the reference);
// - a strategy id: that strategy's mixin on the chart (chart.with), the library loaded from lib/
//   (the build), clientId set where the strategy takes one;
// - 'floor': no library and no script, what every probe strategy adds to each Deployment besides
//   its script, hand-written through cdk8s's documented escape hatch (ApiObject.of(...)
//   .addJsonPatch, https://cdk8s.io/docs/latest/basics/escape-hatches/): exec readiness and
//   liveness probes running a script file with their timings, and a Memory emptyDir for their
//   state (https://kubernetes.io/docs/concepts/storage/volumes/#emptydir) mounted at
//   /var/run/identity-health;
// - 'floor-pod-identity': the same plus env HOST_IP from the downward API (fieldRef status.hostIP,
//   https://kubernetes.io/docs/tasks/inject-data-application/environment-variable-expose-pod-information/),
//   which the pod identity probe strategies need to reach NMI.
// Prints JSON: CPU ms (user + sys) and peak RSS KiB of the process, bytes written.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ApiObject, App, Chart, JsonPatch } = require('cdk8s');
const kplus = require('cdk8s-plus-27');

const [, , which, n] = process.argv;
const CONTAINER = '/spec/template/spec/containers/0';

/** The floor's fields on Deployment `d`, HOST_IP too where `hostIp` (cdk8s-plus-27 emits no env, volumeMounts or volumes here, so `add` creates them). */
function floor(d, hostIp) {
  const probe = (mode, periodSeconds, failureThreshold) => ({
    exec: { command: ['/bin/sh', '/etc/identity-health/x/probe.sh', mode] }, periodSeconds, failureThreshold, timeoutSeconds: 7,
  });
  ApiObject.of(d).addJsonPatch(
    ...(hostIp ? [JsonPatch.add(`${CONTAINER}/env`, [{ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }])] : []),
    JsonPatch.add(`${CONTAINER}/volumeMounts`, [{ name: 'identity-health-state', mountPath: '/var/run/identity-health' }]),
    JsonPatch.add('/spec/template/spec/volumes', [{ name: 'identity-health-state', emptyDir: { medium: 'Memory' } }]),
    JsonPatch.add(`${CONTAINER}/readinessProbe`, probe('readiness', 4, 2)),
    JsonPatch.add(`${CONTAINER}/livenessProbe`, probe('liveness', 10, 3)),
  );
}

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-bench-synth-'));
const app = new App({ outdir });
const chart = new Chart(app, 'bench');
for (let i = 0; i < Number(n); i++) {
  const d = new kplus.Deployment(chart, `d${i}`, { containers: [{ name: 'app', image: 'curlimages/curl:8.11.1', portNumber: 8080 }] });
  if (which === 'floor' || which === 'floor-pod-identity') floor(d, which === 'floor-pod-identity');
}
if (!['none', 'floor', 'floor-pod-identity'].includes(which)) {
  const lib = require(path.resolve(__dirname, '../../lib/src'));
  const clientId = '11111111-1111-1111-1111-111111111111';
  const mixin = { 'identity-probes': () => new lib.IdentityProbes({ clientId }), 'nmi-init': () => new lib.NmiInitCheck(), 'nmi-probes': () => new lib.NmiProbes(),
    'workload-identity-probes': () => new lib.WorkloadIdentityProbes({ clientId }) }[which];
  if (!mixin) throw new Error(`unknown case ${which}`);
  chart.with(mixin());
}
app.synth();
const bytes = fs.readdirSync(outdir).reduce((s, f) => s + fs.statSync(path.join(outdir, f)).size, 0);
fs.rmSync(outdir, { recursive: true, force: true });
const u = process.resourceUsage();
process.stdout.write(JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, rssKiB: u.maxRSS, bytes }));
