/** What apply and audit share: input paths, workload filters, and the per-document loop. */
import type { Argv } from 'yargs';
import type { KubeObject } from '../pod-template/types';
import { UsageError } from './errors';
import type { Parsed } from './yaml-io';

export interface GlobalArgs { output?: 'yaml' | 'json'; quiet?: boolean; color?: boolean }
export interface InputArgs extends GlobalArgs { paths?: string[]; kind?: string[]; name?: string[]; selector?: string[]; 'max-input-mb'?: number }

const GROUP = 'Input and selection:';

export function withInputs<T>(y: Argv<T>): Argv<T & InputArgs> {
  return y
    .positional('paths', { type: 'string', array: true, describe: 'files, directories (recursively *.yaml|*.yml) or - for stdin [default: stdin when piped]' })
    .option('kind', { type: 'string', array: true, group: GROUP, describe: 'only these workload kinds (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod)' })
    .option('name', { type: 'string', array: true, group: GROUP, describe: 'only workloads with these names (* wildcards)' })
    .option('selector', { alias: 'l', type: 'string', array: true, group: GROUP, describe: 'only workloads whose labels match, as kubectl: k=v, k!=v, k, !k (comma = and)' })
    .option('max-input-mb', { type: 'number', default: 32, group: GROUP, describe: 'refuse inputs larger than this (MB)' }) as unknown as Argv<T & InputArgs>;
}

/** Paths to read: the arguments, or stdin when it is piped. */
export function inputPaths(a: InputArgs): string[] {
  if (a.paths?.length) return a.paths.map(String);
  if (!process.stdin.isTTY) return ['-'];
  throw new UsageError('give files or directories to read, or - for stdin (e.g. identity-health audit k8s/)');
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** A predicate over workloads from --kind, --name and --selector. */
export function workloadFilter(a: InputArgs): (doc: KubeObject) => boolean {
  const kinds = a.kind?.flatMap((k) => String(k).split(',')).map((k) => k.trim().toLowerCase());
  const names = a.name?.flatMap((n) => String(n).split(',')).map(glob);
  const reqs = (a.selector ?? []).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = /^(!?)([A-Za-z0-9./_-]+)(?:(!=|==|=)(.*))?$/.exec(s);
    if (!m || (m[1] && m[3])) throw new UsageError(`invalid --selector "${s}": expected k=v, k!=v, k or !k`);
    const [, not, key, op, value] = m;
    return (labels: Record<string, string>) => (op === '!=' ? labels[key] !== value : op ? labels[key] === value : not ? !(key in labels) : key in labels);
  });
  return (doc) =>
    (!kinds || kinds.includes(String(doc.kind).toLowerCase())) &&
    (!names || names.some((re) => re.test(String(doc.metadata?.name ?? '')))) &&
    reqs.every((r) => r(doc.metadata?.labels ?? {}));
}

export function hasFilters(a: InputArgs): boolean {
  return !!(a.kind?.length || a.name?.length || a.selector?.length);
}

/** 1-based line of document `i` in its source, for messages. */
export function lineOf(p: Parsed, i: number): number {
  const at = (p.docs[i].contents as { range?: number[] } | null)?.range?.[0] ?? p.docs[i].range[0];
  let n = 1;
  for (let k = p.source.text.indexOf('\n'); k !== -1 && k < at; k = p.source.text.indexOf('\n', k + 1)) n++;
  return n;
}
