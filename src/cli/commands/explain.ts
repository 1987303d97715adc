/** `explain <strategy>`: what it adds, trade-offs, detection times and request load for the given flags. */
import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import type { GlobalArgs } from '../inputs';
import { planFromFlags, strategyId, withStrategyFlags } from '../strategy-flags';

interface Args extends GlobalArgs { strategy: string; 'pods-per-node': number; [k: string]: unknown }

export const command = 'explain <strategy>';
export const describe = 'One strategy: the YAML it adds, trade-offs, time to NotReady/restart, request load';

export function builder(y: Argv): Argv<Args> {
  return withStrategyFlags(y
    .positional('strategy', { type: 'string', describe: 'strategy id (see identity-health list)' })
    .option('pods-per-node', { type: 'number', default: 30, describe: 'pods with this check per node, for the load figures' })
    .example('$0 explain nmi-probes', 'defaults')
    .example('$0 explain identity-probes --token-cache-ttl 60 --readiness-period 10 --pods-per-node 110', 'what these settings mean')
    .example('$0 apply -s identity-probes k8s/ --diff', 'next: add it to your manifests')) as unknown as Argv<Args>;
}

const secs = (n: number | undefined) => (n === undefined ? 'never (no runtime check)' : `${n} s`);
const nmiSecs = (f: import('../analysis').Fault | undefined) => (f?.nmiRefused !== undefined ? `${f.nmiFault} s (${f.nmiRefused} s if refused)` : secs(f?.nmiFault));

export async function handler(a: Args): Promise<void> {
  const { getStrategy } = require('../../../strategies') as typeof import('../../../strategies');
  const { applyPlan } = require('../../pod-template/apply') as typeof import('../../pod-template/apply');
  const { analyse, SAMPLE_CONTAINER, IMDS_LIMIT_PER_SECOND } = require('../analysis') as typeof import('../analysis');
  const { flagsFor, flagWording } = require('../strategy-flags') as typeof import('../strategy-flags');
  const { styleFor } = require('../style') as typeof import('../style');
  const YAML = require('yaml') as typeof import('yaml');

  const id = strategyId(a.strategy);
  const { plan, options } = planFromFlags(id, a);
  const strategy = getStrategy(id);
  const ppn = a['pods-per-node'];
  if (!Number.isInteger(ppn) || ppn < 1 || ppn > 1000) throw new UsageError('invalid --pods-per-node: expected an integer from 1 to 1000');
  const an = analyse(strategy, plan, options, ppn);
  const sample = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app' },
    spec: { selector: { matchLabels: { app: 'app' } }, template: { metadata: { labels: { app: 'app' } }, spec: { containers: [structuredClone(SAMPLE_CONTAINER)] } } },
  };
  const template = (applyPlan(sample, plan).doc as typeof sample).spec.template;

  if (a.output === 'json') {
    process.stdout.write(JSON.stringify({
      id, number: strategy.number, summary: strategy.summary, claims: strategy.claims, tradeOffs: strategy.tradeOffs,
      options, flags: flagsFor(id), analysis: an, template,
    }, null, 2) + '\n');
    return;
  }
  const s = styleFor(process.stdout, a.color);
  const l = an.load;
  const lines = [
    `${s.bold(`${strategy.number}. ${id}`)}: ${strategy.summary}`,
    `start gated: ${strategy.claims.startGated}; at runtime traffic stopped and container restarted: ${strategy.claims.runtime}; other identity faults caught: ${strategy.claims.otherFaults}`,
    '',
    s.bold('Trade-offs'),
    ...strategy.tradeOffs.map((t) => `  - ${flagWording(t)}`),
    '',
    s.bold('Worst case, with these settings'),
    ...(strategy.checks === 'workload-identity' ? [
      `  env or token file fault -> NotReady: ${secs(an.notReady?.nmiFault)}`,
      `  env or token file fault -> restart:  ${secs(an.restart?.nmiFault)}`,
      ...(an.notReady?.identityFault !== undefined ? [
        `  exchange fault -> NotReady:          ${secs(an.notReady?.identityFault)}`,
        `  exchange fault -> restart:           ${secs(an.restart?.identityFault)}`] : []),
    ] : [
      `  NMI lost -> NotReady:            ${nmiSecs(an.notReady)}`,
      `  NMI lost -> restart:             ${nmiSecs(an.restart)}`,
      ...(an.nmiBound !== undefined && an.notReady ? [`    (threshold x period + the NMI request's ${an.nmiBound} s bound; refused at once when NMI's pod is gone)`] : []),
    ]),
    ...(strategy.checks === 'identity' ? [
      `  identity fault -> NotReady:      ${secs(an.notReady?.identityFault)}`,
      `  identity fault -> restart:       ${secs(an.restart?.identityFault)}`,
    ] : []),
    `  start: ${an.startWindow}`,
    '',
    s.bold(`Request load (${l.podsPerNode} pods per node, --pods-per-node)`),
    ...(strategy.checks === 'workload-identity' ? [
      `  AAD token exchange: ${l.tokenPerPod}/s per pod, ${l.tokenPerNode}/s per node (no NMI or IMDS requests; --exchange turns it on in probes)`,
    ] : [
      `  NMI health:   ${l.nmiPerPod}/s per pod, ${l.nmiPerNode}/s per node`,
      `  token (IMDS): ${l.tokenPerPod}/s per pod, ${l.tokenPerNode}/s per node (documented limit ${IMDS_LIMIT_PER_SECOND}/s per VM)`,
    ]),
    ...(strategy.placement === 'init' ? [`  at start: up to ${l.atStartPerNode} checks/s per node while pods wait, none afterwards`] : []),
    ...an.warnings.map((w) => s.yellow(`  warning: ${w}`)),
    '',
    s.bold('What it adds (pod template of a sample Deployment)'),
    YAML.stringify({ template }, { lineWidth: 0 }).trimEnd(),
    '',
    `Options: ${flagsFor(id).map((f) => `--${f}`).join(' ')}`,
    `Next: identity-health apply --strategy ${id} <files|dirs|-> --diff`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
