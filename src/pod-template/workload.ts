import type { KubeObject, ObjectMeta, PodSpec } from './types';

/** Kinds whose pod template the strategies change. */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'] as const;
export type WorkloadKind = typeof WORKLOAD_KINDS[number];

export function isWorkload(doc: unknown): doc is KubeObject {
  const kind = (doc as KubeObject | null)?.kind;
  return typeof kind === 'string' && (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

/** "Deployment default/web", for messages. */
export function workloadName(doc: KubeObject): string {
  const ns = doc.metadata?.namespace ? `${doc.metadata.namespace}/` : '';
  return `${doc.kind} ${ns}${doc.metadata?.name ?? '<unnamed>'}`;
}

export interface PodTemplate {
  spec: PodSpec;
  /** The template's metadata for reading (an empty object when absent; write through writableMetadata()). */
  readonly metadata: ObjectMeta;
  /** The template's metadata, created when absent: call only when about to write into it. */
  writableMetadata(): ObjectMeta;
}

/**
 * The pod template of a workload, as live references into `doc` (nothing is created until a
 * caller asks to write). Undefined for other kinds or a workload without containers.
 */
export function podTemplateOf(doc: KubeObject): PodTemplate | undefined {
  if (!isWorkload(doc)) return undefined;
  const holder: { metadata?: ObjectMeta; spec?: PodSpec } | undefined = doc.kind === 'Pod' ? doc as any
    : doc.kind === 'CronJob' ? doc.spec?.jobTemplate?.spec?.template : doc.spec?.template;
  const spec = holder?.spec;
  if (!holder || !Array.isArray(spec?.containers)) return undefined;
  return { spec: spec!, metadata: holder.metadata ?? {}, writableMetadata: () => (holder.metadata ??= {}) };
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a map' : typeof v === 'string' ? `a string ("${v.length > 40 ? `${v.slice(0, 40)}...` : v}")` : `a ${typeof v}`;
}

type Shape = 'map' | 'list' | 'string';
function isShape(v: unknown, s: Shape): boolean {
  return s === 'list' ? Array.isArray(v) : s === 'map' ? typeof v === 'object' && v !== null && !Array.isArray(v) : typeof v === 'string';
}

/** `at: expected a list, got a map` when `v` is present (or `required`) and of another type. */
function expect(v: unknown, s: Shape, at: string, required = false): string | undefined {
  // null is absent, as Kubernetes reads it (`annotations:` with nothing after it, as Helm often renders).
  if (v === undefined || v === null) return !required ? undefined : v === null ? `${at}: expected a ${s}, got null` : `${at}: missing`;
  return isShape(v, s) ? undefined : `${at}: expected a ${s}, got ${typeName(v)}`;
}

function listOf(v: unknown, at: string, item: (x: any, at: string) => string | undefined): string | undefined {
  const bad = expect(v, 'list', at);
  if (bad || v === undefined || v === null) return bad;
  for (const [i, x] of (v as unknown[]).entries()) { const r = expect(x, 'map', `${at}[${i}]`, true) ?? item(x, `${at}[${i}]`); if (r) return r; }
  return undefined;
}

const named = (required: boolean) => (x: any, at: string) => expect(x.name, 'string', `${at}.name`, required);

function probeProblem(p: any, at: string): string | undefined {
  return expect(p, 'map', at) ?? expect(p?.exec, 'map', `${at}.exec`) ?? expect(p?.exec?.command, 'list', `${at}.exec.command`) ?? expect(p?.httpGet, 'map', `${at}.httpGet`);
}

function containerProblem(c: any, at: string): string | undefined {
  return named(true)(c, at) ??
    listOf(c.env, `${at}.env`, named(true)) ??
    listOf(c.volumeMounts, `${at}.volumeMounts`, named(false)) ??
    listOf(c.ports, `${at}.ports`, () => undefined) ??
    expect(c.command, 'list', `${at}.command`) ??
    expect(c.args, 'list', `${at}.args`) ??
    probeProblem(c.readinessProbe, `${at}.readinessProbe`) ??
    probeProblem(c.livenessProbe, `${at}.livenessProbe`) ??
    probeProblem(c.startupProbe, `${at}.startupProbe`);
}

function metadataProblem(m: any, at: string): string | undefined {
  return expect(m, 'map', at) ??
    expect(m?.name, 'string', `${at}.name`) ??
    expect(m?.namespace, 'string', `${at}.namespace`) ??
    expect(m?.labels, 'map', `${at}.labels`) ??
    expect(m?.annotations, 'map', `${at}.annotations`) ??
    expect(m?.annotations?.['identity-health.io/strategies'], 'string', `${at}.annotations.identity-health.io/strategies`);
}

/**
 * Why a workload's pod template cannot be read or changed safely (a field of the wrong type, no
 * containers), as `path: expected a list, got a map`; undefined when it is fine. Only the fields
 * the strategies and the audit read are checked; anything else is left as it is.
 */
export function podTemplateProblem(doc: KubeObject): string | undefined {
  const kind = doc.kind;
  const top = metadataProblem(doc.metadata, 'metadata');
  if (top || !isWorkload(doc)) return top;
  let holder: any = doc;
  let at = '';
  const steps = kind === 'Pod' ? [] : kind === 'CronJob' ? ['spec', 'jobTemplate', 'spec', 'template'] : ['spec', 'template'];
  for (const s of steps) {
    at = at ? `${at}.${s}` : s;
    const bad = expect(holder[s], 'map', at, true);
    if (bad) return bad;
    holder = holder[s];
  }
  const pre = at ? `${at}.` : '';
  const spec = holder.spec;
  return (kind === 'Pod' ? undefined : metadataProblem(holder.metadata, `${pre}metadata`)) ??
    expect(spec, 'map', `${pre}spec`, true) ??
    expect(spec.containers, 'list', `${pre}spec.containers`, true) ??
    (spec.containers.length ? undefined : `${pre}spec.containers: empty (a pod needs at least one container)`) ??
    listOf(spec.containers, `${pre}spec.containers`, containerProblem) ??
    listOf(spec.initContainers, `${pre}spec.initContainers`, containerProblem) ??
    listOf(spec.volumes, `${pre}spec.volumes`, named(true));
}
