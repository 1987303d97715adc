/**
 * Helm 3 and Helm 4 (built by scripts/slow-setup.d/10-engines-pipelines.sh) with `identity-health
 * apply -` as the documented post-renderer (docs/pipelines.md): an executable in Helm 3, a plugin of
 * type postrenderer/v1 in Helm 4. `helm template` and `helm install --dry-run=client` (no cluster)
 * on a chart made by `helm create` (plus a pre-install hook Job) and on the corpus wrapped as a chart.
 */
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { CLI, CORPUS, CORPUS_FILES, docs, isWorkload } from '../../cli/helpers';
import { engine, type Engine } from '../engines';
import { key, runEngine, tempDir, templateOf, yamlStream } from './helpers';

const CLIENT_ID = '6e1e2d3c-0000-4000-8000-00000000abcd';
/** The flags of the documented wrapper script. */
const FLAGS = ['--strategy', 'identity-probes', '--on-conflict', 'sidecar', '--client-id', CLIENT_ID];
const STRATEGY_ANNOTATION = 'identity-health.io/strategies';
const isHook = (d: any) => Boolean(d?.metadata?.annotations?.['helm.sh/hook']);

/** The documented wrapper: `exec npx --no-install identity-health apply --quiet <flags> -`, with the built CLI. */
function wrapper(dir: string, flags: string[], twice = false): string {
  const file = path.join(dir, 'identity-health-post-render.sh');
  const apply = `node ${JSON.stringify(CLI)} apply --quiet ${flags.map((f) => `'${f}'`).join(' ')} -`;
  fs.writeFileSync(file, `#!/bin/sh\n${twice ? `${apply} | ${apply}` : `exec ${apply}`}\n`, { mode: 0o755 });
  return file;
}

/** A Helm installation of its own (cache, config, data, plugins), and no cluster. */
function helmHome(): Record<string, string> {
  const home = tempDir('helm-home');
  return {
    HELM_CACHE_HOME: path.join(home, 'cache'), HELM_CONFIG_HOME: path.join(home, 'config'), HELM_DATA_HOME: path.join(home, 'data'),
    HELM_PLUGINS: path.join(home, 'plugins'), KUBECONFIG: path.join(home, 'no-kubeconfig'), HOME: home,
  };
}

interface Helm { e: Engine; major: 3 | 4; env: Record<string, string>; run: (args: string[], cwd?: string) => ReturnType<typeof runEngine> }

/** How each version takes the post-renderer: Helm 3 a path; Helm 4 the name of an installed postrenderer/v1 plugin. */
function postRenderer(h: Helm, flags: string[], twice = false): string[] {
  const dir = tempDir('helm-pr');
  const script = wrapper(dir, flags, twice);
  if (h.major === 3) return ['--post-renderer', script];
  const name = `identity-health-${path.basename(dir).replace(/[^a-z0-9]/gi, '').toLowerCase()}`;
  fs.writeFileSync(path.join(dir, 'plugin.yaml'), YAML.stringify({
    apiVersion: 'v1', type: 'postrenderer/v1', name, version: '0.1.0', runtime: 'subprocess',
    runtimeConfig: { platformCommand: [{ command: '${HELM_PLUGIN_DIR}/identity-health-post-render.sh' }] },
  }));
  const inst = h.run(['plugin', 'install', dir]);
  expect(inst.code, inst.stderr).toBe(0);
  return ['--post-renderer', name];
}

/** `helm create web`, plus a pre-install hook Job (to see what each version passes to the post-renderer). */
function createdChart(h: Helm): string {
  const dir = tempDir('helm-chart');
  const r = h.run(['create', 'web'], dir);
  expect(r.code, r.stderr).toBe(0);
  fs.writeFileSync(path.join(dir, 'web', 'templates', 'migrate-job.yaml'), YAML.stringify({
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: '{{ include "web.fullname" . }}-migrate', annotations: { 'helm.sh/hook': 'pre-install' } },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'example.azurecr.io/migrate:1.0' }] } } },
  }));
  return path.join(dir, 'web');
}

/** The corpus as a chart: its files as templates. */
function corpusChart(): string {
  const dir = path.join(tempDir('helm-corpus'), 'store');
  fs.mkdirSync(path.join(dir, 'templates'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'Chart.yaml'), YAML.stringify({ apiVersion: 'v2', name: 'store', version: '0.1.0' }));
  for (const f of CORPUS_FILES) fs.copyFileSync(path.join(CORPUS, f), path.join(dir, 'templates', f));
  return dir;
}

const byKey = (ds: any[]) => new Map(ds.filter(Boolean).map((d) => [key(d), d]));

/** `helm install --dry-run=client` output: the HOOKS and MANIFEST sections as documents. */
function dryRunSections(out: string): { hooks: any[]; manifest: any[] } {
  const hooks = /^HOOKS:\n([\s\S]*?)^MANIFEST:\n/m.exec(out)?.[1] ?? '';
  const manifest = /^MANIFEST:\n([\s\S]*?)(?:^NOTES:\n|$(?![\s\S]))/m.exec(out)?.[1];
  expect(manifest, out.slice(0, 2000)).toBeDefined();
  return { hooks: docs(hooks).filter(Boolean), manifest: docs(manifest!).filter(Boolean) };
}

/** What apply gives on the same rendered documents (without post-renderer): the expectation. */
function applied(rendered: any[]): Map<string, any> {
  const { run } = require('../../cli/helpers') as typeof import('../../cli/helpers');
  const r = run(['apply', '-q', ...FLAGS, '-'], { input: yamlStream(rendered) });
  expect(r.code, r.stderr).toBe(0);
  return byKey(docs(r.stdout));
}

describe.each([['helm3', 3], ['helm4', 4]] as const)('%s', (name, major) => {
  const e = engine(name);
  const env = helmHome();
  const h: Helm = { e, major, env, run: (args, cwd) => runEngine(e, args, { env, cwd }) };
  const v = h.run(['version', '--short']);
  console.log(`${name}: ${e.version} (helm version --short: ${v.stdout.trim()})`);

  it('prints the pinned version', () => {
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toMatch(new RegExp(`^${e.version.replace(/\./g, '\\.')}\\b`));
  });

  for (const [chartName, makeChart] of [['helm create', createdChart], ['corpus chart', corpusChart]] as const) {
    it(`${chartName}: helm template and helm install --dry-run=client with the post-renderer equal apply; hooks as the version passes them`, () => {
      const chart = makeChart(h);
      const pr = postRenderer(h, FLAGS);
      const plain = h.run(['template', 'web', chart]);
      expect(plain.code, plain.stderr).toBe(0);
      const rendered = docs(plain.stdout).filter(Boolean);
      const want = applied(rendered);
      const before = byKey(rendered);

      const t = h.run(['template', 'web', chart, ...pr]);
      expect(t.code, t.stderr).toBe(0);
      const got = docs(t.stdout).filter(Boolean);
      expect(got.length).toBe(rendered.length);
      for (const d of got) {
        // Helm 3 never passes hooks to a post-renderer; Helm 4 passes them with the templates (its default "combined" strategy).
        const expected = isHook(d) && major === 3 ? before.get(key(d)) : want.get(key(d));
        expect(d, key(d)).toEqual(expected);
      }
      expect(got.filter((d) => isWorkload(d) && !isHook(d)).every((d) => templateOf(d).metadata.annotations?.[STRATEGY_ANNOTATION] === 'identity-probes')).toBe(true);

      const i = h.run(['install', 'web', chart, '--dry-run=client', ...pr]);
      expect(i.code, i.stderr).toBe(0);
      const { hooks, manifest } = dryRunSections(i.stdout);
      for (const d of manifest) expect(d, `install ${key(d)}`).toEqual(want.get(key(d)));
      for (const d of hooks) expect(d, `install hook ${key(d)}`).toEqual(major === 3 ? before.get(key(d)) : want.get(key(d)));
      const hookWorkloads = hooks.filter(isWorkload);
      if (chartName === 'helm create') {
        expect(hookWorkloads.map((d) => `${d.kind} ${d.metadata.name}`).sort()).toEqual(['Job web-migrate', 'Pod web-test-connection']);
        console.log(`${name} ${e.version}: hooks post-rendered: ${hookWorkloads.map((d) => `${d.kind} ${d.metadata.name} ${templateOf(d).metadata?.annotations?.[STRATEGY_ANNOTATION] ? 'changed' : 'unchanged'}`).join(', ')}`);
      }
    });
  }

  it('idempotent: post-rendering twice (apply | apply as the post-renderer) gives the bytes of once, and the output is a fixed point', () => {
    const chart = createdChart(h);
    const once = h.run(['template', 'web', chart, ...postRenderer(h, FLAGS)]);
    const twice = h.run(['template', 'web', chart, ...postRenderer(h, FLAGS, true)]);
    expect(once.code, once.stderr).toBe(0);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stdout).toBe(once.stdout);
    const { run } = require('../../cli/helpers') as typeof import('../../cli/helpers');
    const again = run(['apply', '-q', ...FLAGS, '-'], { input: once.stdout });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(once.stdout);
  });

  it('a conflict fails Helm: what the user sees', () => {
    const chart = createdChart(h);
    // helm create's Deployment has httpGet readiness and liveness probes: nmi-probes without --on-conflict stops.
    const pr = postRenderer(h, ['--strategy', 'nmi-probes']);
    for (const args of [['template', 'web', chart, ...pr], ['install', 'web', chart, '--dry-run=client', ...pr]]) {
      const r = h.run(args);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      console.log(`${name} ${e.version} ${args[0]}, conflict, stderr:\n${r.stderr}`);
      if (major === 3) {
        expect(r.stderr).toMatch(/Error: error while running post render on files: error while running command .*identity-health-post-render\.sh\. error output:/);
        expect(r.stderr).toMatch(/Deployment web: container "web" already has a readinessProbe/);
      } else {
        // Helm 4 reads a plugin's stderr into a buffer it never shows: only the plugin's name reaches the user.
        expect(r.stderr).toMatch(/Error: error while running post render on files: failed to invoke post-renderer plugin "identity-health-\w+": plugin "identity-health-\w+" exited with error/);
        expect(r.stderr).not.toMatch(/already has a readinessProbe/);
      }
    }
  });
});
