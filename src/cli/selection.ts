/**
 * Which documents a command acts on, shared by apply and krm so both select the same things:
 * label selectors as kubectl writes them, and the ServiceAccounts a workload identity strategy
 * annotates (those the selected workloads run as, or every one when nothing is filtered).
 */
import type { KubeObject } from '../pod-template/types';
import { UsageError } from './errors';

type Labels = Record<string, string>;

/** Splits a selector at the commas outside parentheses: `team in (a,b),tier=web` is two requirements. */
export function splitSelector(s: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) { out.push(s.slice(start, i)); start = i + 1; }
  }
  out.push(s.slice(start));
  return out.map((x) => x.trim()).filter(Boolean);
}

const KEY = '[A-Za-z0-9./_-]+';
const VALUE = '[A-Za-z0-9._-]*';
const EQUALITY = new RegExp(`^(!?)(${KEY})(?:\\s*(!=|==|=)\\s*(${VALUE}))?$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`);

/**
 * One requirement as kubectl takes it (k8s.io/apimachinery labels.Parse): `k=v`, `k==v`, `k!=v`,
 * `k`, `!k`, `k in (a,b)`, `k notin (a,b)`. As in kubectl, `!=` and `notin` also match a missing key.
 */
export function parseRequirement(s: string): (labels: Labels) => boolean {
  const set = SET.exec(s);
  if (set) {
    const [, key, op, list] = set;
    const vals = list.split(',').map((v) => v.trim());
    if (vals.some((v) => !new RegExp(`^${VALUE}$`).test(v))) throw new UsageError(`invalid --selector "${s}": bad value in (${list})`);
    return op === 'in' ? (l) => key in l && vals.includes(l[key]) : (l) => !(key in l) || !vals.includes(l[key]);
  }
  const m = EQUALITY.exec(s);
  if (!m || (m[1] && m[3])) throw new UsageError(`invalid --selector "${s}": expected k=v, k!=v, k, !k, k in (a,b) or k notin (a,b)`);
  const [, not, key, op, value] = m;
  if (op === '!=') return (l) => l[key] !== value;
  if (op) return (l) => l[key] === value;
  return not ? (l) => !(key in l) : (l) => key in l;
}

/** Every requirement of every --selector flag (repeated flags are and-ed, as commas are). */
export function selectorRequirements(selector: unknown): Array<(labels: Labels) => boolean> {
  return ([] as unknown[]).concat(selector ?? []).flatMap((s) => splitSelector(String(s))).map(parseRequirement);
}

const saKey = (ns: unknown, name: unknown) => `${ns ?? ''}/${name}`;

/**
 * The ServiceAccounts to annotate: with a filter, only those the selected workloads run as
 * (serviceAccountName, else `default`, in the workload's namespace); without one, every one
 * (as the mixin does on a chart).
 */
export function serviceAccountTargets(docs: Iterable<unknown>, selected: (d: KubeObject) => boolean, filtered: boolean): (doc: unknown) => boolean {
  const { isWorkload, podTemplateOf } = require('../pod-template/workload') as typeof import('../pod-template/workload');
  const used = new Set<string>();
  if (filtered) {
    for (const v of docs) if (isWorkload(v) && selected(v)) used.add(saKey(v.metadata?.namespace, podTemplateOf(v)?.spec.serviceAccountName ?? 'default'));
  }
  return (v: any) => v?.kind === 'ServiceAccount' && (!filtered || used.has(saKey(v.metadata?.namespace, v.metadata?.name)));
}
