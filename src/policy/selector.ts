/** The label requirement a policy matches on: the strategy's binding label, or --selector. */
export interface LabelRequirement { readonly key: string; readonly operator: 'Exists' | 'DoesNotExist' | 'In' | 'NotIn'; readonly value?: string }

const LABEL = /^(!?)((?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)(?:(!=|==|=)([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?)?$/;

export class SelectorError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

/** kubectl-style `k=v`, `k!=v`, `k`, `!k` (comma = and); label syntax checked, so values are safe to embed in CEL. */
export function parseSelector(selector: string): LabelRequirement[] {
  return selector.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = LABEL.exec(s);
    if (!m || (m[1] && m[4])) throw new SelectorError(`invalid --selector "${s}": expected k=v, k!=v, k or !k with Kubernetes label syntax`);
    const [, not, key, , op, value = ''] = m;
    if (op) return { key, operator: op === '!=' ? 'NotIn' : 'In', value };
    return { key, operator: not ? 'DoesNotExist' : 'Exists' };
  });
}

/** The label that binds a pod to its identity: what the webhook (workload identity) or NMI (pod identity) acts on. */
export function bindingRequirement(checks: string): LabelRequirement[] {
  return checks === 'workload-identity'
    ? [{ key: 'azure.workload.identity/use', operator: 'In', value: 'true' }]
    : [{ key: 'aadpodidbinding', operator: 'Exists' }];
}
