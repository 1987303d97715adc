/** Runs the built CLI (`node lib/src/cli/main.js`) as a subprocess, as users do. */
import { spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';

export const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'lib/src/cli/main.js');
export const CORPUS = path.resolve(ROOT, '../shared/corpus');
export const CORPUS_FILES = ['aks-store-all-in-one.yaml', 'microservices-demo.yaml'];

export interface Run { code: number; stdout: string; stderr: string }

export function run(args: string[], o: { input?: string; cwd?: string; env?: Record<string, string>; uid?: number } = {}): Run {
  const opts: SpawnSyncOptions = {
    input: o.input ?? '', cwd: o.cwd ?? ROOT, encoding: 'utf8', maxBuffer: 256 * 2 ** 20,
    env: { ...process.env, NO_COLOR: '1', ...o.env },
  };
  if (o.uid !== undefined) Object.assign(opts, { uid: o.uid, gid: o.uid });
  const r = spawnSync(process.execPath, [CLI, ...args], opts);
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export function runShell(script: string, cwd = ROOT): Run {
  const r = spawnSync('sh', ['-c', script], { cwd, encoding: 'utf8', maxBuffer: 256 * 2 ** 20, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A fresh temp dir with copies of the corpus files (the corpus itself is read-only). */
export function tempCorpus(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-cli-'));
  fs.chmodSync(dir, 0o755);
  for (const f of CORPUS_FILES) fs.copyFileSync(path.join(CORPUS, f), path.join(dir, f));
  return dir;
}

export function docs(text: string): any[] {
  return YAML.parseAllDocuments(text).map((d) => d.toJS());
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'];
export const isWorkload = (d: any) => d && WORKLOAD_KINDS.includes(d.kind);

/**
 * `after` keeps everything `before` had: every key with an equal (or, recursively, containing)
 * value; arrays keep their items in order, new items may be inserted anywhere.
 */
export function contains(after: unknown, before: unknown, at = ''): string | undefined {
  if (before === null || typeof before !== 'object') {
    return Object.is(after, before) ? undefined : `${at}: ${JSON.stringify(before)} became ${JSON.stringify(after)}`;
  }
  if (Array.isArray(before)) {
    if (!Array.isArray(after)) return `${at}: array became ${typeof after}`;
    let j = 0;
    for (let i = 0; i < before.length; i++) {
      while (j < after.length && contains(after[j], before[i])) j++;
      if (j >= after.length) return `${at}[${i}]: item lost or changed: ${JSON.stringify(before[i]).slice(0, 200)}`;
      j++;
    }
    return undefined;
  }
  if (typeof after !== 'object' || after === null || Array.isArray(after)) return `${at}: object became ${JSON.stringify(after)}`;
  for (const [k, v] of Object.entries(before)) {
    if (!(k in after)) return `${at}.${k}: removed`;
    const d = contains((after as any)[k], v, `${at}.${k}`);
    if (d) return d;
  }
  return undefined;
}

/** Validates a workload against the Kubernetes JSON schemas (kubernetes-models), independent of cdk8s. */
export function validateK8s(obj: any): void {
  const group = obj.apiVersion.includes('/') ? obj.apiVersion : `v1`;
  const mod = require(`kubernetes-models/${group}`);
  new mod[obj.kind](obj).validate();
}

export function comments(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('#'));
}

/** A new temp dir (mode 755: the tests also run the CLI as another user) holding `files`. */
export function tempFiles(files: Record<string, string | Buffer>, prefix = 'ih-cli-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}
