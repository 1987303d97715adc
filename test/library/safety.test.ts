/**
 * Shell safety: every generated script passes shellcheck, every hostile option value is
 * refused with a clear error, and the one quoting function round-trips any string through a
 * real shell.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STRATEGIES, STRATEGY_IDS, StrategyId } from '../../src';
import { sq } from '../../src/checks/scripts';
import { OptionError } from '../../src/checks/validate';
import type { Container, Probe } from '../../src/pod-template/types';

/** Every script text a plan can put in a manifest. */
function planScripts(id: StrategyId, options: object): string[] {
  const plan = STRATEGIES[id].plan(options);
  const fromContainer = (c: Container) => [c.command?.[2], ...(['readinessProbe', 'livenessProbe', 'startupProbe'] as const).map((k) => (c[k] as Probe | undefined)?.exec?.command[2])];
  const probes = typeof plan.target.probes === 'function' ? {} : plan.target.probes;
  return [
    ...plan.initContainers.flatMap(fromContainer),
    ...(plan.sidecar ? fromContainer(plan.sidecar) : []),
    ...Object.values(probes).map((p) => p?.exec?.command[2]),
    ...Object.values(plan.podAnnotations),
  ].filter((s): s is string => typeof s === 'string');
}

const ID = '11111111-2222-3333-4444-555555555555';
const MI = '/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders';
const VARIANTS: object[] = [{}, { clientId: ID }, { miResId: MI }, { checkNmi: false }, { clientId: ID, verifyIdentity: false }, { nmiPort: 9085, resource: 'https://vault.azure.net' }];

function matrix(): Array<{ label: string; script: string }> {
  const out = new Map<string, string>();
  for (const id of STRATEGY_IDS) {
    const s = STRATEGIES[id];
    const clients = s.placement === 'app' ? [undefined] : s.id === 'identity-init' ? ['curl', 'wget', 'az'] : ['curl', 'wget'];
    for (const client of clients) {
      for (const v of s.checks === 'identity' ? VARIANTS : [{}]) {
        const options = { ...v, ...(client ? { client } : {}) };
        for (const script of planScripts(id, options)) out.set(script, `${id} ${JSON.stringify(options)}`);
      }
    }
  }
  return [...out].map(([script, label]) => ({ label, script }));
}

function shellcheck(script: string): string {
  try {
    execFileSync('shellcheck', ['-s', 'sh', '-'], { input: script, stdio: 'pipe' });
    return '';
  } catch (e: any) {
    if (e.code === 'ENOENT') throw new Error('shellcheck is missing: "npm test" installs it (scripts/test.sh), or apt-get install shellcheck');
    return String(e.stdout);
  }
}

describe('generated scripts', () => {
  const scripts = matrix();

  it('cover every strategy, client and identity variant', () => {
    expect(scripts.length).toBeGreaterThanOrEqual(30);
  });

  it.each(scripts.map((s) => [s.label, s.script]))('%s passes shellcheck -s sh', (_label, script) => {
    expect(shellcheck(script)).toBe('');
  });

  it('parse in dash and BusyBox sh', () => {
    for (const { label, script } of scripts) {
      for (const shell of [['dash', '-n'], ['busybox', 'sh', '-n']]) {
        expect(() => execFileSync(shell[0], [...shell.slice(1), '-c', script], { stdio: 'pipe' }), `${shell.join(' ')}: ${label}`).not.toThrow();
      }
    }
  });
});

describe('hostile option values are refused with an error naming the option', () => {
  const cases: Array<[StrategyId, object, RegExp]> = [
    ['identity-probes', { resource: "x' ; touch /tmp/pwned ; '" }, /invalid resource .*expected an https:\/\/ resource URI/],
    ['nmi-probes', { nmiPort: '80; id' }, /invalid nmiPort "80; id": expected an integer port/],
    ['identity-init', { clientId: '$(reboot)' }, /invalid clientId/],
    ['identity-init', { objectId: "'; rm -rf / #" }, /invalid objectId .*NMI never reads object_id/],
    ['identity-init', { miResId: '/subscriptions/x;id' }, /invalid miResId/],
    ['identity-init', { apiVersion: '2018-02-01&x=`id`' }, /invalid apiVersion/],
    ['nmi-init', { image: 'busybox; curl evil' }, /invalid image/],
    ['nmi-probes', { sidecarImage: 'a b' }, /invalid sidecarImage/],
    ['nmi-init', { podIdentityBinding: 'x"y' }, /invalid podIdentityBinding/],
    ['nmi-probes', { containers: ['app;id'] }, /invalid containers\[0\]/],
    ['nmi-app-check', { readinessPath: '/ready?$(id)' }, /invalid readinessPath/],
    ['nmi-app-check', { port: 'http; id' }, /invalid port/],
    ['nmi-init', { resources: { cpuLimit: '1; id' } }, /invalid resources.cpuLimit/],
    ['nmi-init', { deadline: '300; id' }, /invalid deadline .*whole seconds/],
    ['nmi-init', { client: 'curl; id' }, /invalid client .*one of curl, wget/],
    ['nmi-probes', { onConflict: 'overwrite' }, /invalid onConflict .*one of error, skip, sidecar/],
    ['nmi-probes', { readiness: { failureThreshold: 0 } }, /invalid readiness.failureThreshold/],
    ['identity-probes', { clientId: ID, miResId: MI }, /at most one identity selector/],
  ];
  it.each(cases)('%s %j', (id, options, message) => {
    expect(() => STRATEGIES[id].plan(options)).toThrow(OptionError);
    expect(() => STRATEGIES[id].plan(options)).toThrow(message);
  });

  // Characters that mean something to sh; no option may carry them into a script.
  const META = [...`'"\`$;|&<>\n\\ *?#!{}`];
  const hostile = fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom(...META), fc.string({ maxLength: 20 })).map(([a, m, b]) => a + m + b);
  const STRING_OPTIONS: Array<[StrategyId, (s: string) => object]> = [
    ['identity-probes', (s) => ({ resource: `https://vault.azure.net/${s}` })],
    ['identity-probes', (s) => ({ clientId: s })],
    ['identity-probes', (s) => ({ miResId: `${MI}${s}` })],
    ['identity-init', (s) => ({ apiVersion: `2018-02-01${s}` })],
    ['identity-init', (s) => ({ image: `curlimages/curl:${s}` })],
    ['nmi-init', (s) => ({ podIdentityBinding: `id${s}` })],
    ['nmi-probes', (s) => ({ containers: [s] })],
    ['nmi-app-check', (s) => ({ livenessPath: `/livez${s}` })],
    ['nmi-app-check', (s) => ({ port: s })],
  ];
  it.each(STRING_OPTIONS.map(([id, f], i) => [i, id, f] as const))('property %i (%s): any value with a shell metacharacter is refused', (_i, id, f) => {
    fc.assert(fc.property(hostile, (s) => {
      expect(() => STRATEGIES[id].plan(f(s))).toThrow(OptionError);
    }), { numRuns: 300 });
  });
});

describe('sq, the one quoting function', () => {
  it('round-trips any string through dash unchanged', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0')), (s) => {
      const out = execFileSync('dash', ['-c', `printf '%s' ${sq(s)}`]).toString();
      expect(out).toBe(s);
    }), { numRuns: 150 });
  });
});
