/**
 * A Kyverno ClusterPolicy that applies a strategy at admission: a patchStrategicMerge built from
 * the strategy's Plan (the same plan `apply` uses, so there is no second definition of a
 * strategy). Pod rules reach Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and
 * CronJobs through Kyverno's autogen. Where `apply` would report a conflict, the policy keeps the
 * user's value: probes and env values use add-if-absent anchors, `+(readinessProbe)`.
 */
import type { Plan } from '../pod-template/apply';
import { STRATEGIES_ANNOTATION } from '../pod-template/pieces';
import type { Container, EnvVar, VolumeMount } from '../pod-template/types';
import type { LabelRequirement } from './selector';

export const AUTOGEN_CONTROLLERS = 'Deployment,StatefulSet,DaemonSet,ReplicaSet,Job,CronJob';

export class PolicyError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

const anchor = (k: string) => `+(${k})`;

/** An env var merged by name whose value is only added where the container has none. */
function envPatch(e: EnvVar): Record<string, unknown> {
  const { name, ...rest } = e;
  return { name, ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [anchor(k), v])) };
}

function mountPatch(m: VolumeMount): Record<string, unknown> {
  const { name, ...rest } = m;
  return { name, ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [anchor(k), v])) };
}

/** The container-level part of the patch: conditional on the container name (never adds a container). */
function containerPatch(name: string, plan: Plan): Record<string, unknown> {
  if (typeof plan.target.probes === 'function') {
    throw new PolicyError(`${plan.strategy}: the probes' port defaults to each container's first port, which a Kyverno patch cannot read: give --port`);
  }
  const out: Record<string, unknown> = { '(name)': name };
  if (plan.target.env.length) out.env = plan.target.env.map(envPatch);
  if (plan.target.volumeMounts.length) out.volumeMounts = plan.target.volumeMounts.map(mountPatch);
  for (const [k, p] of Object.entries(plan.target.probes)) if (p) out[anchor(k)] = p;
  return out;
}

/** The patchStrategicMerge for a Pod (autogen rewrites it for the controllers' pod templates). */
export function podPatch(plan: Plan): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  if (plan.initContainers.length) spec.initContainers = plan.initContainers as Container[];
  if (plan.volumes.length) spec.volumes = plan.volumes;
  const hasTarget = plan.target.env.length || plan.target.volumeMounts.length || typeof plan.target.probes === 'function' || Object.keys(plan.target.probes).length;
  // No --containers: every container ("(name): '*'"); apply picks the first one instead.
  if (hasTarget) spec.containers = (plan.containers.length ? plan.containers : ['*']).map((n) => containerPatch(n, plan));
  return {
    metadata: {
      ...(Object.keys(plan.podLabels).length ? { labels: { ...plan.podLabels } } : {}),
      annotations: { [anchor(STRATEGIES_ANNOTATION)]: plan.strategy },
    },
    spec,
  };
}

function selectorOf(reqs: readonly LabelRequirement[]): Record<string, unknown> {
  const matchLabels = Object.fromEntries(reqs.filter((r) => r.operator === 'In').map((r) => [r.key, r.value!]));
  const matchExpressions = reqs.filter((r) => r.operator !== 'In').map((r) => ({ key: r.key, operator: r.operator, ...(r.operator === 'NotIn' ? { values: [r.value!] } : {}) }));
  return { ...(Object.keys(matchLabels).length ? { matchLabels } : {}), ...(matchExpressions.length ? { matchExpressions } : {}) };
}

/**
 * Kyverno reads `$(path)` without a space inside as a reference to another field of the
 * resource, and `{{ }}` as a variable. The scripts' `$(ih_token)` becomes `$( ih_token )`, the
 * same command substitution for sh; `{{` never occurs in them (checked).
 */
export function kyvernoSafe<T>(v: T): T {
  if (typeof v === 'string') {
    if (v.includes('{{')) throw new PolicyError(`a value contains "{{", which Kyverno would read as a variable: ${v.slice(0, 80)}`);
    return v.replace(/\$\(([^\s()]+)\)/g, '$( $1 )') as T;
  }
  if (Array.isArray(v)) return v.map(kyvernoSafe) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, kyvernoSafe(x)])) as T;
  return v;
}

export function kyvernoPolicy(plan: Plan, o: { name: string; match: readonly LabelRequirement[]; summary: string }): Record<string, unknown> {
  if (plan.onConflict === 'sidecar') throw new PolicyError('--on-conflict sidecar cannot be expressed in a Kyverno patch (it depends on what each container has); use apply');
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: {
      name: o.name,
      annotations: {
        'policies.kyverno.io/title': `identity-health ${plan.strategy}`,
        'policies.kyverno.io/subject': 'Pod',
        'policies.kyverno.io/description': `Adds the ${plan.strategy} check (${o.summary}) to pods that carry the identity binding label. Generated by identity-health policy from the same plan as identity-health apply.`,
        'pod-policies.kyverno.io/autogen-controllers': AUTOGEN_CONTROLLERS,
      },
    },
    spec: {
      background: false,
      rules: [{
        name: `add-${plan.strategy}`,
        match: { any: [{ resources: { kinds: ['Pod'], selector: selectorOf(o.match) } }] },
        mutate: { patchStrategicMerge: kyvernoSafe(podPatch(plan)) },
      }],
    },
  };
}
