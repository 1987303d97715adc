/**
 * A ValidatingAdmissionPolicy (+ binding) whose CEL rejects workloads that carry the binding
 * label but lack a strategy's check: the audit's rule (`audit --require <id>`), on the cluster.
 * Written in the CEL every Kubernetes version with admissionregistration.k8s.io/v1 has (the
 * standard library and RE2 `matches`; no optional types, no string extensions), per argument of
 * a command: a check script is one argument of `sh -c`, as the audit reads it, or the pod
 * annotation that a downwardAPI volume projects as a file named by an argument (how the probe
 * strategies write their script once per pod; pieces.ts: projectedScript is the audit's reading).
 */
import type { Strategy } from '../../strategies';
import { RUNTIME_ENV } from '../runtime/env';
import type { LabelRequirement } from './selector';

const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

// Delimiters of one command's arguments, as the audit: ; newline | & ) backquote.
const D = ';|&)`';
const C = `[^\\s${D}]`;
/** An argument of curl that is neither --fail(-with-body) nor a short-flag group containing f. */
const NOT_FAIL = [
  `[^\\s${D}-]${C}*`,
  '-[A-Za-eg-z]+',
  `-[A-Za-z]*[^A-Za-z\\s${D}-]${C}*`,
  `--(?:[^f\\s${D}]${C}*|f(?:[^a\\s${D}]${C}*|a(?:[^i\\s${D}]${C}*|i(?:[^l\\s${D}]${C}*|l[A-Za-z0-9_]${C}*)?)?)?)?`,
].join('|');
/** A curl invocation in command position (as the audit finds them) without --fail: exits 0 on HTTP errors. */
export const CURL_NO_FAIL = `(?m)(?:^|[;|&({\`]|\\$\\(|\\bthen\\b|\\bdo\\b|\\belse\\b)[ \\t]*(?:timeout\\s+\\S+\\s+)?curl(?:[ \\t]+(?:${NOT_FAIL}))*[ \\t]*(?:$|[${D}])`;
const DOUBLE_EQ = '(\\[\\s|\\btest\\s)[^\\]\\n;]*\\s==\\s';
const TOKEN = 'metadata/identity/oauth2/token|\\baz\\s+login\\s+[^\\n;|&]*--identity|\\baz\\s+account\\s+get-access-token';
const NMI = 'healthz';
const NMI_HINT = 'HOST_IP|:8085\\b|(?i:\\bnmi\\b)';

/** CEL over one argument `s` of container `c`: a defect-free check of this kind. */
function scriptOk(checks: Strategy['checks']): string {
  const common = `!s.matches(${q(CURL_NO_FAIL)}) && !s.matches(${q(DOUBLE_EQ)}) && (!s.contains('HOST_IP') || (has(c.env) && c.env.exists(e, e.name == 'HOST_IP')))`;
  const nmi = `(s.matches(${q(NMI)}) && s.matches(${q(NMI_HINT)}))`;
  const token = `s.matches(${q(TOKEN)})`;
  if (checks === 'nmi') return `${nmi} && !${token} && !s.contains('AZURE_FEDERATED_TOKEN_FILE') && s.contains('Active') && ${common}`;
  if (checks === 'identity') {
    return `${token} && !s.contains('AZURE_FEDERATED_TOKEN_FILE') && (!${nmi} || s.contains('Active')) && (!s.matches('metadata/identity/oauth2/token') || s.matches('(?i)Metadata:\\\\s*true')) && ${common}`;
  }
  return `s.contains('AZURE_FEDERATED_TOKEN_FILE') && ${common}`;
}

const argsOf = (c: string) => `((has(${c}.command) ? ${c}.command : []) + (has(${c}.args) ? ${c}.args : []))`;
/**
 * CEL: argument `f` of container `c` names a file that a downwardAPI volume mounted in `c`
 * projects from a pod annotation whose script passes `ok` (an expression over `s`).
 */
const projected = (c: string, f: string, ok: string) => `(has(${c}.volumeMounts) && has(variables.spec.volumes) && ${c}.volumeMounts.exists(m, !has(m.subPath) && `
  + `variables.spec.volumes.exists(v, v.name == m.name && has(v.downwardAPI) && has(v.downwardAPI.items) && v.downwardAPI.items.exists(i, `
  + `(m.mountPath.endsWith('/') ? m.mountPath : m.mountPath + '/') + i.path == ${f} && has(i.fieldRef) && `
  + `variables.annotations.exists(k, i.fieldRef.fieldPath == "metadata.annotations['" + k + "']" && [variables.annotations[k]].exists(s, ${ok}))))))`;
const execOf = (c: string, p: string) => `(has(${c}.${p}) && has(${c}.${p}.exec) && has(${c}.${p}.exec.command) && `
  + `(${c}.${p}.exec.command.exists(s, ${'$OK'}) || ${c}.${p}.exec.command.exists(f, ${projected(c, 'f', '$OK')})))`;

/** CEL: the pod spec `variables.spec` has a defect-free check of strategy `s`. */
export function requiredCheck(s: Strategy): string {
  const ok = scriptOk(s.checks);
  if (s.placement === 'init') {
    return `has(variables.spec.initContainers) && variables.spec.initContainers.exists(c, ${argsOf('c')}.exists(s, ${ok}))`;
  }
  if (s.placement === 'probes') {
    return `variables.spec.containers.exists(c, ${[execOf('c', 'readinessProbe'), execOf('c', 'livenessProbe')].join(' || ').split('$OK').join(ok)})`;
  }
  const http = ['readinessProbe', 'livenessProbe', 'startupProbe'].map((p) => `(has(c.${p}) && has(c.${p}.httpGet))`).join(' || ');
  const hostIp = s.checks === 'workload-identity' ? '' : ` && c.env.exists(e, e.name == 'HOST_IP')`;
  return `variables.spec.containers.exists(c, has(c.env) && c.env.exists(e, e.name == ${q(RUNTIME_ENV.check)} && has(e.value) && e.value == ${q(s.checks)})${hostIp} && (${http}))`;
}

export function labelCel(reqs: readonly LabelRequirement[], labels = 'variables.labels'): string {
  return reqs.map((r) => {
    const k = q(r.key);
    switch (r.operator) {
      case 'Exists': return `${k} in ${labels}`;
      case 'DoesNotExist': return `!(${k} in ${labels})`;
      case 'In': return `(${k} in ${labels} && ${labels}[${k}] == ${q(r.value!)})`;
      default: return `(!(${k} in ${labels}) || ${labels}[${k}] != ${q(r.value!)})`;
    }
  }).join(' && ');
}

export const VAP_RESOURCES = [
  { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] },
  { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'] },
  { apiGroups: ['batch'], apiVersions: ['v1'], resources: ['jobs', 'cronjobs'] },
];

/** Variables in evaluation order (each may use the ones before it). */
export const VAP_VARIABLES = [
  { name: 'template', expression: "object.kind == 'Pod' ? object : object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template : object.spec.template" },
  { name: 'spec', expression: 'variables.template.spec' },
  { name: 'labels', expression: 'has(variables.template.metadata) && has(variables.template.metadata.labels) ? variables.template.metadata.labels : {}' },
  { name: 'annotations', expression: 'has(variables.template.metadata) && has(variables.template.metadata.annotations) ? variables.template.metadata.annotations : {}' },
];

export function vapObjects(s: Strategy, o: { name: string; match: readonly LabelRequirement[] }): Record<string, unknown>[] {
  const wiLabel = s.checks === 'workload-identity'
    ? [{ expression: `!(${labelCel(o.match)}) || ('azure.workload.identity/use' in variables.labels && variables.labels['azure.workload.identity/use'] == 'true')`,
      message: 'workload identity checks need the pod label azure.workload.identity/use: "true" (without it the webhook injects no env and the check always fails)', reason: 'Invalid' }]
    : [];
  const policy = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: o.name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: VAP_RESOURCES.map((r) => ({ ...r, operations: ['CREATE', 'UPDATE'] })) },
      variables: VAP_VARIABLES,
      validations: [
        {
          expression: `!(${labelCel(o.match)}) || (${requiredCheck(s)})`,
          message: `pods that carry the identity binding label must have the ${s.id} check, free of defects (identity-health apply --strategy ${s.id}; identity-health audit --require ${s.id} says what is wrong)`,
          reason: 'Invalid',
        },
        ...wiLabel,
      ],
    },
  };
  const binding = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: o.name },
    spec: { policyName: o.name, validationActions: ['Deny'] },
  };
  return [policy, binding];
}
