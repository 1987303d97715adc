/** `apply`: add a strategy to existing manifests, changing only the pod templates of selected workloads. */
import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import { hasFilters, InputArgs, inputPaths, lineOf, withInputs, workloadFilter } from '../inputs';
import { serviceAccountTargets } from '../selection';
import { flagWording, planFromFlags, strategyId, withStrategyFlags } from '../strategy-flags';

interface Args extends InputArgs { strategy: string; 'on-conflict'?: string; 'in-place'?: boolean; diff?: boolean; [k: string]: unknown }

export const command = 'apply [paths..]';
export const describe = 'Add a strategy to existing manifests (files, directories, stdin)';

export function builder(y: Argv): Argv<Args> {
  return withStrategyFlags(withInputs(y)
    .option('strategy', { alias: 's', type: 'string', demandOption: true, describe: 'strategy id (see identity-health list)' })
    .option('on-conflict', { type: 'string', choices: ['error', 'skip', 'sidecar'], default: 'error', describe: 'a container already has a readiness/liveness probe: fail, leave the workload as it is, or run the check in a sidecar' })
    .option('in-place', { alias: 'i', type: 'boolean', describe: 'rewrite changed files (atomically: temp file + rename)' })
    .option('diff', { type: 'boolean', describe: 'print a unified diff instead of the manifests' })
    .conflicts('in-place', 'diff')
    .example('$0 apply -s nmi-init deploy.yaml', 'manifests with an NMI init check, on stdout')
    .example('$0 apply -s identity-probes --client-id <guid> --resource https://vault.azure.net k8s/ -i', 'edit every manifest under k8s/ in place')
    .example('helm template . | $0 apply -s nmi-probes --on-conflict sidecar -', 'from stdin; probes go to a sidecar where the app has its own')
    .example('$0 apply -s nmi-probes --kind Deployment --name api -l tier=backend --containers server --diff k8s/', 'only some workloads, review first')
    .example('$0 apply -s workload-identity-init --client-id <guid> k8s/ -i', 'workload identity: label the pods, annotate their ServiceAccounts')
    .example('helm install web ./chart --post-renderer ./identity-health-post-render.sh', 'as a Helm post-renderer (docs: pipelines.md, path below)')
    .epilogue('Conflicts: a container that already has a readiness or liveness probe is an error (exit 2) naming the workload, container and probe; --on-conflict skip leaves such workloads unchanged and lists them on stderr. Re-running apply changes nothing.')) as unknown as Argv<Args>;
}

export async function handler(a: Args): Promise<void> {
  const { applyPlan } = require('../../pod-template/apply') as typeof import('../../pod-template/apply');
  const { isWorkload, podTemplateOf, workloadName } = require('../../pod-template/workload') as typeof import('../../pod-template/workload');
  const { podIdentityBindingMissing, POD_IDENTITY_LABEL } = require('../../audit') as typeof import('../../audit');
  const { getStrategy } = require('../../../strategies') as typeof import('../../../strategies');
  const io = require('../yaml-io') as typeof import('../yaml-io');

  const id = strategyId(a.strategy);
  const { plan } = planFromFlags(id, a, { onConflict: a['on-conflict'] });
  const paths = inputPaths(a);
  if (a['in-place'] && paths.includes('-')) throw new UsageError('--in-place cannot write to stdin; drop - or --in-place');

  const selected = workloadFilter(a);
  // Token checks (strategies 4-6) on a pod NMI does not bind can never pass: say so (audit: a defect).
  const needsBinding = getStrategy(id).checks === 'identity';
  const errors: string[] = [];
  const skipped: string[] = [];
  const notes: string[] = [];
  let applied = 0, unchanged = 0, matched = 0, sidecarHint = false;
  const results: Array<{ parsed: import('../yaml-io').Parsed; changes: Map<number, unknown> }> = [];
  const parsedAll = io.readInputs(paths, a['max-input-mb']).map(io.parse);
  // Workload identity with --client-id annotates ServiceAccounts: every one when no filter is
  // given (as the mixin on a chart), else only those the selected workloads run as.
  const annotateSa = Object.keys(plan.serviceAccountAnnotations).length > 0;
  const targetSa = serviceAccountTargets(parsedAll.flatMap((p) => p.values), selected, hasFilters(a));
  const isTargetSa = (v: unknown) => annotateSa && targetSa(v);
  let accounts = 0;
  // Read and transform everything before writing anything: an error anywhere leaves every file as it was.
  for (const parsed of parsedAll) {
    const src = parsed.source;
    const changes = new Map<number, unknown>();
    parsed.values.forEach((v, i) => {
      if (isTargetSa(v)) {
        try {
          const r = applyPlan(v as any, plan);
          if (r.outcome === 'applied') { changes.set(i, r.doc); accounts++; } else if (r.outcome === 'skipped') skipped.push(`${src.name}:${lineOf(parsed, i)}: ${r.messages.join('; ')}`);
        } catch (e: any) {
          if (e.name !== 'ConflictError') throw e;
          errors.push(`${src.name}:${lineOf(parsed, i)}: ${e.workload}: ${e.conflicts.map((c: any) => c.text).join('; ')}`);
        }
        return;
      }
      if (!isWorkload(v) || !selected(v)) return;
      matched++;
      try {
        const r = applyPlan(v, plan);
        if (r.outcome === 'applied') { changes.set(i, r.doc); applied++; } else if (r.outcome === 'skipped') skipped.push(`${src.name}:${lineOf(parsed, i)}: ${r.messages.join('; ')}`); else unchanged++;
        if (r.outcome === 'applied') notes.push(...r.messages.map((m) => `${src.name}:${lineOf(parsed, i)}: ${m}`));
        if (r.outcome !== 'skipped' && needsBinding && !(POD_IDENTITY_LABEL in (podTemplateOf(r.doc as any)?.metadata.labels ?? {}))) {
          notes.push(`${src.name}:${lineOf(parsed, i)}: ${workloadName(v)}: warning: ${podIdentityBindingMissing().message}`);
        }
      } catch (e: any) {
        if (e.name === 'ConflictError') {
          // One line per workload; how to resolve is said once, below.
          const conflicts = e.conflicts as Array<{ text: string; probe: boolean }>;
          sidecarHint ||= !!plan.sidecar && conflicts.every((c) => c.probe);
          errors.push(`${src.name}:${lineOf(parsed, i)}: ${e.workload}: ${conflicts.map((c) => c.text).join('; ')}`);
        } else if (e.name === 'InputError') errors.push(`${src.name}:${lineOf(parsed, i)}: ${flagWording(e.message)}`);
        else throw e;
      }
    });
    results.push({ parsed, changes });
  }
  if (errors.length) {
    const resolve = ['--on-conflict skip to leave such workloads as they are',
      ...(sidecarHint ? ['--on-conflict sidecar to run the check in a sidecar container whose readiness gates the pod'] : []),
      '--containers <name> to put the check on another container', 'or remove the existing probes'];
    throw new UsageError(`${errors.length} workload${errors.length > 1 ? 's' : ''} could not take ${id}; nothing written:\n  ${errors.join('\n  ')}` +
      (errors.length > errors.filter((x) => /declares no port|no container named/.test(x)).length ? `\nResolve conflicts with ${resolve.join('; ')}.` : ''));
  }
  if (matched === 0) {
    if (hasFilters(a)) throw new UsageError('no workload matches --kind/--name/--selector; nothing written');
    if (!a.quiet) process.stderr.write('identity-health: no workloads in the input; nothing to change\n');
  }

  const texts = results.map(({ parsed, changes }) => ({ parsed, text: io.rewrite(parsed, changes), changed: changes.size > 0 }));
  if (a.diff) {
    process.stdout.write(texts.map((t) => io.unifiedDiff(t.parsed.source.text, t.text, t.parsed.source.name)).join(''));
  } else if (a['in-place']) {
    for (const t of texts) if (t.changed) io.writeAtomic(t.parsed.source.file!, t.text);
  } else if (a.output === 'json') {
    const YAML = require('yaml') as typeof import('yaml');
    const items = texts.flatMap((t) => YAML.parseAllDocuments(t.text) as any[]).map((d) => d.toJS()).filter((d) => d !== null && d !== undefined);
    process.stdout.write(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2) + '\n');
  } else {
    // Several inputs become one stream; each file's own text is kept byte for byte.
    process.stdout.write(texts.map((t, i) => (i > 0 && !/^---/.test(t.text) ? '---\n' : '') + t.text + (t.text.endsWith('\n') || !t.text ? '' : '\n')).join(''));
  }
  if (!a.quiet) {
    for (const n of notes) process.stderr.write(`identity-health: ${n}\n`);
    for (const s of skipped) process.stderr.write(`identity-health: ${s}\n`);
    const files = a['in-place'] ? `, ${texts.filter((t) => t.changed).length} file(s) rewritten` : '';
    const sa = annotateSa ? `, ${accounts} ServiceAccount(s) annotated` : '';
    process.stderr.write(`identity-health: ${id}: ${applied} workload(s) changed, ${unchanged} already had it, ${skipped.length} skipped${sa}${files}\n`);
  }
}
