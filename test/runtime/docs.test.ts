/**
 * The server example in docs/runtime.md runs as written (through the package's own
 * `cdk8s-identity-health/runtime` export), only its port changed and its `db` stubbed; so does
 * the app's-own-credential example, with @azure/identity's WorkloadIdentityCredential against the
 * AAD stand-in (only instance discovery turned off: the stand-in is not a known authority).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Mock, startMock } from '../bed/bed';
import { mockEnv, sleep } from './service';
import { federatedToken, selfSignedCert, startAad, tokenDir, webhookEnv } from './aad';

const ROOT = path.join(__dirname, '../..');
let mock: Mock;
beforeAll(async () => { mock = await startMock({ nmi: '127.0.0.1:0', imds: '127.0.0.1:0' }); });
afterAll(async () => { await mock?.stop(); });

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

it('the README server example is at most 10 lines of code and answers /readyz, /livez and /', async () => {
  const md = fs.readFileSync(path.join(ROOT, 'docs/runtime.md'), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(md)![1];
  expect(code.split('\n').filter((l) => l.trim() && !l.trim().startsWith('//')).length).toBeLessThanOrEqual(10);
  expect(code).toContain(".listen(8080)");
  const port = await freePort();
  const program = `const db = { ping: () => true };\n${code.replace('.listen(8080)', `.listen(${port}, '127.0.0.1')`)}`;
  const child = spawn(process.execPath, ['-e', program], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...mockEnv(mock) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    let ready: Response | undefined;
    for (let i = 0; i < 50 && !ready; i++) { // up to 5 s for the process to listen
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      if (!ready) await sleep(100);
    }
    expect(ready, out).toBeDefined();
    expect(ready!.status).toBe(200);
    expect(((await ready!.json()) as any).checks.map((c: { name: string }) => c.name)).toEqual(['nmi', 'identity', 'db']);
    expect((await fetch(`http://127.0.0.1:${port}/livez`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello\n');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
  }
});

it('the credential example checks through the app\'s own WorkloadIdentityCredential', async () => {
  const md = fs.readFileSync(path.join(ROOT, 'docs/runtime.md'), 'utf8');
  const code = [...md.matchAll(/```js\n([\s\S]*?)```/g)][1][1];
  expect(code).toContain('const credential = new WorkloadIdentityCredential();');
  expect(code).toContain('createHealthHandlers({ ...fromEnv(), credential })');
  const files = tokenDir();
  const cert = selfSignedCert(files.dir);
  const aad = await startAad({ tls: cert });
  try {
    const program = `${code.replace('new WorkloadIdentityCredential()', 'new WorkloadIdentityCredential({ disableInstanceDiscovery: true })')}
      health.report('readiness').then((r) => console.log(JSON.stringify(r)));`;
    const env = { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: cert.certFile, IDENTITY_HEALTH_CHECK: 'workload-identity', ...webhookEnv(aad, files.write(federatedToken())) };
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', program], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      const timer = setTimeout(() => { child.kill(); reject(new Error(`no report within 20 s: ${text}`)); }, 20_000);
      child.on('exit', () => { clearTimeout(timer); resolve(text); });
    });
    const report = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(report, out).toMatchObject({ ok: true, checks: [{ name: 'workload-identity', ok: true }, { name: 'credential', ok: true }] });
    expect(aad.requests().filter((r) => r.method === 'POST')).toHaveLength(1);
  } finally {
    await aad.stop();
    files.cleanup();
  }
});
