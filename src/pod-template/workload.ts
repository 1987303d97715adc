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

export interface PodTemplate { metadata: ObjectMeta; spec: PodSpec }

/**
 * The pod template of a workload, as live references into `doc` (created where missing, so
 * callers can write into it). Undefined for other kinds or a workload without containers.
 */
export function podTemplateOf(doc: KubeObject): PodTemplate | undefined {
  if (!isWorkload(doc)) return undefined;
  let holder: any;
  if (doc.kind === 'Pod') {
    doc.metadata ??= {};
    const spec = doc.spec;
    return Array.isArray(spec?.containers) ? { metadata: doc.metadata, spec } : undefined;
  }
  holder = doc.kind === 'CronJob' ? doc.spec?.jobTemplate?.spec : doc.spec;
  const template = holder?.template;
  if (!template || !Array.isArray(template.spec?.containers)) return undefined;
  template.metadata ??= {};
  return { metadata: template.metadata, spec: template.spec };
}
