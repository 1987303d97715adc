/**
 * `krm`: a KRM function (kustomize / kpt): a config.kubernetes.io/v1 ResourceList on stdin, the
 * items with the strategy applied and a result per conflict or skip on stdout. Options come from
 * functionConfig: a ConfigMap whose data keys are apply's flag names, or our typed kind
 * IdentityHealthStrategy (spec.strategy, spec.options as the library takes them, spec.selector).
 */
import type { Argv } from 'yargs';
import { EXIT, UsageError } from '../errors';
import type { GlobalArgs } from '../inputs';

export const FUNCTION_KIND = 'IdentityHealthStrategy';
export const FUNCTION_API_VERSION = 'identity-health.io/v1alpha1';

export const command = 'krm';
export const describe = 'KRM function: ResourceList on stdin (options in functionConfig), transformed ResourceList on stdout';

export function builder(y: Argv): Argv<GlobalArgs> {
  return y
    .example('kustomize build --enable-alpha-plugins --enable-exec overlays/prod', 'as an exec transformer (docs: pipelines.md, path below)')
    .example('cat resource-list.yaml | $0 krm', 'directly')
    .epilogue(`functionConfig: a ConfigMap with data {strategy: <id>, <apply flag>: <value>, ...} (e.g. client-id, on-conflict, containers, selector, kind, name), or kind ${FUNCTION_KIND} (apiVersion ${FUNCTION_API_VERSION}) with spec {strategy, options, selector, kinds, names}. Exit 1 when a result is an error (kustomize then stops), 2 on bad input.`) as Argv<GlobalArgs>;
}

interface Result { message: string; severity: 'error' | 'warning' | 'info'; resourceRef?: Record<string, string>; file?: { path: string } }

interface Config { strategy: string; options: Record<string, any>; filterArgs: Record<string, unknown> }

function configOf(fc: any): Config {
  const { strategyOptions, STRATEGY_FLAGS } = require('../strategy-flags') as typeof import('../strategy-flags');
  if (!fc || typeof fc !== 'object') throw new UsageError(`functionConfig is missing: give a ConfigMap (data.strategy) or a ${FUNCTION_KIND}`);
  if (fc.kind === 'ConfigMap') {
    const data: Record<string, string> = fc.data ?? {};
    const known = new Set(['strategy', 'on-conflict', 'selector', 'kind', 'name', ...STRATEGY_FLAGS.map((f) => f.flag)]);
    const unknown = Object.keys(data).filter((k) => !known.has(k));
    if (unknown.length) throw new UsageError(`functionConfig ConfigMap: unknown key(s) ${unknown.join(', ')}: expected strategy, on-conflict, selector, kind, name or an apply flag name`);
    // ConfigMap values are strings: booleans are spelled true/false.
    const argv: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) {
      const flag = STRATEGY_FLAGS.find((f) => f.flag === k);
      argv[k] = flag?.kind === 'bool' ? (v === 'true' ? true : v === 'false' ? false : v) : String(v);
    }
    return { strategy: String(data.strategy ?? ''), options: strategyOptions(argv, { onConflict: data['on-conflict'] }), filterArgs: { selector: data.selector, kind: data.kind, name: data.name } };
  }
  if (fc.kind === FUNCTION_KIND) {
    const s = fc.spec ?? {};
    return { strategy: String(s.strategy ?? ''), options: s.options ?? {}, filterArgs: { selector: s.selector, kind: s.kinds, name: s.names } };
  }
  throw new UsageError(`functionConfig kind ${fc.kind}: expected ConfigMap or ${FUNCTION_KIND}`);
}

function refOf(d: any): Record<string, string> {
  return { apiVersion: d.apiVersion, kind: d.kind, name: d.metadata?.name, ...(d.metadata?.namespace ? { namespace: d.metadata.namespace } : {}) };
}

function fileOf(d: any): { path: string } | undefined {
  const a = d.metadata?.annotations ?? {};
  const p = a['internal.config.kubernetes.io/path'] ?? a['config.kubernetes.io/path'];
  return p ? { path: p } : undefined;
}

/** The function itself, pure: ResourceList in, ResourceList out. */
export function transformResourceList(list: any): any {
  if (!list || list.kind !== 'ResourceList' || !Array.isArray(list.items ?? [])) throw new UsageError('stdin is not a ResourceList (kind: ResourceList, items: [...])');
  const { applyPlan } = require('../../pod-template/apply') as typeof import('../../pod-template/apply');
  const { isWorkload } = require('../../pod-template/workload') as typeof import('../../pod-template/workload');
  const { hasFilters, workloadFilter } = require('../inputs') as typeof import('../inputs');
  const { isList } = require('../yaml-io') as typeof import('../yaml-io');
  const { strategyId, flagWording, flagOf } = require('../strategy-flags') as typeof import('../strategy-flags');
  const { planFor } = require('../../transform') as typeof import('../../transform');
  const c = configOf(list.functionConfig);
  const id = strategyId(c.strategy);
  let plan;
  try { plan = planFor(id, c.options); } catch (e: any) {
    // Name the key the user wrote: data.nmi-port in a ConfigMap, spec.options.nmiPort in ours.
    const key = e?.name === 'OptionError' && (list.functionConfig.kind === 'ConfigMap' ? flagOf(e.option) && `data.${flagOf(e.option)}` : `spec.options.${e.option}`);
    throw new UsageError(`functionConfig: ${key ? e.message.replace(`invalid ${e.option} `, `invalid ${key} `) : flagWording(e.message)}`);
  }
  const selected = workloadFilter(c.filterArgs as any);
  const { podTemplateOf } = require('../../pod-template/workload') as typeof import('../../pod-template/workload');
  const { podIdentityBindingMissing, POD_IDENTITY_LABEL } = require('../../audit') as typeof import('../../audit');
  const needsBinding = (require('../../../strategies') as typeof import('../../../strategies')).getStrategy(id).checks === 'identity';
  // The same selection as apply: with a selector, only the ServiceAccounts the selected workloads run as.
  const { serviceAccountTargets } = require('../selection') as typeof import('../selection');
  const targetSa = serviceAccountTargets(list.items ?? [], selected, hasFilters(c.filterArgs as any));
  const results: Result[] = [];
  let changed = 0;
  const one = (d: any): any => {
    // kind: List inside the ResourceList: its items, the List kept.
    if (isList(d)) { const items = d.items.map(one); return items.some((x, i) => x !== d.items[i]) ? { ...d, items } : d; }
    const sa = Object.keys(plan.serviceAccountAnnotations).length > 0 && targetSa(d);
    if (!sa && (!isWorkload(d) || !selected(d))) return d;
    const at = { resourceRef: refOf(d), ...(fileOf(d) ? { file: fileOf(d) } : {}) };
    try {
      const r = applyPlan(d, plan);
      if (r.outcome === 'skipped') results.push({ message: r.messages.join('; '), severity: 'warning', ...at });
      else if (r.outcome === 'applied') { changed++; for (const m of r.messages) results.push({ message: m, severity: 'info', ...at }); }
      // As apply warns: a token check (4-6) on a pod NMI does not bind can never pass.
      if (!sa && r.outcome !== 'skipped' && needsBinding && !(POD_IDENTITY_LABEL in (podTemplateOf(r.doc as any)?.metadata.labels ?? {}))) {
        results.push({ message: podIdentityBindingMissing().message, severity: 'warning', ...at });
      }
      return r.doc;
    } catch (e: any) {
      if (e.name !== 'ConflictError' && e.name !== 'InputError') throw e;
      results.push({ message: flagWording(e.message), severity: 'error', ...at });
      return d;
    }
  };
  const items = (list.items ?? []).map(one);
  results.push({ message: `${id}: ${changed} resource(s) changed`, severity: 'info' });
  return { ...list, items, results };
}

export async function handler(a: GlobalArgs): Promise<void> {
  const io = require('../yaml-io') as typeof import('../yaml-io');
  const YAML = require('yaml') as typeof import('yaml');
  const [input] = io.resolveInputs(['-']);
  // One document (a ResourceList); kustomize sends YAML, kpt may send JSON: JSON is YAML too.
  let list: unknown;
  for (const chunk of io.readChunks(input)) if (chunk.text.trim()) list ??= io.parse(chunk).values[0];
  const out = transformResourceList(list);
  process.stdout.write(a.output === 'json' ? JSON.stringify(out, null, 2) + '\n' : YAML.stringify(out, { lineWidth: 0, version: io.WRITE_VERSION }));
  const errors = out.results.filter((r: Result) => r.severity === 'error');
  if (errors.length) {
    if (!a.quiet) for (const r of errors) process.stderr.write(`identity-health krm: ${r.file ? `${r.file.path}: ` : ''}${r.message}\n`);
    process.exitCode = EXIT.policy;
  }
}
