/** `audit`: which checks each workload has, what they achieve, and known defects; a CI gate with --require. */
import type { Argv } from 'yargs';
import { PolicyFailure, UsageError } from '../errors';
import { InputArgs, inputPaths, values, withInputs, workloadFilter } from '../inputs';

interface Args extends InputArgs { require?: string | string[]; format?: 'table' | 'json'; 'skip-helm-hooks'?: string }

export const command = 'audit [paths..]';
export const describe = 'Report the identity checks of each workload, their defects; --require for CI';

export function builder(y: Argv): Argv<Args> {
  return withInputs(y)
    .option('require', { alias: 'r', type: 'string', describe: 'every selected workload must have this strategy (or "any"), free of defects; exit 1 otherwise' })
    .option('format', { type: 'string', choices: ['table', 'json'], describe: 'report format [default: table, or json with --output json]' })
    .option('skip-helm-hooks', { type: 'string', describe: 'leave out Helm hooks (annotation helm.sh/hook) of these types, comma-separated (e.g. test), or every hook with no value: Helm 3 never passes hooks to a post-renderer, so they get no check' })
    .example('$0 audit k8s/', 'what each workload has')
    .example('$0 audit k8s/ --require identity-probes --kind Deployment', 'CI: fail (exit 1) unless every Deployment has it')
    .example('kustomize build overlays/prod | $0 audit - --require any --format json', 'from stdin, machine-readable')
    .example('helm template web ./chart | $0 audit - --require identity-probes --skip-helm-hooks test', 'the Helm gate: the chart\'s test pod is not post-rendered')
    .epilogue('Defects found: curl without --fail, NMI health checked by status only, HOST_IP used but not set, `==` in sh, httpGet probes to 169.254.169.254, missing token Metadata header, missing timeouts, a token check on a pod without the aadpodidbinding label; workload identity: label azure.workload.identity/use missing while the checks expect the webhook env, proxy sidecar requested but not checked, token file read without an expiry check. Errors void the check; warnings do not.') as unknown as Argv<Args>;
}

export async function handler(a: Args): Promise<void> {
  const { auditWorkload, meets } = require('../../audit') as typeof import('../../audit');
  const t = require('../../../strategies/types') as typeof import('../../../strategies/types');
  const STRATEGY_IDS = [...t.STRATEGY_IDS, ...t.WORKLOAD_IDENTITY_STRATEGY_IDS];
  const io = require('../yaml-io') as typeof import('../yaml-io');
  const { styleFor, tableLine, widen } = require('../style') as typeof import('../style');
  const { jsonArrayItem, Spool } = require('../output') as typeof import('../output');

  const required = values(a.require);
  for (const r of required) {
    if (r !== 'any' && !(STRATEGY_IDS as readonly string[]).includes(r)) {
      const { didYouMean } = require('../../suggest') as typeof import('../../suggest');
      throw new UsageError(`unknown strategy "${r}" in --require${didYouMean(r, STRATEGY_IDS)}: expected any or one of ${STRATEGY_IDS.join(', ')}`);
    }
  }
  const selected = workloadFilter(a);
  const skipHooks = a['skip-helm-hooks'] === undefined ? undefined : values(a['skip-helm-hooks']);
  const isSkippedHook = (v: any): boolean => {
    const hook = v?.metadata?.annotations?.['helm.sh/hook'];
    return skipHooks !== undefined && typeof hook === 'string' && (!skipHooks.length || values(hook).some((h) => skipHooks.includes(h)));
  };
  const hooks: string[] = [];
  const errors: string[] = [];
  const inputs = io.resolveInputs(inputPaths(a), a['max-input-mb']);
  const format = a.format ?? (a.output === 'json' ? 'json' : 'table');
  const s = styleFor(process.stdout, a.color);
  // Streamed, and nothing of a workload's report is kept past its document, so memory does not
  // grow with the number of workloads. The report goes to a spool (stdout once the run succeeded):
  // JSON item by item; the table needs every row for its column widths, so its rows (JSON lines),
  // defect lines and the names failing --require wait in spools of their own (memory up to 1 MB,
  // then a temp file) and the widths are running maxima. Summaries and exit codes come from counters.
  const out = new Spool({ inputs: inputs.map((x) => x.path) });
  const aside = () => new Spool(undefined, 2 ** 20);
  const rows = aside();
  const details = aside();
  const failedNames = aside();
  const header = ['WORKLOAD', 'IDENTITY', 'STRATEGIES', 'START GATED', 'RUNTIME', 'OTHER FAULTS', 'DEFECTS'].map(s.bold);
  const widths = widen([], header);
  const HEAD = '{\n  "workloads": [';
  if (format === 'json') out.write(HEAD);
  let count = 0;
  let failed = 0;
  try {
    for (const input of inputs) {
      for (const chunk of io.readChunks(input)) {
        const parsed = io.parse(chunk);
        for (const [i, j, v] of io.objects(parsed)) {
          if (!v || typeof v !== 'object' || !selected(v as any)) continue;
          const line = io.lineOf(parsed, i, j);
          let r;
          try { r = auditWorkload(v as any); } catch (e: any) {
            if (e.name !== 'InputError') throw e;
            errors.push(`${input.name}:${line}: ${e.message}`);
            continue;
          }
          if (!r) continue;
          if (isSkippedHook(v)) { hooks.push(`${r.workload} (${(v as any).metadata.annotations['helm.sh/hook']})`); continue; }
          const unmet = required.filter((req) => !meets(r, req));
          if (unmet.length && format !== 'json') failedNames.write(`${failed ? ', ' : ''}${r.workload}`);
          if (unmet.length) failed++;
          if (format === 'json') { out.write(jsonArrayItem(count++, { file: input.name, line, ...r, ...(required.length ? { unmet } : {}) })); continue; }
          count++;
          const errs = r.defects.filter((d) => d.severity === 'error').length;
          const warns = r.defects.length - errs;
          const strat = r.strategies.join(',') || (r.parts.length ? s.red('none valid') : s.dim('none'));
          const row = [r.workload, r.identity.join(',') || '-', unmet.length ? s.red(strat) : strat, r.claims.startGated, r.claims.runtime, r.claims.otherFaults,
            errs ? s.red(`${errs} error(s)`) + (warns ? `, ${warns} warning(s)` : '') : warns ? s.yellow(`${warns} warning(s)`) : '-'];
          widen(widths, row);
          rows.write(JSON.stringify(row) + '\n');
          for (const d of r.defects) details.write(`${input.name}:${line}: ${r.workload}: ${d.where}: ${d.severity === 'error' ? s.red('error') : s.yellow('warning')} [${d.code}] ${d.message}\n`);
        }
      }
    }
    if (errors.length) throw new UsageError(`${errors.length} workload${errors.length > 1 ? 's' : ''} cannot be audited:\n  ${errors.join('\n  ')}`);
  } catch (e) {
    out.discard();
    throw e;
  }
  if (hooks.length && !a.quiet) process.stderr.write(`identity-health: left out ${hooks.length} Helm hook(s) (--skip-helm-hooks): ${hooks.join(', ')}\n`);
  if (format === 'json') {
    // The rest of what JSON.stringify(_, null, 2) writes for the whole report.
    const whole = JSON.stringify({ workloads: [], ...(required.length ? { require: required, failed } : {}), ...(skipHooks ? { skippedHelmHooks: hooks } : {}) }, null, 2);
    out.write(`${count ? '\n  ]' : ']'}${whole.slice(HEAD.length + 1)}\n`);
  } else {
    if (count) {
      out.write(tableLine(header, widths) + '\n');
      for (const l of rows.lines()) out.write(tableLine(JSON.parse(l), widths) + '\n');
    } else out.write('no workloads in the input\n');
    if (details.written) { out.write('\n'); for (const b of details.blocks()) out.write(b); }
    if (failed) {
      out.write(`\n${s.red('FAIL')}: ${failed} of ${count} workload(s) do not meet --require ${required.join(',')}: `);
      for (const b of failedNames.blocks()) out.write(b);
      out.write('\n');
    } else if (required.length && count === 0) out.write(`\n${s.red('FAIL')}: --require ${required.join(',')} given but no workload selected\n`);
    else if (required.length) out.write(`\n${s.green('OK')}: all ${count} workload(s) meet --require ${required.join(',')}\n`);
  }
  await out.flush();
  if (required.length && count === 0) throw new PolicyFailure('--require given but no workload selected');
  if (failed) throw new PolicyFailure(`${failed} workload(s) do not meet --require ${required.join(',')}`);
}
