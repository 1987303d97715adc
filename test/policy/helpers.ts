/**
 * The corpus's workloads, and CEL evaluation of a VAP (@bufbuild/cel). Kyverno itself runs in
 * test/slow/pipelines (the real CLI), which replaced the strategic-merge emulation that was here.
 */
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

/** A copy of `d` whose pod template carries `labels` too. */
export function withTemplateLabels(d: any, labels: Record<string, string>): any {
  const x = JSON.parse(JSON.stringify(d));
  const t = templateOf(x);
  t.metadata = { ...(t.metadata ?? {}), labels: { ...(t.metadata?.labels ?? {}), ...labels } };
  return x;
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
