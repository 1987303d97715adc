/** `synth`: a new Deployment built with cdk8s-plus-33 and the strategy's mixin (the only command that loads cdk8s). */
import type { Argv } from 'yargs';
import type { AnyStrategyId } from '../../../strategies';
import type { GlobalArgs } from '../inputs';
import { UsageError } from '../errors';
import { flagsFor, flagWording, planFromFlags, strategyId, withStrategyFlags } from '../strategy-flags';

interface Args extends GlobalArgs { strategy: string; name: string; image?: string; port?: number; 'check-image'?: string; replicas: number; 'out-file'?: string; 'on-conflict'?: string; [k: string]: unknown }

export const command = 'synth';
export const describe = 'Write a new Deployment (cdk8s-plus-33) with a strategy applied (and its ServiceAccount for workload identity)';

export function builder(y: Argv): Argv<Args> {
  // Here --image and --port describe the app (as in the issue); the init strategies' check image is --check-image.
  return withStrategyFlags(y
    .option('strategy', { alias: 's', type: 'string', demandOption: true, describe: 'strategy id (see identity-health list)' })
    .option('name', { type: 'string', demandOption: true, describe: 'Deployment (and container) name' })
    .option('image', { type: 'string', demandOption: true, describe: 'the app image' })
    .option('port', { type: 'number', describe: 'container port of the app (app-check strategies probe it)' })
    .option('replicas', { type: 'number', default: 2 })
    .option('check-image', { type: 'string', describe: 'image of the init check (init strategies) [default: per --client]' })
    .option('on-conflict', { type: 'string', choices: ['error', 'skip', 'sidecar'], describe: 'as for apply' })
    .option('out-file', { alias: 'o', type: 'string', describe: 'write here (atomically) instead of stdout' })
    .example('$0 synth -s nmi-probes --name api --image myacr.azurecr.io/api:1.4 --port 8080', 'YAML on stdout')
    .example('$0 synth -s identity-init --name worker --image myacr.azurecr.io/worker:2 --client-id <guid> -o worker.yaml', 'to a file')
    .example('$0 audit worker.yaml', 'next: check what it has'), ['image', 'port']) as unknown as Argv<Args>;
}

export async function handler(a: Args): Promise<void> {
  const id = strategyId(a.strategy);
  const { image: _app, port: _port, ...flags } = a;
  if (a['check-image'] !== undefined && !flagsFor(id).includes('image')) throw new UsageError(`--check-image does not apply to strategy ${id} (only to the init strategies)`);
  let options: Record<string, any>;
  try {
    ({ options } = planFromFlags(id, { ...flags, image: a['check-image'] }, { onConflict: a['on-conflict'] })); // validates, names the flag
  } catch (e: any) {
    // Here the strategy's image option is --check-image (--image is the app's).
    if (e?.name === 'OptionError' && e.option === 'image') e.message = e.message.replace('invalid --image ', 'invalid --check-image ');
    throw e;
  }
  const v = require('../../checks/validate') as typeof import('../../checks/validate');
  const name = v.containerName('--name', a.name);
  const image = v.image('--image', String(a.image));
  const port = a.port === undefined ? undefined : v.port('--port', a.port);
  const replicas = v.count('--replicas', a.replicas, 0, 10000);
  const { getStrategy } = require('../../../strategies') as typeof import('../../../strategies');
  const { mixinFor } = require('../../cdk8s/by-id') as typeof import('../../cdk8s/by-id');
  const mixin = mixinFor(id as AnyStrategyId, options); // strategyId() checked it

  // Loaded here only: cdk8s and cdk8s-plus cost most of a second to require.
  const { App, Chart } = require('cdk8s') as typeof import('cdk8s');
  const kplus = require('cdk8s-plus-33') as typeof import('cdk8s-plus-33');
  const { applyMixin } = require('../../cdk8s/mixin') as typeof import('../../cdk8s/mixin');
  const app = new App({ outdir: require('os').tmpdir() });
  const chart = new Chart(app, name, { disableResourceNameHashes: true });
  // Workload identity: the pod runs as its own ServiceAccount, which the strategy annotates
  // (azure.workload.identity/client-id with --client-id); both are written.
  const wi = getStrategy(id).checks === 'workload-identity';
  const serviceAccount = wi ? new kplus.ServiceAccount(chart, `${name}-sa`, { metadata: { name } }) : undefined;
  new kplus.Deployment(chart, name, {
    metadata: { name },
    replicas,
    serviceAccount,
    containers: [{ name, image, ...(port ? { portNumber: port } : {}) }],
  });
  applyMixin(chart, mixin);
  let docs: unknown[];
  try {
    docs = chart.toJson();
  } catch (e: any) {
    // The mixin's message names the construct path for cdk8s users; here the CLI's prefix and flags say it.
    if (e?.name === 'ConflictError' || e?.name === 'InputError') e.message = flagWording(String(e.message).replace(/^identity-health [\w-]+ at [^:]+: /, ''));
    throw e;
  }
  let out: string;
  if (a.output === 'json') out = JSON.stringify(docs.length === 1 ? docs[0] : { apiVersion: 'v1', kind: 'List', items: docs }, null, 2) + '\n';
  else {
    const YAML = require('yaml') as typeof import('yaml');
    const { WRITE_VERSION } = require('../yaml-io') as typeof import('../yaml-io');
    out = docs.map((d: unknown) => YAML.stringify(d, { lineWidth: 0, version: WRITE_VERSION })).join('---\n');
  }
  if (a['out-file']) {
    (require('../yaml-io') as typeof import('../yaml-io')).writeAtomic(a['out-file'], out);
    if (!a.quiet) process.stderr.write(`identity-health: wrote ${a['out-file']}\n`);
  } else process.stdout.write(out);
}
