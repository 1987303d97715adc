/**
 * A Kyverno ClusterPolicy that applies a strategy at admission: a patchStrategicMerge built from
 * the strategy's Plan (the same plan `apply` uses, so there is no second definition of a
 * strategy). Pod rules reach Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and
 * CronJobs through Kyverno's autogen. Where `apply` would report a conflict, the policy keeps the
 * user's probes (add-if-absent anchors, `+(readinessProbe)`); env vars and mounts of the same name
 * take our value.
 */
import type { Plan } from '../pod-template/apply';
import { STRATEGIES_ANNOTATION } from '../pod-template/pieces';
import type { Container } from '../pod-template/types';
import type { LabelRequirement } from './selector';

export const AUTOGEN_CONTROLLERS = 'Deployment,StatefulSet,DaemonSet,ReplicaSet,Job,CronJob';

export class PolicyError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

const anchor = (k: string) => `+(${k})`;

/** The container-level part of the patch: conditional on the container name (never adds a container). */
function containerPatch(name: string, plan: Plan): Record<string, unknown> {
  if (typeof plan.target.probes === 'function') {
    throw new PolicyError(`${plan.strategy}: the probes' port defaults to each container's first port, which a Kyverno patch cannot read: give --port`);
  }
  const out: Record<string, unknown> = { '(name)': name };
  // Env vars and mounts merge by name, without anchors: Kyverno treats a list item that carries an
  // anchor as a condition on each existing item, so `{name: HOST_IP, +(valueFrom): ...}` never adds
  // the variable, and two such items make it panic (Kyverno v1.19.1,
  // pkg/engine/mutate/patch/strategicPreprocessing.go: processListOfMaps, deleteAnchorsInList).
  if (plan.target.env.length) out.env = plan.target.env;
  if (plan.target.volumeMounts.length) out.volumeMounts = plan.target.volumeMounts;
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
      // The probe script's annotation is added only where absent, as the probes are: a pod that
      // keeps probes it already had keeps the script they run. kyvernoSafe escapes its `$(`.
      annotations: Object.fromEntries(Object.entries({ ...plan.podAnnotations, [STRATEGIES_ANNOTATION]: plan.strategy }).map(([k, v]) => [anchor(k), v])),
    },
    spec,
  };
}

/**
 * The label requirements as preconditions on the pod's labels, not as a match `selector`: Kyverno
 * generates no rules for the pod controllers when a rule matches by selector (Kyverno v1.19.1,
 * pkg/autogen/v1/autogen.go: checkAutogenSupport), while autogen rewrites `request.object.metadata`
 * in preconditions to the controller's pod template (pkg/autogen/v1/rule.go), as the selector means.
 */
function preconditionsOf(reqs: readonly LabelRequirement[]): Record<string, unknown>[] {
  // Label keys and values are checked against Kubernetes label syntax (selector.ts): no quotes or braces.
  const keys = "{{ keys(request.object.metadata.labels || `{}`) }}";
  const value = (k: string) => `{{ request.object.metadata.labels."${k}" || '' }}`;
  return reqs.map((r) => {
    switch (r.operator) {
      case 'Exists': return { key: keys, operator: 'AnyIn', value: [r.key] };
      case 'DoesNotExist': return { key: keys, operator: 'AllNotIn', value: [r.key] };
      case 'In': return { key: value(r.key), operator: 'Equals', value: r.value! };
      default: return { key: value(r.key), operator: 'NotEquals', value: r.value! };
    }
  });
}

/**
 * Kyverno reads `$(...)` without a space up to its `)` as a reference to another field of the
 * resource (a missing field fails the rule), and un-escapes `\$(...)` to `$(...)` (Kyverno v1.19.1,
 * pkg/engine/variables/regex/vars.go: RegexReferences, RegexEscpReferences). Each `$(` that its
 * un-escape would match gets a backslash, so the pod receives exactly the script `apply` writes
 * (the scripts' `$(token)`); `{{` (a Kyverno variable) never occurs in them (checked).
 */
const KYVERNO_ESCAPABLE = /\$\([^\n][^ )]*\)/g;

export function kyvernoSafe<T>(v: T): T {
  if (typeof v === 'string') {
    if (v.includes('{{')) throw new PolicyError(`a value contains "{{", which Kyverno would read as a variable: ${v.slice(0, 80)}`);
    return v.replace(KYVERNO_ESCAPABLE, (m) => {
      // Kyverno removes one backslash per match: a `$(` inside a match would keep its backslash.
      if (m.slice(2).includes('$(')) throw new PolicyError(`a value contains "${m}", which Kyverno cannot be told to leave as it is`);
      return `\\${m}`;
    }) as T;
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
        match: { any: [{ resources: { kinds: ['Pod'] } }] },
        ...(o.match.length ? { preconditions: { all: preconditionsOf(o.match) } } : {}),
        mutate: { patchStrategicMerge: kyvernoSafe(podPatch(plan)) },
      }],
    },
  };
}
