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
