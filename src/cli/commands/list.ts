/** `list`: the strategy table. */
import type { Argv } from 'yargs';
import type { GlobalArgs } from '../inputs';

export const command = 'list';
export const describe = 'The nine strategies (7-9 Azure AD Workload Identity first, then 1-6 for clusters still on AAD Pod Identity): where the check runs and what it catches';

export function builder(y: Argv): Argv<GlobalArgs> {
  return y
    .example('$0 list', 'the table')
    .example('$0 explain identity-probes', 'next: one strategy in detail')
    .example('$0 recommend', 'or: let it pick') as Argv<GlobalArgs>;
}

export async function handler(a: GlobalArgs): Promise<void> {
  const { getStrategy, STRATEGY_IDS, WORKLOAD_IDENTITY_STRATEGY_IDS } = require('../../../strategies') as typeof import('../../../strategies');
  const { styleFor, table, wrapWords } = require('../style') as typeof import('../style');
  // Workload identity first: it is what clusters run now; pod identity is archived upstream.
  const all = [...WORKLOAD_IDENTITY_STRATEGY_IDS, ...STRATEGY_IDS].map(getStrategy);
  const identityOf = (checks: string) => (checks === 'workload-identity' ? 'workload' : 'pod');
  if (a.output === 'json') {
    process.stdout.write(JSON.stringify(all.map(({ id, number, checks, placement, summary, claims, tradeOffs }) => ({ id, number, identity: identityOf(checks), checks, placement, summary, claims, tradeOffs })), null, 2) + '\n');
    return;
  }
  const s = styleFor(process.stdout, a.color);
  const width = Math.min(80, process.stdout.columns || 80);
  // One row of claims per strategy, what it does wrapped below it: readable in 80 columns.
  const rows = [['#', 'STRATEGY', 'IDENTITY', 'START GATED', 'RUNTIME', 'OTHER FAULTS'].map(s.bold)];
  for (const x of all) rows.push([String(x.number), x.id, identityOf(x.checks), x.claims.startGated, x.claims.runtime, x.claims.otherFaults]);
  const [head, ...body] = table(rows).split('\n');
  const out = [head, ...body.flatMap((line, i) => [line, ...wrapWords(all[i].summary, width, '   ').map(s.dim)])];
  const notes = [
    'RUNTIME: at runtime a fault stops traffic (NotReady) and restarts the container.',
    'IDENTITY: workload = Azure AD Workload Identity (webhook env, token file, label azure.workload.identity/use); pod = AAD Pod Identity (NMI, label aadpodidbinding): deprecated 2022-10-24, archived 2023-10-02, AKS add-on supported through September 2025; for clusters still on it and during migration. Migration guide:',
    'learn.microsoft.com/azure/aks/workload-identity-migrate-from-pod-identity',
    'OTHER FAULTS: identity faults besides NMI (binding missing, identity deleted; for workload identity: token file, federated credential) are caught.',
    'Next: identity-health explain <strategy>, or identity-health recommend.',
  ].flatMap((n) => wrapWords(n, width));
  process.stdout.write(`${out.join('\n')}\n\n${notes.join('\n')}\n`);
}
