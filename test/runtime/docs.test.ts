/**
 * The server example in docs/runtime.md runs as written (through the package's own
 * `cdk8s-identity-health/runtime` export), only its port changed and its `db` stubbed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Mock, startMock } from '../bed/bed';
import { mockEnv, sleep } from './service';

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
