/** HOST_IP can be IPv6 (dual-stack or IPv6 clusters): the NMI URL needs brackets. Run against the mock on [::1]. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStrategy } from '../../src';
import { Mock, startMock } from '../bed/bed';
import { probeScriptOf } from './helpers';

describe('IPv6 HOST_IP', () => {
  let mock: Mock;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-v6-'));
  beforeAll(async () => { mock = await startMock({ nmi: '[::1]:0', imds: '127.0.0.1:0' }); });
  afterAll(async () => { await mock?.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

  function probe(shell: string[]): { code: number; out: string } {
    const script = probeScriptOf(getStrategy('nmi-probes').plan({ nmiPort: mock.nmiPort }));
    const state = fs.mkdtempSync(path.join(dir, 'state-'));
    fs.mkdirSync('/var/run/identity-health', { recursive: true });
    try {
      const out = execFileSync('unshare', ['-m', 'sh', '-c', 'mount --bind "$1" /var/run/identity-health && shift && exec "$@"', 'x', state, ...shell, '-c', script, 'identity-health', 'readiness'],
        { env: { PATH: process.env.PATH!, HOST_IP: '::1' }, stdio: 'pipe' });
      return { code: 0, out: out.toString() };
    } catch (e: any) { return { code: e.status, out: String(e.stdout) + String(e.stderr) }; }
  }

  it.each([['dash'], ['busybox', 'sh']])('%s: the NMI check reaches http://[::1]:port/healthz and compares the body', async (...shell) => {
    expect(probe(shell)).toEqual({ code: 0, out: '' });
    await mock.set({ nmi: 'not-active' });
    const r = probe(shell);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`NMI at http://[::1]:${mock.nmiPort}/healthz is not active (body: Not Active)`);
    await mock.set({ nmi: 'active' });
  });
});
