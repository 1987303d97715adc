/** `policy`: enforce a strategy on the cluster (Kyverno mutation, or a ValidatingAdmissionPolicy that rejects what lacks it). */
import type { Argv } from 'yargs';
import type { GlobalArgs } from '../inputs';
import { planFromFlags, strategyId, withStrategyFlags } from '../strategy-flags';

interface Args extends GlobalArgs { engine: 'kyverno' | 'vap'; strategy: string; selector?: string | string[]; name?: string; [k: string]: unknown }

export const command = 'policy';
export const describe = 'Cluster-wide: a Kyverno ClusterPolicy that adds a strategy, or a ValidatingAdmissionPolicy that rejects workloads without it';

export function builder(y: Argv): Argv<Args> {
  return withStrategyFlags(y
    .option('engine', { type: 'string', choices: ['kyverno', 'vap'], demandOption: true, describe: 'kyverno: mutate pods (and controllers, via autogen); vap: reject (admissionregistration.k8s.io/v1)' })
    .option('strategy', { alias: 's', type: 'string', demandOption: true, describe: 'strategy id (see identity-health list)' })
    .option('selector', { alias: 'l', type: 'string', describe: 'pods the policy acts on, by pod-template label: k=v, k!=v, k, !k (comma = and) [default: the binding label: aadpodidbinding exists; azure.workload.identity/use=true for workload identity]' })
    .option('name', { type: 'string', describe: 'policy name [default: identity-health-<strategy>]' })
    .example('$0 policy --engine kyverno -s nmi-init > nmi-init-policy.yaml', 'every pod bound to an identity gets the NMI init check')
    .example('$0 policy --engine kyverno -s identity-probes --containers app --client-id <guid>', 'probes on the container named app')
    .example('$0 policy --engine vap -s workload-identity-init | kubectl apply -f -', 'reject workload identity pods without the init check')
    .epilogue(`Kyverno cannot report conflicts: where apply would stop, the policy keeps the probes a container has (add-if-absent anchors) and gives a same-named env var our value. Without --containers the Kyverno patch targets every container (apply: the first). See pipelines.md in the docs (path below).`), ['sidecar-image']) as unknown as Argv<Args>;
}

export async function handler(a: Args): Promise<void> {
  const { getStrategy } = require('../../../strategies') as typeof import('../../../strategies');
  const { bindingRequirement, parseSelector } = require('../../policy/selector') as typeof import('../../policy/selector');
  const id = strategyId(a.strategy);
  const strategy = getStrategy(id);
  const { values } = require('../inputs') as typeof import('../inputs');
  const sel = values(a.selector).join(',');
  const match = sel ? parseSelector(sel) : bindingRequirement(strategy.checks);
  const v = require('../../checks/validate') as typeof import('../../checks/validate');
  const name = a.name === undefined ? `identity-health-${id}` : v.containerName('--name', a.name);
  let docs: Record<string, unknown>[];
  if (a.engine === 'kyverno') {
    const { plan } = planFromFlags(id, a);
    const { kyvernoPolicy } = require('../../policy/kyverno') as typeof import('../../policy/kyverno');
    docs = [kyvernoPolicy(plan, { name, match, summary: strategy.summary })];
  } else {
    planFromFlags(id, a); // the flags are validated as for apply, though the rule does not depend on them
    const { vapObjects } = require('../../policy/vap') as typeof import('../../policy/vap');
    docs = vapObjects(strategy, { name, match });
  }
  if (a.output === 'json') {
    process.stdout.write(JSON.stringify(docs.length === 1 ? docs[0] : { apiVersion: 'v1', kind: 'List', items: docs }, null, 2) + '\n');
    return;
  }
  const YAML = require('yaml') as typeof import('yaml');
  const { WRITE_VERSION } = require('../yaml-io') as typeof import('../yaml-io');
  process.stdout.write(docs.map((d) => YAML.stringify(d, { lineWidth: 0, version: WRITE_VERSION })).join('---\n'));
}
