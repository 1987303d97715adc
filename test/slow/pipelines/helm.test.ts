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
import { CLI, CORPUS, CORPUS_FILES, docs, isWorkload, run } from '../../cli/helpers';
import { engine, type Engine } from '../engines';
import { byKey, key, runEngine, tempDir, templateOf, yamlStream } from './helpers';

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

/**
 * A Helm installation of its own (cache, config, data), and no cluster. Plugins stay in the default
 * $HELM_DATA_HOME/plugins: Helm 4.3.2's `plugin install` writes there even when HELM_PLUGINS names
 * another directory, where `--post-renderer` then looks and finds nothing.
 */
function helmHome(): Record<string, string> {
  const home = tempDir('helm-home');
  return {
    HELM_CACHE_HOME: path.join(home, 'cache'), HELM_CONFIG_HOME: path.join(home, 'config'), HELM_DATA_HOME: path.join(home, 'data'),
    KUBECONFIG: path.join(home, 'no-kubeconfig'), HOME: home,
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


/** `helm install --dry-run=client` output: the HOOKS and MANIFEST sections as documents. */
function dryRunSections(out: string): { hooks: any[]; manifest: any[] } {
  const hooks = /^HOOKS:\n([\s\S]*?)^MANIFEST:\n/m.exec(out)?.[1] ?? '';
  const manifest = /^MANIFEST:\n([\s\S]*?)(?:^NOTES:\n|$(?![\s\S]))/m.exec(out)?.[1];
  expect(manifest, out.slice(0, 2000)).toBeDefined();
  return { hooks: docs(hooks).filter(Boolean), manifest: docs(manifest!).filter(Boolean) };
}

/** What apply gives on the same rendered documents (without post-renderer): the expectation. */
function applied(rendered: any[]): Map<string, any> {
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
      if (chartName === 'helm create') {
        // The test Pod and our pre-install Job: unchanged in Helm 3, given the check in Helm 4.
        const hooks = got.filter((d) => isHook(d) && isWorkload(d));
        expect(hooks.map((d) => `${d.kind} ${d.metadata.name}`).sort()).toEqual(['Job web-migrate', 'Pod web-test-connection']);
        expect(hooks.map((d) => Boolean(templateOf(d).metadata?.annotations?.[STRATEGY_ANNOTATION]))).toEqual([major === 4, major === 4]);
        console.log(`${name} ${e.version}: hooks ${major === 4 ? 'post-rendered (the check added)' : 'not passed to the post-renderer (unchanged)'}: ${hooks.map((d) => `${d.kind} ${d.metadata.name}`).join(', ')}`);
      }

      const i = h.run(['install', 'web', chart, '--dry-run=client', ...pr]);
      if (major === 3) {
        // Helm 3.22.0 checks that the cluster is reachable before any dry run, --dry-run=client included
        // (pkg/action/install.go: IsReachable unless ClientOnly, which only `helm template` sets).
        expect(i.code).not.toBe(0);
        expect(i.stderr).toMatch(/^Error: INSTALLATION FAILED: Kubernetes cluster unreachable/);
        return;
      }
      expect(i.code, i.stderr).toBe(0);
      const { hooks, manifest } = dryRunSections(i.stdout);
      for (const d of manifest) expect(d, `install ${key(d)}`).toEqual(want.get(key(d)));
      // Helm 4 passes hooks to the post-renderer with the templates (its default "combined" strategy).
      for (const d of hooks) expect(d, `install hook ${key(d)}`).toEqual(want.get(key(d)));
      if (chartName === 'helm create') {
        const hookWorkloads = hooks.filter(isWorkload);
        expect(hookWorkloads.map((d) => `${d.kind} ${d.metadata.name}`).sort()).toEqual(['Job web-migrate', 'Pod web-test-connection']);
        expect(hookWorkloads.every((d) => templateOf(d).metadata?.annotations?.[STRATEGY_ANNOTATION] === 'identity-probes')).toBe(true);
      }
    });
  }

  it('idempotent: post-rendering twice (apply | apply as the post-renderer) gives the bytes of once; what it rendered is a fixed point of apply', () => {
    const chart = createdChart(h);
    const once = h.run(['template', 'web', chart, ...postRenderer(h, FLAGS)]);
    const twice = h.run(['template', 'web', chart, ...postRenderer(h, FLAGS, true)]);
    expect(once.code, once.stderr).toBe(0);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stdout).toBe(once.stdout);
    const again = run(['apply', '-q', ...FLAGS, '-'], { input: once.stdout });
    expect(again.code, again.stderr).toBe(0);
    if (major === 4) expect(again.stdout).toBe(once.stdout);
    else {
      // Helm 3 prints the hooks it did not post-render: apply would still change those, and only those.
      const [a, o] = [docs(again.stdout), docs(once.stdout)];
      expect(a.filter((d) => !isHook(d))).toEqual(o.filter((d) => !isHook(d)));
      expect(a.filter(isHook)).not.toEqual(o.filter(isHook));
    }
  });

  it('a conflict fails Helm: what the user sees', () => {
    const chart = createdChart(h);
    // helm create's Deployment has httpGet readiness and liveness probes: nmi-probes without --on-conflict stops.
    const pr = postRenderer(h, ['--strategy', 'nmi-probes']);
    const commands = [['template', 'web', chart, ...pr], ...(major === 4 ? [['install', 'web', chart, '--dry-run=client', ...pr]] : [])];
    for (const args of commands) {
      const r = h.run(args);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      console.log(`${name} ${e.version} ${args[0]}, conflict, stderr:\n${r.stderr}`);
      if (major === 3) {
        expect(r.stderr).toMatch(/^Error: error while running post render on files: error while running command .*identity-health-post-render\.sh\. error output:\nidentity-health: 1 workload could not take nmi-probes; nothing written:\n {2}<stdin>:\d+: Deployment web: container "web" already has a readinessProbe/);
        expect(r.stderr).toMatch(/--on-conflict sidecar/);
      } else {
        // Helm 4 reads a plugin's stderr into a buffer it never shows: only the plugin's name reaches the user.
        expect(r.stderr).toMatch(/^Error: (INSTALLATION FAILED: )?error while running post render on files: failed to invoke post-renderer plugin "identity-health-\w+": plugin "identity-health-\w+" exited with error/);
        expect(r.stderr).not.toMatch(/already has a readinessProbe/);
      }
    }
  });
});
