/** What apply and audit share: input paths, workload filters, and the per-document loop. */
import type { Argv } from 'yargs';
import type { KubeObject } from '../pod-template/types';
import { UsageError } from './errors';
import { selectorRequirements } from './selection';

export interface GlobalArgs { output?: 'yaml' | 'json'; quiet?: boolean; color?: boolean }
export interface InputArgs extends GlobalArgs { paths?: string[]; kind?: string | string[]; name?: string | string[]; selector?: string | string[]; 'max-input-mb'?: string | number }

/** Repeatable flags are not yargs arrays (an array flag would swallow the paths after it): one value or several. */
export function values(x: unknown): string[] {
  return x === undefined ? [] : ([] as unknown[]).concat(x).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
}

const GROUP = 'Input and selection:';

export function withInputs<T>(y: Argv<T>): Argv<T & InputArgs> {
  return y
    .positional('paths', { type: 'string', array: true, describe: 'files, directories (recursively *.yaml|*.yml) or - for stdin [default: stdin when piped]' })
    .option('kind', { type: 'string', group: GROUP, describe: 'only these workload kinds (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod)' })
    .option('name', { type: 'string', group: GROUP, describe: 'only workloads with these names (* wildcards; comma-separated or repeated)' })
    .option('selector', { alias: 'l', type: 'string', group: GROUP, describe: 'only workloads whose labels match, as kubectl: k=v, k!=v, k, !k, k in (a,b), k notin (a,b) (comma = and)' })
    .option('max-input-mb', { type: 'string', group: GROUP, describe: 'refuse a run whose inputs total more than this (MB); input is streamed, memory does not grow with it [default: 256]' }) as unknown as Argv<T & InputArgs>;
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

/** metadata.labels when it is a map (a wrong type is reported by the transform, naming the field). */
function labelsOf(doc: KubeObject): Record<string, string> {
  const l = doc.metadata?.labels;
  return l && typeof l === 'object' && !Array.isArray(l) ? l : {};
}

/** A predicate over workloads from --kind, --name and --selector. */
export function workloadFilter(a: InputArgs): (doc: KubeObject) => boolean {
  const kinds = a.kind === undefined ? undefined : values(a.kind).map((k) => k.toLowerCase());
  const names = a.name === undefined ? undefined : values(a.name).map(glob);
  const reqs = selectorRequirements(a.selector);
  return (doc) =>
    (!kinds || kinds.includes(String(doc.kind).toLowerCase())) &&
    (!names || names.some((re) => re.test(String(doc.metadata?.name ?? '')))) &&
    reqs.every((r) => r(labelsOf(doc)));
}

export function hasFilters(a: InputArgs): boolean {
  return values(a.kind).length + values(a.name).length + values(a.selector).length > 0;
}
