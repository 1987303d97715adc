/**
 * A real control plane for the slow suites: etcd and kube-apiserver (built by
 * scripts/slow-setup.d/20-engines-cluster.sh) in a network namespace of their own, so their fixed
 * loopback ports clash with nothing, with certificates and a token generated in a temp dir. The
 * tests reach the API server through a unix socket forwarded into the namespace; components run in
 * the namespace (NMI, the webhook) use the kubeconfig written here. Nothing listens outside it.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { engine, Engine } from '../engines';

export const API_PORT = 6443;
const TOKEN = 'ih-slow-admin-token';

export interface ApiResponse { status: number; body: any }
export interface Cluster {
  readonly netns: string;
  readonly dir: string;
  readonly kubeconfig: string;
  readonly caFile: string;
  readonly versions: Record<string, string>;
  /** One request to the API server (as cluster admin); JSON in, JSON out. */
  request(method: string, urlPath: string, body?: unknown, contentType?: string): Promise<ApiResponse>;
  /** Create a manifest (kind -> REST path), in `namespace` unless cluster-scoped; `dryRun` asks the server to admit without storing. */
  create(doc: any, o?: { namespace?: string; dryRun?: boolean }): Promise<ApiResponse>;
  /** argv prefix that runs a command inside the cluster's namespace. */
  wrap(argv: string[]): string[];
  /** Start a long-running process inside the namespace, its output logged to dir/<name>.log. */
  spawnIn(name: string, argv: string[], env?: Record<string, string>): ChildProcess;
  /** A serving certificate signed by the cluster CA for 127.0.0.1/localhost: [cert, key] paths. */
  issueCert(name: string): [string, string];
  stop(): Promise<void>;
}

const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
  'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ClusterRole', 'ClusterRoleBinding']);

/** The REST collection path of a manifest's kind. */
export function collectionPath(doc: any, namespace = 'default'): string {
  const [group, version] = String(doc.apiVersion).includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion];
  const kind = String(doc.kind).toLowerCase();
  const plural = kind.endsWith('y') ? `${kind.slice(0, -1)}ies` : `${kind}s`;
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const ns = doc.metadata?.namespace ?? namespace;
  return CLUSTER_SCOPED.has(doc.kind) ? `${base}/${plural}` : `${base}/namespaces/${ns}/${plural}`;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

let counter = 0;

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>, proc?: ChildProcess, log?: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (proc && proc.exitCode !== null) break;
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = log && fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').slice(-30).join('\n') : '';
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s${proc?.exitCode != null ? ` (exited ${proc.exitCode})` : ''}\n${tail}`);
}

/** Remove namespaces left by test processes that died without cleaning up (ihk8s-<pid>-<n>[-pod]). */
function removeOrphanNamespaces(): void {
  for (const n of execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' }).toString().split('\n').map((l) => l.split(' ')[0])) {
    const pid = /^ihk8s-(\d+)-\d+(?:-pod)?$/.exec(n)?.[1];
    if (!pid || Number(pid) === process.pid || fs.existsSync(`/proc/${pid}`)) continue;
    try { execFileSync('ip', ['netns', 'del', n], { stdio: 'pipe' }); } catch { /* removed meanwhile */ }
  }
}

export async function startCluster(): Promise<Cluster> {
  if (process.getuid?.() !== 0) throw new Error('the cluster suites need root (ip netns)');
  removeOrphanNamespaces();
  const etcd: Engine = engine('etcd');
  const apiserver: Engine = engine('kube-apiserver');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-cluster-'));
  const netns = `ihk8s-${process.pid}-${counter++}`;
  execFileSync('ip', ['netns', 'add', netns]);
  execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  const wrap = (argv: string[]) => ['ip', 'netns', 'exec', netns, ...argv];
  const procs: ChildProcess[] = [];
  const spawnIn = (name: string, argv: string[], env: Record<string, string> = {}) => {
    const out = fs.openSync(path.join(dir, `${name}.log`), 'a');
    const [cmd, ...args] = wrap(argv);
    const p = spawn(cmd, args, { stdio: ['ignore', out, out], env: { ...process.env, ...env } });
    fs.closeSync(out);
    procs.push(p);
    return p;
  };
  const stop = async () => {
    for (const p of procs.reverse()) {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGTERM');
        await new Promise((r) => { const t = setTimeout(() => { p.kill('SIGKILL'); r(null); }, 10_000); p.once('exit', () => { clearTimeout(t); r(null); }); });
      }
    }
    try { execFileSync('ip', ['netns', 'del', netns], { stdio: 'pipe' }); } catch { /* already gone */ }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Certificates: a CA, the API server's serving cert, the service account signing key (EC P-256: quick to make).
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=identity-health-test-ca', '-days', '2']);
    const issueCert = (name: string): [string, string] => {
      fs.writeFileSync(path.join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      openssl(dir, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
      openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
        '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
      return [path.join(dir, `${name}.crt`), path.join(dir, `${name}.key`)];
    };
    const [crt, key] = issueCert('kube-apiserver');
    openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key']);
    openssl(dir, ['ec', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
    fs.writeFileSync(path.join(dir, 'tokens.csv'), `${TOKEN},admin,admin,system:masters\n`);
    const caFile = path.join(dir, 'ca.crt');
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: test',
      `clusters: [{name: test, cluster: {server: "https://127.0.0.1:${API_PORT}", certificate-authority: "${caFile}"}}]`,
      `users: [{name: admin, user: {token: "${TOKEN}"}}]`,
      'contexts: [{name: test, context: {cluster: test, user: admin}}]', '',
    ].join('\n'));

    const etcdProc = spawnIn('etcd', [etcd.bin, '--data-dir', path.join(dir, 'etcd'), '--name', 'default',
      '--listen-client-urls', 'http://127.0.0.1:2379', '--advertise-client-urls', 'http://127.0.0.1:2379',
      '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
      '--initial-cluster', 'default=http://127.0.0.1:2380', '--unsafe-no-fsync', '--log-level', 'warn']);
    const apiProc = spawnIn('kube-apiserver', [apiserver.bin, '--etcd-servers', 'http://127.0.0.1:2379',
      '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1', '--secure-port', String(API_PORT),
      '--tls-cert-file', crt, '--tls-private-key-file', key, '--client-ca-file', caFile,
      '--token-auth-file', path.join(dir, 'tokens.csv'), '--authorization-mode', 'RBAC',
      '--service-account-key-file', path.join(dir, 'sa.pub'), '--service-account-signing-key-file', path.join(dir, 'sa.key'),
      '--service-account-issuer', 'https://kubernetes.default.svc.cluster.local', '--api-audiences', 'https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range', '10.96.0.0/16', '--cert-dir', path.join(dir, 'certs'), '--profiling=false']);

    // The tests' way in: a unix socket in dir, forwarded to the API server inside the namespace.
    const sock = path.join(dir, 'api.sock');
    spawnIn('api-forwarder', [process.execPath, '-e',
      `const net=require('net');net.createServer((s)=>{const c=net.connect(${API_PORT},'127.0.0.1');s.pipe(c);c.pipe(s);` +
      `s.on('error',()=>c.destroy());c.on('error',()=>s.destroy());}).listen(process.argv[1]);`, sock]);
    const ca = fs.readFileSync(caFile);
    const request = (method: string, urlPath: string, body?: unknown, contentType = 'application/json') => new Promise<ApiResponse>((resolve, reject) => {
      const req = https.request({ socketPath: sock, servername: 'localhost', ca, method, path: urlPath, timeout: 30_000,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': contentType, accept: 'application/json' } }, (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => {
          let parsed: unknown = data;
          try { parsed = JSON.parse(data); } catch { /* text (healthz) */ }
          resolve({ status: res.statusCode!, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer within 30 s`)));
      req.on('error', reject);
      req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
    });
    await waitFor('etcd', 60_000, async () => (await fetchLocalEtcd(wrap)), etcdProc, path.join(dir, 'etcd.log'));
    await waitFor('kube-apiserver', 180_000, async () => (await request('GET', '/readyz')).status === 200, apiProc, path.join(dir, 'kube-apiserver.log'));
    const create = (doc: any, o: { namespace?: string; dryRun?: boolean } = {}) =>
      request('POST', `${collectionPath(doc, o.namespace)}${o.dryRun ? '?dryRun=All' : ''}`, doc);
    const version = (await request('GET', '/version')).body;
    return {
      netns, dir, kubeconfig, caFile, request, create, wrap, spawnIn, issueCert, stop,
      versions: { 'kube-apiserver': `${apiserver.version} (server reports ${version.gitVersion})`, etcd: etcd.version },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** etcd's /health, asked from inside the namespace (curl is on every machine these suites run on). */
async function fetchLocalEtcd(wrap: (a: string[]) => string[]): Promise<boolean> {
  const [cmd, ...args] = wrap(['curl', '-fsS', '--max-time', '2', 'http://127.0.0.1:2379/health']);
  try { return execFileSync(cmd, args, { stdio: 'pipe' }).toString().includes('"health":"true"'); } catch { return false; }
}

/** Poll until `ok` holds (bounded): for informer-driven server behaviour (a new policy, a webhook). */
export async function eventually<T>(what: string, timeoutMs: number, f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T = await f();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`${what}: not reached within ${timeoutMs / 1000} s; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await f();
  }
  return last;
}
