/**
 * The one transform core: apply a strategy's plan to a Kubernetes object. `applyPlan` is pure
 * (the CLI and the audit use it); the cdk8s mixins use `applyPlanInPlace` on the JSON that
 * toJson() has just rendered for them.
 */
import { isProbeFileRunner, PREFIX, SIDECAR_NAME, STRATEGIES_ANNOTATION } from './pieces';
import { Container, EnvVar, KubeObject, PodSpec, Probe, PROBE_KINDS, ProbeKind, Volume, VolumeMount } from './types';
import { isWorkload, podTemplateOf, podTemplateProblem, workloadName } from './workload';

export type ConflictPolicy = 'error' | 'skip' | 'sidecar';
export const CONFLICT_POLICIES: readonly ConflictPolicy[] = ['error', 'skip', 'sidecar'];

/** What a strategy adds to a pod template. */
export interface Plan {
  /** Strategy id, recorded in the pod-template annotation. */
  readonly strategy: string;
  /** Init containers, placed before the pod's own (ours sorted by name among themselves, so order of application does not matter). */
  readonly initContainers: readonly Container[];
  readonly volumes: readonly Volume[];
  readonly podLabels: Readonly<Record<string, string>>;
  /** Pod-template annotations (the probe strategies' script, which a volume of `volumes` projects as a file). */
  readonly podAnnotations: Readonly<Record<string, string>>;
  /** Annotations for ServiceAccount objects the plan is applied to (workload identity client id). */
  readonly serviceAccountAnnotations: Readonly<Record<string, string>>;
  /** Added to each target container. */
  readonly target: {
    readonly env: readonly EnvVar[];
    readonly volumeMounts: readonly VolumeMount[];
    /** Probes to set; a function where they depend on the container (e.g. its first port). */
    readonly probes: ProbeSet | ((container: Container) => ProbeSet);
  };
  /** Target containers by name; empty means the first app container. */
  readonly containers: readonly string[];
  readonly onConflict: ConflictPolicy;
  /**
   * Where the probes go under `onConflict: 'sidecar'`: a container (with the env and mounts the
   * check needs) that receives `target.probes`. Absent where the check must run in the app.
   */
  readonly sidecar?: Container;
}

export type ProbeSet = Readonly<Partial<Record<ProbeKind, Probe>>>;

function probesFor(t: Plan['target'], c: Container, workload: string): ProbeSet {
  try {
    return typeof t.probes === 'function' ? t.probes(c) : t.probes;
  } catch (e) {
    throw e instanceof InputError ? new InputError(`${workload}: ${e.message}`) : e;
  }
}

export interface ApplyResult {
  readonly doc: KubeObject;
  /** `applied`: changed; `unchanged`: already there (or not a workload); `skipped`: conflict under `skip`. */
  readonly outcome: 'applied' | 'unchanged' | 'skipped' | 'not-workload';
  readonly messages: readonly string[];
}

/** A container already has something the strategy needs to set. */
export class ConflictError extends Error {
  constructor(readonly workload: string, readonly conflicts: readonly Conflict[], readonly sidecarPossible: boolean) {
    super(`${workload}: ${conflicts.map((c) => c.text).join('; ')}. ` +
      'Resolve with one of: remove or rename what is there; choose other containers (option containers); ' +
      `onConflict 'skip' to leave this workload as it is` +
      (sidecarPossible ? `; onConflict 'sidecar' to run the check in a sidecar container whose readiness gates the pod` : '') + '.');
    this.name = 'ConflictError';
  }
}

/** Bad input that no conflict policy resolves (e.g. a container name that does not exist). */
export class InputError extends Error {
  constructor(message: string) { super(message); this.name = 'InputError'; }
}

export interface Conflict { readonly text: string; readonly probe: boolean }

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  // Keys with undefined values count as absent; no key arrays are built (it runs per workload, per node).
  let n = 0;
  for (const k in a) {
    const v = (a as any)[k];
    if (v === undefined) continue;
    if (!deepEqual(v, (b as any)[k])) return false;
    n++;
  }
  for (const k in b) if ((b as any)[k] !== undefined) n--;
  return n === 0;
}

/** Deep copy of plain JSON; several times faster than structuredClone on the small objects added per workload. */
export function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) o[k] = cloneJson((v as Record<string, unknown>)[k]);
    return o as T;
  }
  return v;
}

function byName<T extends { name: string }>(list: readonly T[] | undefined, name: string): T | undefined {
  return list?.find((x) => x.name === name);
}

function targetContainers(spec: PodSpec, plan: Plan, workload: string): Container[] {
  const app = spec.containers.filter((c) => c.name !== SIDECAR_NAME);
  if (plan.containers.length === 0) return app.slice(0, 1);
  return plan.containers.map((n) => {
    const c = byName(app, n);
    if (!c) throw new InputError(`${workload}: no container named "${n}" (containers: ${app.map((x) => x.name).join(', ')})`);
    return c;
  });
}

/** The first lines of our probe script in every release (`ih_` names before the scripts were shortened). */
const OUR_PROBE_SCRIPT = /^set -u\n(ih_)?mode=\$\{1:-readiness\}; (ih_)?state=/;

/** A probe's fields other than its handler, as Kubernetes reads them: successThreshold 1 is the API default, written or not. */
function timingOf(p: Probe): Record<string, unknown> {
  const { exec: _exec, ...rest } = p;
  if (rest.successThreshold === 1) delete rest.successThreshold;
  return rest;
}

/**
 * `have` is an exec probe that a release of ours wrote where we now write `want`: the same mode
 * and timings, running our script inline (`sh -c <script> identity-health <mode>`, the releases
 * before one script per pod) or our script file through a runner (`sh -c '[ -s "$0" ] ...' <file>
 * <mode>`). Whatever script (options, release) it ran, it is ours: apply rewrites it to `want`.
 */
function earlierOurs(have: Probe | undefined, want: Probe): boolean {
  const h = have?.exec?.command;
  const w = want.exec?.command;
  if (!Array.isArray(h) || !w || h.length !== 5 || h[0] !== w[0] || h[1] !== '-c' || h[4] !== w[4]) return false;
  if (!deepEqual(timingOf(have!), timingOf(want))) return false;
  return h[3] === PREFIX ? OUR_PROBE_SCRIPT.test(String(h[2])) : h[3] === w[3] && isProbeFileRunner(h[2]);
}

/** `have` is what `want` (a probe of ours) was, or is: nothing to do but write `want`. */
function ourProbe(have: Probe | undefined, want: Probe): boolean {
  return deepEqual(have, want) || earlierOurs(have, want);
}

/** `have` is our sidecar as a release of ours wrote it (probes inline, or another script or runner). */
function earlierSidecar(have: Container, sidecar: Container, plan: Plan): boolean {
  const projected = new Set(plan.volumes.filter((v) => v.downwardAPI).map((v) => v.name));
  const rest = (c: Container) => {
    const out: Record<string, unknown> = { ...c, volumeMounts: c.volumeMounts?.filter((m) => !projected.has(m.name)) };
    for (const kind of PROBE_KINDS) delete out[kind];
    return out;
  };
  return deepEqual(rest(have), rest(sidecar)) && PROBE_KINDS.every((k) => (sidecar[k] ? ourProbe(have[k], sidecar[k]!) : !have[k]));
}

/** What of `plan` clashes with what the pod template already has. */
function findConflicts(spec: PodSpec, labels: Record<string, string>, plan: Plan, targets: Container[], workload: string): Conflict[] {
  const out: Conflict[] = [];
  for (const ic of plan.initContainers) {
    const have = byName(spec.initContainers, ic.name);
    if (have && !deepEqual(have, ic)) out.push({ text: `init container "${ic.name}" exists with other content`, probe: false });
  }
  for (const v of plan.volumes) {
    const have = byName(spec.volumes, v.name);
    if (have && !deepEqual(have, v)) out.push({ text: `volume "${v.name}" exists with other content`, probe: false });
  }
  for (const [k, v] of Object.entries(plan.podLabels)) {
    if (k in labels && labels[k] !== v) out.push({ text: `pod label ${k}="${labels[k]}" differs from "${v}"`, probe: false });
  }
  // The script annotations are ours by name: whatever an earlier apply left there is rewritten.
  for (const c of targets) {
    let probes: ProbeSet;
    try {
      probes = probesFor(plan.target, c, workload);
    } catch (e) {
      // The probes cannot be built for this container (e.g. no port for an app check). If it
      // already has probes of its own, that is a conflict the policy decides (skip, ...).
      const own = PROBE_KINDS.filter((k) => k !== 'startupProbe' && c[k]);
      if (!(e instanceof InputError) || own.length === 0) throw e;
      out.push(...own.map((k) => ({ text: `container "${c.name}" already has a ${k}`, probe: true })));
      continue;
    }
    out.push(...containerConflicts(c, plan, probes));
  }
  return out;
}

function containerConflicts(c: Container, plan: Plan, probes: ProbeSet): Conflict[] {
  const out: Conflict[] = [];
  const t = plan.target;
  for (const e of t.env) {
    const have = byName(c.env, e.name);
    if (have && !deepEqual(have, e)) out.push({ text: `container "${c.name}" sets env ${e.name} differently`, probe: false });
  }
  for (const m of t.volumeMounts) {
    const clash = c.volumeMounts?.find((x) => (x.name === m.name || x.mountPath === m.mountPath) && !deepEqual(x, m));
    if (clash) out.push({ text: `container "${c.name}" mounts ${clash.name} at ${clash.mountPath}, which clashes with ${m.name} at ${m.mountPath}`, probe: false });
  }
  for (const kind of PROBE_KINDS) {
    const want = probes[kind];
    // An existing startup probe is kept: it gates liveness as ours would (the liveness
    // check has its own startup grace), so it is not a conflict.
    if (want && c[kind] && kind !== 'startupProbe' && !ourProbe(c[kind], want)) {
      out.push({ text: `container "${c.name}" already has a ${kind}`, probe: true });
    }
  }
  return out;
}

/** Adds the items whose name is not there yet; returns how many were added. */
function addByName<T extends { name: string }>(list: T[], items: readonly T[]): number {
  let added = 0;
  for (const it of items) if (!byName(list, it.name)) { list.push(cloneJson(it) as T); added++; }
  return added;
}

function addToContainer(c: Container, plan: Plan, probes: ProbeSet): number {
  let added = 0;
  const t = plan.target;
  if (t.env.length) added += addByName((c.env ??= []), t.env);
  if (t.volumeMounts.length) added += addByName((c.volumeMounts ??= []), t.volumeMounts);
  for (const kind of PROBE_KINDS) {
    const want = probes[kind];
    // Absent, or as a release of ours wrote it (upgraded in place).
    if (want && (!c[kind] || (!deepEqual(c[kind], want) && earlierOurs(c[kind], want)))) { c[kind] = cloneJson(want); added++; }
  }
  return added;
}

/** Our init containers go first (identity is ready before any other init step), in a fixed order. */
function placeInitContainers(spec: PodSpec, add: readonly Container[]): number {
  const list = (spec.initContainers ??= []);
  let added = 0;
  for (const ic of add) {
    if (byName(list, ic.name)) continue;
    let at = 0;
    while (at < list.length && list[at].name.startsWith(PREFIX) && list[at].name < ic.name) at++;
    list.splice(at, 0, cloneJson(ic));
    added++;
  }
  return added;
}

/**
 * Apply `plan` to `doc` in place (the mixins own the freshly rendered JSON, so no copy is
 * needed there). Conflicts are found before anything is written: a skipped or failing
 * workload is left exactly as it was.
 */
export function applyPlanInPlace(doc: KubeObject, plan: Plan): Omit<ApplyResult, 'doc'> {
  const sa = doc.kind === 'ServiceAccount' && Object.keys(plan.serviceAccountAnnotations).length > 0;
  // A field of the wrong type is a clear error naming it, never a TypeError or a silent skip.
  const bad = (sa || isWorkload(doc)) && podTemplateProblem(doc);
  if (bad) throw new InputError(`${sa ? 'ServiceAccount' : doc.kind} ${doc.metadata?.name ?? '<unnamed>'}: ${bad}`);
  if (sa) return annotateServiceAccount(doc, plan);
  const tpl = podTemplateOf(doc);
  if (!tpl) return { outcome: 'not-workload', messages: [] };
  const name = workloadName(doc);
  const { spec } = tpl;
  const labels = tpl.metadata.labels ?? {};
  const annotations = tpl.metadata.annotations ?? {};
  const targets = targetContainers(spec, plan, name);
  const conflicts = findConflicts(spec, labels, plan, targets, name);
  let useSidecar = false;
  if (conflicts.length) {
    const text = conflicts.map((c) => c.text).join('; ');
    const sidecarPossible = !!plan.sidecar && conflicts.every((c) => c.probe);
    if (plan.onConflict === 'skip') return { outcome: 'skipped', messages: [`skipped ${name}: ${text}`] };
    if (plan.onConflict === 'sidecar' && !plan.sidecar) {
      throw new InputError(`${name}: strategy ${plan.strategy} checks inside the app's own health endpoint, so it cannot move into a sidecar: ${text}`);
    }
    if (plan.onConflict !== 'sidecar' || !sidecarPossible) throw new ConflictError(name, conflicts, sidecarPossible);
    if (doc.kind === 'Job' || doc.kind === 'CronJob') {
      throw new InputError(`${name}: a sidecar container would keep the Job from completing: ${text}; use onConflict 'skip' or an init strategy`);
    }
    useSidecar = true;
  }

  let changes = 0;
  if (plan.initContainers.length) changes += placeInitContainers(spec, plan.initContainers);
  if (plan.volumes.length) changes += addByName((spec.volumes ??= []), plan.volumes);
  for (const [k, v] of Object.entries(plan.podLabels)) {
    if (labels[k] !== v) { (tpl.writableMetadata().labels ??= {})[k] = v; changes++; }
  }
  for (const [k, v] of Object.entries(plan.podAnnotations)) {
    if (annotations[k] !== v) { (tpl.writableMetadata().annotations ??= {})[k] = v; changes++; }
  }
  if (useSidecar) {
    const sidecar = { ...cloneJson(plan.sidecar!), ...cloneJson(probesFor(plan.target, plan.sidecar!, name)) };
    const at = spec.containers.findIndex((c) => c.name === SIDECAR_NAME);
    const have = spec.containers[at];
    if (have && !deepEqual(have, sidecar)) {
      if (!earlierSidecar(have, sidecar, plan)) {
        throw new ConflictError(name, [{ text: `container "${SIDECAR_NAME}" exists with other content`, probe: false }], false);
      }
      spec.containers[at] = sidecar; // as a release of ours wrote it: upgraded in place
      changes++;
    }
    if (!have) { spec.containers.push(sidecar); changes++; }
  } else {
    for (const c of targets) changes += addToContainer(c, plan, probesFor(plan.target, c, name));
  }
  const ids = new Set((tpl.metadata.annotations?.[STRATEGIES_ANNOTATION] ?? '').split(',').filter(Boolean));
  if (!ids.has(plan.strategy)) {
    ids.add(plan.strategy);
    (tpl.writableMetadata().annotations ??= {})[STRATEGIES_ANNOTATION] = [...ids].sort().join(',');
    changes++;
  }
  if (changes === 0) return { outcome: 'unchanged', messages: [] };
  return { outcome: 'applied', messages: useSidecar ? [`${name}: probes conflict, check runs in sidecar "${SIDECAR_NAME}"`] : [] };
}

function annotateServiceAccount(doc: KubeObject, plan: Plan): Omit<ApplyResult, 'doc'> {
  const name = `ServiceAccount ${doc.metadata?.namespace ? `${doc.metadata.namespace}/` : ''}${doc.metadata?.name ?? '<unnamed>'}`;
  const have = doc.metadata?.annotations ?? {};
  const clash = Object.entries(plan.serviceAccountAnnotations).filter(([k, v]) => k in have && have[k] !== v);
  if (clash.length) {
    const conflicts = clash.map(([k, v]) => ({ text: `annotation ${k}="${have[k]}" differs from "${v}"`, probe: false }));
    if (plan.onConflict === 'skip') return { outcome: 'skipped', messages: [`skipped ${name}: ${conflicts.map((c) => c.text).join('; ')}`] };
    throw new ConflictError(name, conflicts, false);
  }
  const missing = Object.entries(plan.serviceAccountAnnotations).filter(([k]) => !(k in have));
  if (!missing.length) return { outcome: 'unchanged', messages: [] };
  const annotations = ((doc.metadata ??= {}).annotations ??= {});
  for (const [k, v] of missing) annotations[k] = v;
  return { outcome: 'applied', messages: [] };
}

/** Apply `plan` to `input`; returns a new object, or `input` itself when nothing changes. */
export function applyPlan(input: KubeObject, plan: Plan): ApplyResult {
  const doc = cloneJson(input);
  const r = applyPlanInPlace(doc, plan);
  return { ...r, doc: r.outcome === 'applied' ? doc : input };
}
