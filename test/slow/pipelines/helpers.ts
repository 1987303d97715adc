/**
 * Shared by the pipeline suites: the workloads they feed the real engines (the corpus, the synthesized
 * examples in dist/, and small fixtures for the kinds the corpus lacks), and a bounded runner.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { docs, ROOT } from '../../cli/helpers';
import { templateOf } from '../../policy/helpers';
import type { Engine } from '../engines';

export { corpusWorkloads, templateOf, withTemplateLabels } from '../../policy/helpers';

export interface Run { code: number; stdout: string; stderr: string }

/** Runs an engine binary, bounded (a hung engine fails the test instead of hanging the suite). */
export function runEngine(e: Engine | string, args: string[], o: { cwd?: string; input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Run {
  const bin = typeof e === 'string' ? e : e.bin;
  const r = spawnSync(bin, args, {
    cwd: o.cwd, input: o.input ?? '', encoding: 'utf8', maxBuffer: 256 * 2 ** 20, timeout: o.timeoutMs ?? 300_000,
    env: { ...process.env, NO_COLOR: '1', ...o.env },
  });
  if (r.error) throw new Error(`${path.basename(bin)} ${args.join(' ')}: ${r.error.message}`);
  return { code: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export const tempDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `ih-${prefix}-`));

const app = (extra: Record<string, unknown> = {}) => ({
  name: 'app', image: 'example.azurecr.io/app:1.0', ports: [{ containerPort: 8080 }],
  env: [{ name: 'LOG_LEVEL', value: 'info' }], ...extra,
});
const podSpec = (extra: Record<string, unknown> = {}) => ({ containers: [app()], ...extra });

/** The workload kinds the corpus lacks (it has Deployments and StatefulSets only), one each, plus a two-container Pod. */
export function fixtures(): any[] {
  const labels = { app: 'fixture' };
  return [
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec() } } },
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'legacy' }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec() } } },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate' }, spec: { backoffLimit: 2, template: { metadata: { labels }, spec: podSpec({ restartPolicy: 'Never' }) } } },
    { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly' }, spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { metadata: { labels }, spec: podSpec({ restartPolicy: 'OnFailure' }) } } } } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', labels }, spec: podSpec({ initContainers: [{ name: 'setup', image: 'example.azurecr.io/setup:1.0' }] }) },
  ];
}

/** A Pod with two containers, for --containers (the corpus's workloads have one container each). */
export function twoContainerPod(): any {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'two', labels: { app: 'two' } },
    spec: { containers: [app(), { name: 'proxy', image: 'example.azurecr.io/proxy:1.0', ports: [{ containerPort: 9090 }] }] } };
}

/** The synthesized examples (dist/<strategy>.k8s.yaml): every document, workloads and ServiceAccounts. */
export function example(strategy: string): any[] {
  return docs(fs.readFileSync(path.join(ROOT, 'dist', `${strategy}.k8s.yaml`), 'utf8')).filter(Boolean);
}

/** The options main.ts synthesizes each example with, as CLI flags (so policy/apply get the same plan). */
export function exampleFlags(strategy: string): string[] {
  // App checks: the port the example's container has first (a Kyverno patch cannot read it: policy needs --port).
  const port = strategy.endsWith('app-check') ? ['--port', '8080'] : [];
  if (strategy.startsWith('workload-identity')) return ['--client-id', '00000000-0000-0000-0000-000000000000', ...port];
  return ['--pod-identity-binding', 'orders-identity', ...(strategy.startsWith('identity') ? ['--resource', 'https://vault.azure.net'] : []), ...port];
}

export const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

export function withoutProbes(d: any): any {
  const x = clone(d);
  for (const c of templateOf(x).spec.containers) { delete c.readinessProbe; delete c.livenessProbe; delete c.startupProbe; }
  return x;
}

/** Written for YAML 1.1 readers too (Kyverno reads `legacy: yes` as a boolean), as the CLI writes. */
export const yamlStream = (ds: any[]) => ds.map((d) => YAML.stringify(d, { lineWidth: 0, version: '1.1' })).join('---\n');

export const key = (d: any) => `${d.kind}/${d.metadata?.namespace ?? ''}/${d.metadata?.name}`;

/** Documents by resource key (kind/namespace/name). */
export const byKey = (ds: any[]) => new Map<string, any>(ds.filter(Boolean).map((d) => [key(d), d]));
