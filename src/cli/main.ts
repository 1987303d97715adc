#!/usr/bin/env node
/**
 * identity-health: pick, explain, synthesize, apply and audit the pod-identity health strategies.
 * Startup stays cheap: command modules load their heavy dependencies (yaml, the strategy core,
 * cdk8s for synth only) inside their handlers, so `--help` loads yargs and nothing else.
 */
import yargs from 'yargs/yargs';
import * as apply from './commands/apply';
import * as audit from './commands/audit';
import * as explain from './commands/explain';
import * as krm from './commands/krm';
import * as list from './commands/list';
import * as policy from './commands/policy';
import * as recommend from './commands/recommend';
import * as synth from './commands/synth';
import { exitCodeOf, EXIT } from './errors';

const EPILOGUE = `Exit codes: 0 ok; 1 policy failure (audit --require not met; krm: a result is an error); 2 usage or input error (bad flag
or option value, invalid YAML, conflict with existing probes), nothing written.
Docs: docs/cli.md. Strategy table: identity-health list.`;

export async function main(args: string[]): Promise<number> {
  let usageShown = false;
  const cli = yargs(args)
    .scriptName('identity-health')
    .usage('$0 <command> [options]\n\nHealth checks for Azure pod identity (AAD Pod Identity NMI / IMDS token) and Azure AD Workload Identity on Kubernetes workloads.')
    .command(list)
    .command(explain)
    .command(recommend)
    .command(synth)
    .command(apply)
    .command(audit)
    .command(policy)
    .command(krm)
    .option('output', { type: 'string', choices: ['yaml', 'json'], describe: 'format of manifests and reports on stdout', global: true })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'only errors on stderr', global: true })
    .option('color', { type: 'boolean', describe: 'colour (off with --no-color or NO_COLOR)', global: true })
    .example('$0 list', 'the six strategies and what each catches')
    .example('$0 recommend', 'answer a few questions, get a strategy')
    .example('$0 apply --strategy nmi-probes k8s/ --in-place', 'add the checks to existing manifests')
    .example('$0 audit k8s/ --require identity-probes', 'CI gate')
    .example('$0 policy --engine vap -s identity-init', 'enforce on the cluster')
    .epilogue(EPILOGUE)
    .demandCommand(1, 'Give a command; see the list above.')
    .recommendCommands()
    .strict()
    .wrap(Math.min(120, process.stdout.columns || 120))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      if (!usageShown) { usageShown = true; process.stderr.write(`Error: ${msg}\nRun identity-health --help (or <command> --help) for usage.\n`); }
      throw Object.assign(new Error(msg), { name: 'YError', reported: true });
    });
  try {
    await cli.parseAsync();
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (e: any) {
    const code = exitCodeOf(e);
    if (!e.reported) process.stderr.write(code === 70 ? `identity-health: internal error: ${e.stack}\n` : `identity-health: ${e.message}\n`);
    return code;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
