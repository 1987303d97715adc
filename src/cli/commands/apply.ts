/** `apply`: add a strategy to existing manifests, changing only the pod templates of selected workloads. */
import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import { hasFilters, InputArgs, inputPaths, withInputs, workloadFilter } from '../inputs';
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
  const { DiffWriter, InPlaceFile, jsonArrayItem, Spool } = require('../output') as typeof import('../output');

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
  let applied = 0, unchanged = 0, matched = 0, sidecarHint = false, rewritten = 0;
  const inputs = io.resolveInputs(paths, a['max-input-mb']);
  // Workload identity with --client-id annotates ServiceAccounts: every one when no filter is
  // given (as the mixin on a chart), else only those the selected workloads run as (a first pass).
  const annotateSa = Object.keys(plan.serviceAccountAnnotations).length > 0;
  // The first pass (reading every input once more) runs only when a filter is given.
  function* everything(): Generator<unknown> { for (const input of inputs) for (const chunk of io.readChunks(input)) for (const [, , v] of io.objects(io.parse(chunk))) yield v; }
  const targetSa = serviceAccountTargets(everything(), selected, hasFilters(a));
  const isTargetSa = (v: unknown) => annotateSa && targetSa(v);
  let accounts = 0;

  /** The object as the strategy leaves it (or itself), counting and collecting messages. */
  const transform = (v: unknown, at: () => string): unknown => {
    const sa = isTargetSa(v);
    if (!sa && (!isWorkload(v) || !selected(v))) return v;
    if (!sa) matched++;
    try {
      const r = applyPlan(v as any, plan);
      if (r.outcome === 'skipped') skipped.push(`${at()}: ${r.messages.join('; ')}`);
      else if (r.outcome === 'applied') { if (sa) accounts++; else applied++; notes.push(...r.messages.map((m) => `${at()}: ${m}`)); }
      else if (!sa) unchanged++;
      if (!sa && r.outcome !== 'skipped' && needsBinding && !(POD_IDENTITY_LABEL in (podTemplateOf(r.doc as any)?.metadata.labels ?? {}))) {
        notes.push(`${at()}: ${workloadName(v as any)}: warning: ${podIdentityBindingMissing().message}`);
      }
      return r.doc;
    } catch (e: any) {
      if (e.name === 'ConflictError') {
        // One line per workload; how to resolve is said once, below.
        const conflicts = e.conflicts as Array<{ text: string; probe: boolean }>;
        sidecarHint ||= !sa && !!plan.sidecar && conflicts.every((c) => c.probe);
        errors.push(`${at()}: ${e.workload}: ${conflicts.map((c) => c.text).join('; ')}`);
      } else if (e.name === 'InputError') errors.push(`${at()}: ${flagWording(e.message)}`);
      else throw e;
      return v;
    }
  };

  // Stream: each chunk of documents is parsed, transformed and written before the next is read.
  // Output waits in a spool (stdout) or temp files (--in-place) until the whole run succeeded:
  // an error anywhere leaves stdout empty and every file as it was.
  const out = new Spool({ inputs: inputs.map((x) => x.path) });
  const json = !a.diff && !a['in-place'] && a.output === 'json';
  if (json) out.write('{\n  "apiVersion": "v1",\n  "kind": "List",\n  "items": [');
  let items = 0;
  const files: InstanceType<typeof InPlaceFile>[] = [];
  let latin1Noted = false;
  try {
    for (const [n, input] of inputs.entries()) {
      const file = a['in-place'] ? new InPlaceFile(input.file!) : undefined;
      if (file) files.push(file);
      const diff = a.diff ? new DiffWriter(input.name, (t) => out.write(t)) : undefined;
      for (const chunk of io.readChunks(input)) {
        const parsed = io.parse(chunk);
        const changes = new Map<number, unknown>();
        parsed.values.forEach((v, i) => {
          const where = (j?: number) => `${input.name}:${io.lineOf(parsed, i, j)}`;
          if (io.isList(v)) {
            // kind: List (kubectl get -o yaml): its items, the List shape and comments kept.
            let changed = false;
            const after = v.items.map((item, j) => { const t = transform(item, () => where(j)); changed ||= t !== item; return t; });
            if (changed) changes.set(i, { ...v, items: after });
          } else {
            const t = transform(v, () => where());
            if (t !== v) changes.set(i, t);
          }
        });
        if (errors.length) continue; // keep reading: every error is reported at once
        if (json) {
          for (const [i, v] of parsed.values.entries()) {
            const doc = changes.get(i) ?? v;
            for (const item of io.isList(doc) ? doc.items : [doc]) {
              if (item === null || item === undefined) continue;
              out.write(jsonArrayItem(items++, item));
            }
          }
          continue;
        }
        const text = changes.size ? io.rewrite(parsed, changes) : chunk.text;
        if (chunk.latin1 && /[^\x00-\xff]/.test(text)) throw new UsageError(`${input.name}:${chunk.line + 1}: not UTF-8 (read as Latin-1), and the change needs other characters; convert the file to UTF-8; nothing written`);
        if (chunk.latin1 && !latin1Noted && !a.quiet) { latin1Noted = true; process.stderr.write(`identity-health: ${input.name}: not UTF-8: read as Latin-1, its bytes kept as they are\n`); }
        const bytes = Buffer.from(text, chunk.latin1 ? 'latin1' : 'utf8');
        if (diff) diff.feed(chunk.text, text);
        else if (file) file.writeChunk(chunk.start, bytes, changes.size > 0);
        else {
          // Several inputs become one stream; each file's own text is kept byte for byte.
          if (chunk.start === 0 && n > 0 && out.written && !/^---/.test(text)) out.write(out.last === '\n' ? '---\n' : '\n---\n');
          out.write(bytes);
        }
      }
      diff?.end();
      if (!a.diff && !file && !json && out.written && out.last !== '\n') out.write('\n');
      file?.finish();
    }
    if (errors.length) {
      const resolve = ['--on-conflict skip to leave such workloads as they are',
        ...(sidecarHint ? ['--on-conflict sidecar to run the check in a sidecar container whose readiness gates the pod'] : []),
        '--containers <name> to put the check on another container', 'or remove the existing probes'];
      throw new UsageError(`${errors.length} workload${errors.length > 1 ? 's' : ''} could not take ${id}; nothing written:\n  ${errors.join('\n  ')}` +
        (errors.length > errors.filter((x) => /declares no port|no container named|expected a|missing|empty/.test(x)).length ? `\nResolve conflicts with ${resolve.join('; ')}.` : ''));
    }
    if (matched === 0) {
      if (hasFilters(a)) throw new UsageError('no workload matches --kind/--name/--selector; nothing written');
      if (!a.quiet) process.stderr.write('identity-health: no workloads in the input; nothing to change\n');
    }
    // Every file is checked before any is renamed: nothing is written unless all can be.
    for (const f of files) if (f.changed) f.check();
    for (const f of files) if (f.changed) { f.rename(); rewritten++; }
  } catch (e) {
    out.discard();
    throw e;
  } finally {
    for (const f of files) f.release();
  }
  if (json) out.write(items ? '\n  ]\n}\n' : ']\n}\n');
  await out.flush();
  if (!a.quiet) {
    for (const n of notes) process.stderr.write(`identity-health: ${n}\n`);
    for (const s of skipped) process.stderr.write(`identity-health: ${s}\n`);
    const written = a['in-place'] ? `, ${rewritten} file(s) rewritten` : '';
    const sa = annotateSa ? `, ${accounts} ServiceAccount(s) annotated` : '';
    process.stderr.write(`identity-health: ${id}: ${applied} workload(s) changed, ${unchanged} already had it, ${skipped.length} skipped${sa}${written}\n`);
  }
}
