/**
 * The real AAD Pod Identity NMI (archived upstream, its last release) in standard mode, against a
 * real kube-apiserver with upstream's CRDs, a Pod, an AzureIdentity, a binding and an
 * AzureAssignedIdentity. Two network namespaces stand for a node and a pod: the node's holds
 * etcd, kube-apiserver, NMI (hostNetwork: it sets its own iptables DNAT rule for
 * 169.254.169.254:80 in PREROUTING) and the only stand-in left, IMDS (imds-stand-in.mjs); the
 * pod's reaches the node over a veth pair, so NMI sees the pod's IP and finds the Pod by it.
 * The checks `identity-health apply` generates run in the pod's namespace, each scenario also
 * against the behaviour bed's stand-in (test/bed/mock-identity.mjs) in the state that models it;
 * both must give the same verdict with the same kind of failure (timeout, status, refused), so a
 * stand-in that drifts from the real NMI fails here. The table of both is printed
 * (docs/behaviour.md, "Real NMI").
 */
import { ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { Bed, HOST_IP as BED_HOST_IP, MockState, NODE_MI, POD_MI, startBed } from '../../bed/bed';
import { hostProbeArgv } from '../../bed/runner';
import { docs, run } from '../../cli/helpers';
import { engine } from '../engines';
import { installPodIdentityCrds } from './aad-pod-identity';
import { Cluster, eventually, startCluster } from './cluster';

const nmi = engine('nmi');
const CLIENT = '11111111-1111-1111-1111-111111111111';
const OTHER = '55555555-5555-5555-5555-555555555555';
const NODE_IP = '10.244.0.1';
const POD_IP = '10.244.0.5';
const NODE = 'node-1';

let cluster: Cluster;
let bed: Bed;
let podNs: string;
let nmiProc: ChildProcess | undefined;
let lockHolder: ChildProcess | undefined;
const imdsState = (s: object) => fs.writeFileSync(path.join(cluster.dir, 'imds-state.json'), JSON.stringify(s));
const imdsLog = () => fs.readFileSync(path.join(cluster.dir, 'imds-requests.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const nmiLog = () => fs.readFileSync(path.join(cluster.dir, 'nmi.log'), 'utf8');
const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'pipe' });

// ---- the checks, as `identity-health apply` writes them ------------------------------------
const DEPLOY = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app' }, spec: { selector: { matchLabels: { app: 'app' } },
  template: { metadata: { labels: { app: 'app', aadpodidbinding: 'app-id' } }, spec: { containers: [{ name: 'app', image: 'example/app:1' }] } } } };
interface Check { name: string; argv: string[] }
function checkOf(name: string, strategy: string, flags: string[]): Check {
  const r = run(['apply', '--strategy', strategy, '--quiet', ...flags, '-'], { input: YAML.stringify(DEPLOY) });
  expect(r.code, r.stderr).toBe(0);
  const template = docs(r.stdout)[0].spec.template;
  const spec = template.spec;
  // A probe runs the script file projected from the pod annotation: written to a host file here.
  const argv = spec.initContainers?.[0]?.command ?? hostProbeArgv(template, spec.containers[0], spec.containers[0].readinessProbe.exec.command, fs.mkdtempSync(path.join(os.tmpdir(), 'ih-probe-')));
  return { name, argv };
}
// Init loops bounded for the test (defaults: 300 s, 2 s; token request 90 s): a failing init gives its verdict within seconds.
const INIT_LOOP = ['--deadline', '5', '--interval', '1', '--request-timeout', '4'];
let CHECKS: Check[];

interface Outcome { code: number; out: string }
/** Run a check as kubelet would (sh from the host, its own emptyDir on /var/run/identity-health), inside `wrap`'s namespace. */
function runCheck(c: Check, wrap: (a: string[]) => string[], hostIp: string): Outcome {
  const state = fs.mkdtempSync(path.join(cluster.dir, 'state-'));
  const argv = wrap(['unshare', '-m', 'sh', '-c', 'mkdir -p /var/run/identity-health && mount --bind "$0" /var/run/identity-health && exec "$@"', state, ...c.argv]);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH!, HOST_IP: hostIp } });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`.trim() };
}
const inPod = (c: Check) => runCheck(c, (a) => ['ip', 'netns', 'exec', podNs, ...a], NODE_IP);
const onBed = (c: Check) => runCheck(c, bed.wrap, BED_HOST_IP);

/** A bare token request (no NMI check before it) from the pod and from the bed, at the same time: status or curl's error, body, seconds. */
interface Curl { out: string; err: string; s: number }
function tokenCurl(wrap: (a: string[]) => string[], query: string, maxTime: number): Promise<Curl> {
  const argv = wrap(['curl', '-sS', '--max-time', String(maxTime), '-H', 'Metadata: true', '-w', '\nHTTP %{http_code}',
    `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F${query}`]);
  const t0 = Date.now();
  return new Promise((resolve) => execFile(argv[0], argv.slice(1), { encoding: 'utf8' },
    (_e, out, err) => resolve({ out: out.trim(), err: err.trim(), s: Math.round((Date.now() - t0) / 1000) })));
}
const bothCurl = (query: string, maxTime: number) => Promise.all([
  tokenCurl((a) => ['ip', 'netns', 'exec', podNs, ...a], query, maxTime), tokenCurl(bed.wrap, query, maxTime)]);
/** curl's outcome without the details that differ by design: `HTTP 403`, `curl (7)`. */
const curlKind = (c: Curl) => (/\((\d+)\)/.exec(c.err) ? `curl (${/\((\d+)\)/.exec(c.err)![1]})` : c.out.split('\n').pop()!);

/** What a check's outcome says, with the details that differ by design (addresses, bodies) left out. */
function verdict(o: Outcome): string {
  if (o.code === 0) return 'pass';
  const m = o.out;
  const rules: [RegExp, string | ((x: RegExpExecArray) => string)][] = [
    [/NMI at \S+ is not active/, 'fail: NMI not active'],
    [/NMI \S+ unreachable: .*(\(7\)|refused)/, 'fail: NMI refused'],
    [/NMI \S+ unreachable: .*\(28\)/, 'fail: NMI timed out'],
    [/token request failed: .*error: (\d{3})/, (x) => `fail: token ${x[1]}`],
    [/\(NMI (\d{3})\)|returned error: (\d{3})/, (x) => `fail: token ${x[1] ?? x[2]}`],
    [/token request failed: .*(\(7\)|refused)/, 'fail: token refused'],
    [/token request failed: .*\(28\)/, 'fail: token timed out'],
    [/appid|oid|expected/, 'fail: token for another identity'],
  ];
  for (const [re, v] of rules) { const x = re.exec(m); if (x) return typeof v === 'string' ? v : v(x); }
  return `fail: ${m.split('\n').pop()}`;
}

// ---- the node: NMI and the objects it reads ------------------------------------------------
async function startNmi(extra: string[] = [], holdLock = false): Promise<void> {
  const lock = path.join(cluster.dir, 'xtables.lock');
  fs.writeFileSync(lock, '');
  if (holdLock) {
    // --no-fork: the lock is held by this very process, so killing it releases the lock.
    lockHolder = spawn('flock', ['--no-fork', lock, 'sleep', '600'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
  }
  const kubelet = path.join(cluster.dir, 'kubelet-default');
  fs.writeFileSync(kubelet, 'KUBELET_FLAGS=--network-plugin=cni\n');
  // NMI runs `iptables` from PATH: the legacy backend, whose lock (XTABLES_LOCKFILE) a test can hold.
  const bin = path.join(cluster.dir, 'iptables-bin');
  fs.mkdirSync(bin, { recursive: true });
  if (!fs.existsSync(path.join(bin, 'iptables'))) fs.symlinkSync(execFileSync('sh', ['-c', 'command -v iptables-legacy']).toString().trim(), path.join(bin, 'iptables'));
  nmiProc = cluster.spawnIn('nmi', [nmi.bin, `--node=${NODE}`, '--http-probe-port=8085', '--operation-mode=standard', '--metadata-header-required=true',
    '--enableScaleFeatures=true', `--kubelet-config=${kubelet}`, ...extra], { KUBECONFIG: cluster.kubeconfig, XTABLES_LOCKFILE: lock, PATH: `${bin}:${process.env.PATH}` });
  const want = holdLock ? 'Not Active' : 'Active';
  await eventually(`NMI /healthz says ${want}`, 60_000, async () => {
    if (nmiProc!.exitCode !== null) throw new Error(`NMI exited ${nmiProc!.exitCode}:\n${nmiLog().slice(-3000)}`);
    return spawnSync('ip', ['netns', 'exec', podNs, 'curl', '-sS', '--max-time', '2', `http://${NODE_IP}:8085/healthz`], { encoding: 'utf8' }).stdout;
  }, (b) => b === want);
}
async function stopNmi(signal: NodeJS.Signals, wait = true): Promise<void> {
  const p = nmiProc!;
  p.kill(signal);
  if (wait) await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once('exit', r)));
}

const assignedIdentity = () => ({
  apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureAssignedIdentity',
  metadata: { name: 'app-default-app-id', namespace: 'default', labels: { nodename: NODE } },
  spec: { pod: 'app', podNamespace: 'default', nodename: NODE,
    azureIdentityRef: { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentity', metadata: { name: 'app-id', namespace: 'default' }, spec: { type: 0, clientID: CLIENT, resourceID: RESOURCE_ID } },
    azureBindingRef: { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentityBinding', metadata: { name: 'app-id-binding', namespace: 'default' }, spec: { azureIdentity: 'app-id', selector: 'app-id' } } },
  status: { status: 'Assigned' },
});
const RESOURCE_ID = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id';
const AAI_PATH = '/apis/aadpodidentity.k8s.io/v1/namespaces/default/azureassignedidentities/app-default-app-id';

beforeAll(async () => {
  cluster = await startCluster();
  console.log(`cluster suite (real NMI) on: ${Object.entries(cluster.versions).map(([k, v]) => `${k} ${v}`).join(', ')}, aad-pod-identity NMI ${nmi.version}, ${execFileSync('iptables-legacy', ['--version']).toString().trim()}`);
  // The pod's namespace, a veth pair to the node's; the node routes 169.254.169.254 to its own lo.
  podNs = `${cluster.netns}-pod`;
  ip('netns', 'add', podNs);
  ip('-n', cluster.netns, 'link', 'add', 'ihnode0', 'type', 'veth', 'peer', 'name', 'ihpod0', 'netns', podNs);
  ip('-n', cluster.netns, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'ihnode0');
  ip('-n', cluster.netns, 'link', 'set', 'ihnode0', 'up');
  ip('-n', cluster.netns, 'addr', 'add', '169.254.169.254/32', 'dev', 'lo');
  ip('-n', podNs, 'link', 'set', 'lo', 'up');
  ip('-n', podNs, 'addr', 'add', `${POD_IP}/24`, 'dev', 'ihpod0');
  ip('-n', podNs, 'link', 'set', 'ihpod0', 'up');
  ip('-n', podNs, 'route', 'add', 'default', 'via', NODE_IP);
  // NMI's DNAT sends pod traffic to 127.0.0.1:2579; routing to loopback from outside needs route_localnet (as on AKS nodes).
  for (const dev of ['all', 'ihnode0']) execFileSync('ip', ['netns', 'exec', cluster.netns, 'sysctl', '-qw', `net.ipv4.conf.${dev}.route_localnet=1`]);

  imdsState({ mode: 'ok', assigned: [CLIENT] });
  fs.writeFileSync(path.join(cluster.dir, 'imds-requests.jsonl'), '');
  const imds = cluster.spawnIn('imds', [process.execPath, path.join(__dirname, 'imds-stand-in.mjs'), path.join(cluster.dir, 'imds-state.json'), path.join(cluster.dir, 'imds-requests.jsonl')]);
  await eventually('IMDS stand-in listening', 10_000, async () => {
    if (imds.exitCode !== null) throw new Error(`IMDS stand-in exited: ${fs.readFileSync(path.join(cluster.dir, 'imds.log'), 'utf8')}`);
    return fs.readFileSync(path.join(cluster.dir, 'imds.log'), 'utf8');
  }, (out) => out.includes('listening'));

  // Upstream's CRDs, then the objects MIC would have made for the pod.
  await installPodIdentityCrds(cluster);
  expect((await cluster.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } })).status).toBe(201);
  const pod = await cluster.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app', labels: { app: 'app', aadpodidbinding: 'app-id' } },
    spec: { nodeName: NODE, containers: [{ name: 'app', image: 'example/app:1' }] } });
  expect(pod.status, JSON.stringify(pod.body)).toBe(201);
  const status = await cluster.request('PATCH', '/api/v1/namespaces/default/pods/app/status',
    { status: { phase: 'Running', podIP: POD_IP, podIPs: [{ ip: POD_IP }], hostIP: NODE_IP } }, 'application/merge-patch+json');
  expect(status.status, JSON.stringify(status.body)).toBe(200);
  for (const doc of [
    { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentity', metadata: { name: 'app-id' }, spec: { type: 0, clientID: CLIENT, resourceID: RESOURCE_ID } },
    { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentityBinding', metadata: { name: 'app-id-binding' }, spec: { azureIdentity: 'app-id', selector: 'app-id' } },
    assignedIdentity(),
  ]) {
    const res = await cluster.create(doc);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  CHECKS = [
    checkOf('nmi-probes', 'nmi-probes', []),
    checkOf('identity-probes', 'identity-probes', ['--client-id', CLIENT]),
    checkOf('nmi-init', 'nmi-init', INIT_LOOP.slice(0, 4)),
    checkOf('identity-init', 'identity-init', ['--client-id', CLIENT, ...INIT_LOOP]),
  ];
  bed = await startBed();
  await startNmi();
});
afterAll(async () => {
  lockHolder?.kill('SIGKILL');
  await bed?.stop();
  if (podNs) spawnSync('ip', ['netns', 'del', podNs]);
  await cluster?.stop();
});

// ---- scenarios: the real NMI's outcome of each check, and the stand-in's in the matching state
const table: string[] = ['| scenario | check | real NMI | stand-in | |', '|---|---|---|---|---|'];
/** The stand-in's defaults (test/bed/runner.ts RESET_STATE): upstream's rules decide, no claims override. */
const STAND_IN: MockState = { nmi: 'active', intercept: 'auto', nmiMode: 'standard', nmiRetryMs: 80_000, imds: 'ok', imdsRetryMs: 112_000,
  podIdentities: [POD_MI], nodeIdentities: [NODE_MI, POD_MI], podInCache: true, pod: 'default/app', token: 'ok', identity: null };
async function setStandIn(standIn: MockState): Promise<void> {
  // Once more on a reset socket: bed.ts's control client reuses keep-alive sockets the mock may just have closed (EPIPE).
  const state = { ...STAND_IN, ...standIn };
  await bed.mock.set(state).catch(() => bed.mock.set(state))
    .catch((e) => { throw new Error(`the bed's stand-in did not take state ${JSON.stringify(standIn)}: ${e.stack}`); });
}
/** Each check against the real NMI and the stand-in in `standIn` (then `then`, e.g. its SIGTERM): the real verdict as expected, the stand-in's the same. */
async function compare(scenario: string, standIn: MockState, checks: Check[] | string[], expectReal: Record<string, string | RegExp>, then?: () => Promise<unknown>): Promise<void> {
  await setStandIn(standIn);
  await then?.();
  const list = (checks as (Check | string)[]).map((c) => (typeof c === 'string' ? CHECKS.find((x) => x.name === c)! : c));
  for (const c of list) {
    const real = inPod(c);
    const mock = onBed(c);
    const [r, m] = [verdict(real), verdict(mock)];
    table.push(`| ${scenario} | ${c.name} | ${r} | ${m} | ${r === m ? 'same' : '**differs**'} |`);
    expect(r, `real NMI, ${scenario}, ${c.name}: ${real.out}`).toMatch(expectReal[c.name]);
    expect(m, `stand-in ${JSON.stringify(standIn)} drifted from the real NMI (${r}), ${scenario}, ${c.name}: ${mock.out}`).toBe(r);
  }
}
const ALL = ['nmi-probes', 'identity-probes', 'nmi-init', 'identity-init'];

describe(`real NMI ${nmi.version} against kube-apiserver`, () => {
  it('Active, identity assigned: every check passes; the token came through NMI (IMDS saw NMI ask for the client id)', async () => {
    fs.writeFileSync(path.join(cluster.dir, 'imds-requests.jsonl'), '');
    await compare('NMI Active, AzureAssignedIdentity Assigned', {}, ALL, { 'nmi-probes': 'pass', 'identity-probes': 'pass', 'nmi-init': 'pass', 'identity-init': 'pass' });
    const seen = imdsLog();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.clientId === CLIENT && r.remote !== POD_IP)).toBe(true);
    expect(nmiLog()).toMatch(/matched with azure identity default\/app-id/);
  });

  it('a token for a client id the pod has no identity for: NMI keeps looking (retries) past the check\'s bound; so does the stand-in', async () => {
    const other = checkOf('identity-probes --client-id other', 'identity-probes', ['--client-id', OTHER]);
    const t0 = Date.now();
    await compare('token for a client id not bound to the pod', {}, [other], { [other.name]: 'fail: token timed out' });
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('identity not assigned to the node (IMDS: 400 Identity not found): NMI answers 403 at once', async () => {
    imdsState({ mode: 'ok', assigned: [] });
    try {
      await compare('IMDS: identity not assigned to the VM', { nodeIdentities: [NODE_MI] }, ['identity-probes', 'identity-init'], { 'identity-probes': 'fail: token 403', 'identity-init': 'fail: token 403' });
      const [real, mock] = await bothCurl(`&client_id=${CLIENT}`, 10);
      expect(real.out).toMatch(/^adal: Refresh request failed\. Status Code = '400'.*Identity not found.*\nHTTP 403$/s);
      expect(mock.out).toBe(real.out);
    } finally { imdsState({ mode: 'ok', assigned: [CLIENT] }); }
  });

  it('IMDS answers 500: NMI (adal) retries past the check\'s bound, then answers 403 in plain text; the stand-in alike', async () => {
    imdsState({ mode: 500, assigned: [CLIENT] });
    try {
      await compare('IMDS answers 500', { imds: 500 }, ['identity-probes'], { 'identity-probes': 'fail: token timed out' });
      // NMI's own answer once adal has given up (5 tries, 2+6+14+30+60 s apart), and the stand-in's, side by side.
      const [real, mock] = await bothCurl(`&client_id=${CLIENT}`, 150);
      console.log(`IMDS answering 500, a token request through NMI: real after ${real.s} s: ${real.out} ${real.err}; stand-in after ${mock.s} s: ${mock.out} ${mock.err}`);
      table.push(`| IMDS answers 500 | a token request bounded at 150 s | ${curlKind(real)} after ${real.s} s | ${curlKind(mock)} after ${mock.s} s | ${curlKind(real) === curlKind(mock) ? 'same' : '**differs**'} |`);
      expect(curlKind(real)).toBe('HTTP 403');
      expect(curlKind(mock)).toBe(curlKind(real));
      expect(real.out).toMatch(/adal: Refresh request failed\. Status Code = '500'/);
      expect(mock.out).toMatch(/adal: Refresh request failed\. Status Code = '500'/);
      expect(Math.abs(mock.s - real.s), 'the stand-in holds as long as adal retries').toBeLessThanOrEqual(10);
    } finally { imdsState({ mode: 'ok', assigned: [CLIENT] }); }
  });

  it('no AzureAssignedIdentity (binding missing, or MIC not done): with NMI\'s default retries the token request outlasts the check; cut to one, 404 with the same text', async () => {
    expect((await cluster.request('DELETE', AAI_PATH)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000));
    await compare('no AzureAssignedIdentity (default NMI retries: 16 x 5 s)', { podIdentities: [] }, ['nmi-probes', 'identity-probes'], { 'nmi-probes': 'pass', 'identity-probes': 'fail: token timed out' });
    // With the retries cut to one, NMI's own answer shows: 404 and its message.
    await stopNmi('SIGKILL');
    await startNmi(['--retry-attempts-for-created=1', '--retry-attempts-for-assigned=1', '--find-identity-retry-interval=1']);
    await compare('no AzureAssignedIdentity (NMI retries cut to 1)', { podIdentities: [], nmiRetryMs: 1000 }, ['identity-probes'], { 'identity-probes': 'fail: token 404' });
    const [real, mock] = await bothCurl('', 10);
    console.log(`no AzureAssignedIdentity, retries cut to 1: real: ${real.out}; stand-in: ${mock.out}`);
    expect(real.out).toMatch(/HTTP 404$/);
    expect(mock.out).toBe(real.out);
    expect((await cluster.create(assignedIdentity())).status).toBe(201);
    await stopNmi('SIGKILL');
    await startNmi();
  });

  it('NMI killed (SIGKILL, a crash): health refused, and token requests refused too (its DNAT rule stays)', async () => {
    await stopNmi('SIGKILL');
    await compare('NMI killed (rule left behind)', { nmi: 'killed' },
      ALL, { 'nmi-probes': 'fail: NMI refused', 'identity-probes': 'fail: NMI refused', 'nmi-init': 'fail: NMI refused', 'identity-init': 'fail: NMI refused' });
    const [real, mock] = await bothCurl('', 5);
    table.push(`| NMI killed (rule left behind) | a token request without the NMI check | ${curlKind(real)} | ${curlKind(mock)} | ${curlKind(real) === curlKind(mock) ? 'same' : '**differs**'} |`);
    expect(curlKind(real), real.err).toBe('curl (7)');
    expect(curlKind(mock), mock.err).toBe(curlKind(real));
  });

  it('NMI starting (iptables not set yet: Not Active), then Active once its rule is in', async () => {
    await startNmi([], true);
    await compare('NMI starting, rule not yet set (Not Active)', { nmi: 'not-active' },
      ['nmi-probes', 'identity-probes'], { 'nmi-probes': 'fail: NMI not active', 'identity-probes': 'fail: NMI not active' });
    lockHolder!.kill('SIGKILL');
    await eventually('NMI Active after the lock is released', 30_000,
      async () => spawnSync('ip', ['netns', 'exec', podNs, 'curl', '-sS', '--max-time', '2', `http://${NODE_IP}:8085/healthz`], { encoding: 'utf8' }).stdout, (b) => b === 'Active');
    try {
      await compare('NMI started', {}, ['nmi-probes', 'identity-probes'], { 'nmi-probes': 'pass', 'identity-probes': 'pass' });
    } catch (e) { throw new Error(`${(e as Error).message}\nNMI's log:\n${nmiLog().slice(-4000)}`); }
  });

  it('NMI shutdown (SIGTERM): for 10 s health still says Active while its rule is gone (tokens come from IMDS directly); then refused', async () => {
    fs.writeFileSync(path.join(cluster.dir, 'imds-requests.jsonl'), '');
    await stopNmi('SIGTERM', false);
    await eventually('NMI removed its chain', 10_000, async () => /handled termination, awaiting pod deletion/.test(nmiLog()), (x) => x)
      .catch((e) => { throw new Error(`${e.message}\n${nmiLog().slice(-2000)}`); });
    const t0 = Date.now();
    await compare('NMI shutting down (first 10 s after SIGTERM)', {}, ['nmi-probes', 'identity-probes'], { 'nmi-probes': 'pass', 'identity-probes': 'pass' },
      async () => expect((await bed.mock.sigterm()).nmi).toBe('terminating'));
    expect(Date.now() - t0).toBeLessThan(9_000);
    expect(imdsLog().some((r) => r.remote === POD_IP)).toBe(true);
    expect((await bed.mock.requests()).filter((r) => r.kind === 'token').at(-1)).toMatchObject({ by: 'imds', status: 200 });
    await new Promise((r) => (nmiProc!.exitCode !== null ? r(null) : nmiProc!.once('exit', r)));
    await compare('NMI gone after SIGTERM (rule removed)', { nmi: 'down' }, ALL,
      { 'nmi-probes': 'fail: NMI refused', 'identity-probes': 'fail: NMI refused', 'nmi-init': 'fail: NMI refused', 'identity-init': 'fail: NMI refused' });
    console.log(`real NMI ${nmi.version} vs the bed's stand-in:\n${table.join('\n')}`);
  });
});
