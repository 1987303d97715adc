/**
 * The test bed: a network namespace of our own in which 169.254.169.254 and a host IP sit on
 * loopback, with the NMI/IMDS stand-in (mock-identity.mjs) listening inside it. Commands run
 * inside the namespace with `ip netns exec`; the mock is controlled over a unix socket, which
 * the namespace does not isolate. Nothing here ever targets an address outside the namespace.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

/** HOST_IP inside the namespace: a loopback address, so a command run outside it by mistake stays local. */
export const HOST_IP = '127.0.10.4';
export const IMDS_IP = '169.254.169.254';
export const NMI_PORT = 8085;
/** AAD's token endpoint stand-in (AZURE_AUTHORITY_HOST = http://AAD_IP/): another loopback address in the namespace. */
export const AAD_IP = '127.0.10.5';
export const AAD_AUTHORITY_HOST = `http://${AAD_IP}/`;

/** A managed identity as NMI and IMDS see it. */
export interface ManagedIdentity { clientId: string; objectId: string; resourceId: string }

/** The pod's user-assigned identity (the stand-in's default binding; mock-identity.mjs has the same). */
export const POD_MI: ManagedIdentity = {
  clientId: '11111111-1111-1111-1111-111111111111',
  objectId: '22222222-2222-2222-2222-222222222222',
  resourceId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders',
};
/** The node's kubelet identity, also on the VMSS. */
export const NODE_MI: ManagedIdentity = {
  clientId: '99999999-9999-9999-9999-999999999999',
  objectId: '88888888-8888-8888-8888-888888888888',
  resourceId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/MC_rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-agentpool',
};

/** The stand-in's state; every field, its default and the upstream rule behind it: mock-identity.mjs header. */
export interface MockState {
  /** 'down': stopped gracefully (rule removed); 'killed': crashed, its DNAT rule left behind (token connections refused). */
  nmi?: 'active' | 'not-active' | 'down' | 'hang' | 'slow' | 'terminating' | 'killed';
  nmiDelayMs?: number;
  /** Before 1.5: no health endpoint; before 1.8.15: mi_res_id ignored. @default '1.8.17' */
  nmiVersion?: string;
  /** standard: an unmatched request is held for nmiRetryMs, then 404; managed: 404 at once. @default 'standard' */
  nmiMode?: 'standard' | 'managed';
  nmiRetryMs?: number;
  /** NMI's iptables rule: 'auto' = on while nmi is active/slow/hang. @default 'auto' */
  intercept?: 'auto' | boolean;
  /** Identities bound and assigned to the pod. @default [POD_MI] */
  podIdentities?: ManagedIdentity[];
  /** Identities on the node's VMSS (what IMDS can issue). @default [NODE_MI, POD_MI] */
  nodeIdentities?: ManagedIdentity[];
  /** What IMDS itself answers: through NMI a retried status (404/408/410/429/5xx) is held imdsRetryMs (adal: 112 s), then 403. @default 'ok' */
  imds?: 'ok' | number;
  imdsRetryMs?: number;
  /** The pod's namespace/name in NMI's messages. @default 'default/app' */
  pod?: string;
  /** false: NMI cannot match the pod's IP (cannot reach the API server): 500. @default true */
  podInCache?: boolean;
  token?: 'ok' | 'hang' | 'slow' | 'bad-body' | number;
  tokenDelayMs?: number;
  /** v1.0 tokens carry appid, v2.0 azp. @default '1.0' */
  tokenVersion?: '1.0' | '2.0';
  /** Stand-in override (not upstream): every token carries these claims. Prefer podIdentities / nodeIdentities. */
  identity?: { appid?: string; oid?: string } | null;
  /** AAD token endpoint: ok, never answers, or an error status with AAD's body (400 = AADSTS70021, no matching federated identity credential). */
  aad?: 'ok' | 'hang' | 400 | 401 | 429 | 500 | 503;
}
export type RequestKind = 'nmi' | 'token' | 'aad';
export interface MockRequest {
  t: number; at: number; kind: RequestKind; path: string; metadata?: string; query: string;
  /** Token requests: who answered (NMI while its rule intercepts, else IMDS). */
  by?: 'nmi' | 'imds';
  /** HTTP status sent (0: connection reset; absent while unanswered). */
  status?: number;
}

export interface Mock {
  readonly nmiPort: number;
  readonly imdsPort: number;
  set(state: MockState): Promise<MockState>;
  /** NMI gets SIGTERM: rule removed now (nmi 'terminating', still Active), nmi 'down' after windowMs (10 s, as upstream). */
  sigterm(windowMs?: number): Promise<MockState>;
  requests(): Promise<MockRequest[]>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

function control<T>(socketPath: string, method: string, urlPath: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    // A fresh connection per call: a kept-alive one may have been closed by the mock (5 s idle)
    // while a synchronous child process blocked this event loop, and its reuse fails with EPIPE.
    const req = http.request({ socketPath, method, path: urlPath, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(data)) : reject(new Error(`mock control ${urlPath}: ${res.statusCode} ${data}`))));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const MOCK_SCRIPT = path.join(__dirname, 'mock-identity.mjs');

/** Start the mock (inside `netns` when given), listening on `nmi` and `imds` (host:port, port 0 = any). */
export async function startMock(o: { netns?: string; nmi: string; imds: string; aad?: string; state?: MockState }): Promise<Mock> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-mock-'));
  const sock = path.join(dir, 'control.sock');
  const args = [MOCK_SCRIPT, '--nmi', o.nmi, '--imds', o.imds, ...(o.aad ? ['--aad', o.aad] : []), '--control', sock];
  const child: ChildProcess = o.netns
    ? spawn('ip', ['netns', 'exec', o.netns, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const ports = await new Promise<{ nmi: number; imds: number }>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) => reject(new Error(`mock exited early (${code})`)));
    setTimeout(() => reject(new Error('mock did not start within 10 s')), 10_000).unref();
  });
  const mock: Mock = {
    nmiPort: ports.nmi,
    imdsPort: ports.imds,
    set: (s) => control(sock, 'POST', '/state', s),
    sigterm: (windowMs) => control(sock, 'POST', '/sigterm', windowMs === undefined ? {} : { windowMs }),
    requests: () => control(sock, 'GET', '/requests'),
    reset: async () => { await control(sock, 'POST', '/reset'); },
    stop: async () => {
      child.stdin!.end();
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  if (o.state) await mock.set(o.state);
  return mock;
}

export interface Bed {
  readonly netns: string;
  readonly mock: Mock;
  /** argv prefix that runs a command inside the namespace. */
  wrap(argv: string[]): string[];
  stop(): Promise<void>;
}

/** Fail loudly (never skip) when the tools the bed needs are missing: scripts/test.sh installs them. */
export function requireTools(tools: string[]): void {
  const missing = tools.filter((t) => {
    try { execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }); return false; } catch { return true; }
  });
  if (missing.length) throw new Error(`test bed needs ${missing.join(', ')}: run "npm test" (scripts/test.sh installs them) or apt-get install them`);
  if (process.getuid?.() !== 0) throw new Error('test bed needs root for ip netns (CI and the dev machines run as root)');
}

let counter = 0;

/** Remove beds left by test processes that died without cleaning up (named ihbed-<pid>-<n>). */
function removeOrphanBeds(): void {
  const names = execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' }).toString().split('\n').map((l) => l.split(' ')[0]);
  for (const n of names) {
    const pid = /^ihbed-(\d+)-\d+$/.exec(n)?.[1];
    if (!pid || Number(pid) === process.pid || fs.existsSync(`/proc/${pid}`)) continue;
    try { execFileSync('ip', ['netns', 'del', n], { stdio: 'pipe' }); } catch { /* another process removed it */ }
  }
}

/** Create a namespace with lo up, 169.254.169.254, HOST_IP and AAD_IP on lo, and the mock on NMI_PORT, 80 and AAD_IP:80. */
export async function startBed(state?: MockState): Promise<Bed> {
  requireTools(['ip']);
  removeOrphanBeds();
  const netns = `ihbed-${process.pid}-${counter++}`;
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'pipe' });
  ip('netns', 'add', netns);
  try {
    ip('-n', netns, 'link', 'set', 'lo', 'up');
    ip('-n', netns, 'addr', 'add', `${IMDS_IP}/32`, 'dev', 'lo');
    ip('-n', netns, 'addr', 'add', `${HOST_IP}/32`, 'dev', 'lo');
    ip('-n', netns, 'addr', 'add', `${AAD_IP}/32`, 'dev', 'lo');
    const mock = await startMock({ netns, nmi: `${HOST_IP}:${NMI_PORT}`, imds: `${IMDS_IP}:80`, aad: `${AAD_IP}:80`, state });
    return {
      netns, mock,
      wrap: (argv) => ['ip', 'netns', 'exec', netns, ...argv],
      stop: async () => { await mock.stop(); ip('netns', 'del', netns); },
    };
  } catch (e) {
    ip('netns', 'del', netns);
    throw e;
  }
}
