/**
 * Starts the built example service (lib/examples/health-service/server.js) as a child process on
 * loopback, pointed at a mock NMI/IMDS (test/bed). `npm test` builds first; run `npx tsc -p .`
 * before running this folder alone.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Mock } from '../bed/bed';

export const SERVER = path.join(__dirname, '../../lib/examples/health-service/server.js');

export interface Service {
  readonly url: string;
  /** Everything the service printed so far. */
  output(): string;
  get(p: string): Promise<{ status: number; body: any; ms: number }>;
  stop(): Promise<void>;
}

/** Env that points the service at the mock: HOST_IP on loopback, the mock's ports. */
export function mockEnv(mock: Mock): Record<string, string> {
  return {
    HOST_IP: '127.0.0.1',
    IDENTITY_HEALTH_NMI_PORT: String(mock.nmiPort),
    IDENTITY_HEALTH_IMDS_ENDPOINT: `http://127.0.0.1:${mock.imdsPort}`,
  };
}

export async function startService(env: Record<string, string>): Promise<Service> {
  if (!fs.existsSync(SERVER)) throw new Error(`${SERVER} is missing: build first (npx tsc -p .)`);
  // Only what the test gives, plus PATH: no IDENTITY_HEALTH_* leaks in from the caller's env.
  const child: ChildProcess = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start within 5 s:\n${out}`)), 5000);
    const onData = () => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`service exited (${code}):\n${out}`)); });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    output: () => out,
    async get(p) {
      const t0 = Date.now();
      const res = await fetch(url + p, { signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      let body: any = text;
      try { body = JSON.parse(text); } catch { /* plain text */ }
      return { status: res.status, body, ms: Date.now() - t0 };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A proxy that accepts connections and never answers (a black hole), and the env that points
 * every proxy variable at it (as AKS's HTTP proxy feature injects http_proxy/HTTPS_PROXY into
 * pods; NODE_USE_ENV_PROXY makes newer Node honour them). A check that used it would hang.
 */
export async function startBlackHoleProxy(): Promise<{ env: Record<string, string>; connections(): number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((s) => { count++; sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => undefined); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const env = { http_proxy: url, HTTP_PROXY: url, https_proxy: url, HTTPS_PROXY: url, all_proxy: url, ALL_PROXY: url, NODE_USE_ENV_PROXY: '1' };
  return {
    env,
    connections: () => count,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * Kubelet-like probe traffic, much faster: readiness and liveness concurrently every 50 ms for
 * `ms`; every answer must be 200. Returns how many probe requests were made.
 */
export async function driveHealthyProbes(s: Service, ms: number): Promise<number> {
  const t0 = Date.now();
  let probes = 0;
  while (Date.now() - t0 < ms) {
    const [a, b] = await Promise.all([s.get('/readyz'), s.get('/livez')]);
    if (a.status !== 200 || b.status !== 200) throw new Error(`probe answered ${a.status}/${b.status}: ${JSON.stringify([a.body, b.body])}`);
    probes += 2;
    await sleep(50);
  }
  return probes;
}
