// One measured synth process (scripts/bench/synth.ts): 1,000 cdk8s-plus-27 Deployments,
// app.synth() into a temp outdir, optionally with a strategy mixin on the chart. The library is
// loaded from lib/ (the build). Prints JSON: CPU ms (user + sys) and peak RSS KiB of the process.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { App, Chart } = require('cdk8s');
const kplus = require('cdk8s-plus-27');

const [, , which, n] = process.argv;
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-bench-synth-'));
const app = new App({ outdir });
const chart = new Chart(app, 'bench');
for (let i = 0; i < Number(n); i++) {
  new kplus.Deployment(chart, `d${i}`, { containers: [{ name: 'app', image: 'curlimages/curl:8.11.1', portNumber: 8080 }] });
}
if (which !== 'none') {
  const lib = require(path.resolve(__dirname, '../../lib/src'));
  const clientId = '11111111-1111-1111-1111-111111111111';
  const mixin = { 'identity-probes': () => new lib.IdentityProbes({ clientId }), 'nmi-init': () => new lib.NmiInitCheck(),
    'workload-identity-probes': () => new lib.WorkloadIdentityProbes({ clientId }) }[which];
  if (!mixin) throw new Error(`unknown case ${which}`);
  chart.with(mixin());
}
app.synth();
const bytes = fs.readdirSync(outdir).reduce((s, f) => s + fs.statSync(path.join(outdir, f)).size, 0);
fs.rmSync(outdir, { recursive: true, force: true });
const u = process.resourceUsage();
process.stdout.write(JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, rssKiB: u.maxRSS, bytes }));
