/** Test-side stand-ins for the cluster engines: a strategic-merge emulation of Kyverno's patch, and CEL evaluation of a VAP. */
import { run as cel } from '@bufbuild/cel';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';

export const CORPUS = path.resolve(__dirname, '../../../shared/corpus');
export const CORPUS_FILES = ['aks-store-all-in-one.yaml', 'microservices-demo.yaml'];
export const WORKLOADS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'];

export function corpusWorkloads(): any[] {
  return CORPUS_FILES.flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(CORPUS, f), 'utf8')).map((d) => d.toJS()))
    .filter((d) => d && WORKLOADS.includes(d.kind));
}

export function templateOf(d: any): any {
  return d.kind === 'Pod' ? d : d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template : d.spec.template;
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const plainKey = (k: string) => k.replace(/^\+\((.*)\)$/, '$1');
const strip = (v: any): any => Array.isArray(v) ? v.map(strip) : v && typeof v === 'object'
  ? Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('(')).map(([k, x]) => [plainKey(k), strip(x)])) : v;

/**
 * Kyverno's patchStrategicMerge, as far as our patches use it: maps merge, lists of named items
 * merge by name (new items appended), `+(key)` adds only where absent, a list item with
 * `(name): value` applies only to items with that name ('*': every item) and never adds one.
 */
export function strategicMerge(target: any, patch: any): any {
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('+(')) { const key = plainKey(k); if (target[key] === undefined) target[key] = strip(clone(v)); continue; }
    if (Array.isArray(v) && v.every((x) => x && typeof x === 'object' && ('name' in x || '(name)' in x))) {
      const list: any[] = (target[k] ??= []);
      for (const item of v as any[]) {
        if ('(name)' in item) {
          for (const t of list) if (item['(name)'] === '*' || t.name === item['(name)']) strategicMerge(t, Object.fromEntries(Object.entries(item).filter(([x]) => x !== '(name)')));
          continue;
        }
        const have = list.find((t) => t.name === item.name);
        if (have) strategicMerge(have, item); else list.push(strip(clone(item)));
      }
    } else if (v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object') strategicMerge(target[k], v);
    else target[k] = strip(clone(v));
  }
  return target;
}

/** Kyverno autogen: the Pod rule's patch applied to a controller's pod template. */
export function kyvernoMutate(doc: any, policy: any): any {
  const out = clone(doc);
  strategicMerge(templateOf(out), policy.spec.rules[0].mutate.patchStrategicMerge);
  return out;
}

/** Whether the VAP admits `object` (variables in order, then every validation must be true; an error denies, as failurePolicy Fail). */
export function vapAdmits(policy: any, object: any): { admitted: boolean; failed: string[] } {
  const variables: Record<string, unknown> = {};
  for (const v of policy.spec.variables) {
    const r = cel(v.expression, { object, variables } as any);
    if (r instanceof Error) throw new Error(`variable ${v.name}: ${r.message}`);
    variables[v.name] = r;
  }
  const failed: string[] = [];
  for (const val of policy.spec.validations) {
    const r = cel(val.expression, { object, variables } as any);
    if (r !== true) failed.push(r instanceof Error || (r as any)?.message ? `error: ${(r as any).message}` : val.message);
  }
  return { admitted: failed.length === 0, failed };
}
