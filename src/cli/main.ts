#!/usr/bin/env node
/**
 * identity-health: pick, explain, synthesize, apply and audit the pod-identity health strategies.
 * Startup stays cheap: command modules load their heavy dependencies (yaml, the strategy core,
 * cdk8s for synth only) inside their handlers, so `--help` loads yargs and nothing else.
 */
import type { Argv } from 'yargs';
import yargs from 'yargs/yargs';
import * as apply from './commands/apply';
import * as audit from './commands/audit';
import * as explain from './commands/explain';
import * as krm from './commands/krm';
import * as list from './commands/list';
import * as policy from './commands/policy';
import * as recommend from './commands/recommend';
import * as synth from './commands/synth';
import { docPath } from './docs';
import { exitCodeOf, EXIT } from './errors';

const EPILOGUE = `Exit codes: 0 ok; 1 policy failure (audit --require not met; krm: a result is an error); 2 usage or input error (bad flag or option value, invalid YAML, conflict with existing probes), nothing written.`;

/** Printed after any help, unwrapped: an install path may be longer than a line and must stay whole. */
const docsNote = () => `Docs: ${docPath('cli.md')}\n  (every command, with real output); pipelines.md (Helm, kustomize, kpt, CI),\n  runtime.md and design.md beside it.\n`;

const NO_COMMAND = 'give a command (the list is above)';

/** camelCase -> kebab-case, as yargs lists an unknown `--foo-bar` twice (foo-bar, fooBar). */
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * yargs' own messages made plain: an unknown flag is listed once, with the closest known flag;
 * an unknown command names itself and the closest command.
 */
function usageMessage(msg: string, args: string[], known: string[], commands: string[]): string {
  const { didYouMean } = require('../suggest') as typeof import('../suggest');
  const word = args.find((x) => !x.startsWith('-'));
  if (/^Did you mean /.test(msg) || (word && !commands.includes(word) && new RegExp(`^Unknown arguments?: ${word}$`).test(msg) && args.indexOf(word) === 0)) {
    return `unknown command "${word}"${didYouMean(String(word), commands)}`;
  }
  const m = /^Unknown arguments?: (.*)$/.exec(msg);
  if (!m) return msg;
  const names = m[1].split(', ');
  const flags = [...new Set(names.map(kebab))].filter((n) => names.includes(n) || !names.includes(kebab(n)));
  const shown = flags.map((n) => {
    const dashed = n.length === 1 ? `-${n}` : `--${n}`;
    return args.some((x) => x === dashed || x.startsWith(`${dashed}=`) || x === `--no-${n}`) ? `${dashed}${didYouMean(n, known.filter((k) => k.length > 1 && k === kebab(k)), '--')}` : `"${n}"`;
  });
  return `unknown ${shown.length > 1 ? 'arguments' : 'argument'}: ${shown.join(', ')}`;
}

/** yargs reads `--flag=maybe` on a boolean flag as false: a typo must not pass for an answer. */
function rejectNonBooleans(args: string[], booleans: string[]): void {
  for (const arg of args) {
    if (arg === '--') break;
    const m = /^--(no-)?([^=]+)=(.*)$/.exec(arg);
    if (m && booleans.includes(m[2]) && !['true', 'false'].includes(m[3])) {
      const { UsageError } = require('./errors') as typeof import('./errors');
      throw new UsageError(`--${m[1] ?? ''}${m[2]} is a yes/no flag: give it alone, --no-${m[2]}, or =true / =false (got "${m[3]}")`);
    }
  }
}

export async function main(args: string[]): Promise<number> {
  let usageShown = false;
  const cli: Argv<any> = yargs(args)
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
    .option('color', { type: 'boolean', describe: 'colour: --color forces it (also when piped), --no-color or NO_COLOR turns it off [default: on a terminal]', global: true })
    .example('$0 list', 'the nine strategies and what each catches')
    .example('$0 recommend', 'answer a few questions, get a strategy')
    .example('$0 apply --strategy nmi-probes k8s/ --in-place', 'add the checks to existing manifests')
    .example('$0 audit k8s/ --require identity-probes', 'CI gate')
    .example('$0 policy --engine vap -s identity-init', 'enforce on the cluster')
    .epilogue(EPILOGUE)
    .middleware((): void => rejectNonBooleans(args, (cli as any).getOptions().boolean), true)
    .demandCommand(1, NO_COMMAND)
    .recommendCommands()
    .strict()
    .help()
    .alias('help', 'h')
    .wrap(Math.min(80, process.stdout.columns || 80))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      if (!usageShown) {
        usageShown = true;
        if (msg === NO_COMMAND) cli.showHelp((h: string) => process.stderr.write(`${h}\n${docsNote()}\n`));
        const known = Object.keys((cli as any).getOptions().key);
        const commands = ['list', 'explain', 'recommend', 'synth', 'apply', 'audit', 'policy', 'krm'];
        process.stderr.write(`Error: ${usageMessage(msg, args, known, commands)}\nRun identity-health --help (or <command> --help) for usage.\n`);
      }
      throw Object.assign(new Error(msg), { name: 'YError', reported: true });
    });
  try {
    await cli.parseAsync();
    if (args.some((x) => x === '--help' || x === '-h')) process.stdout.write(docsNote());
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
