/**
 * Audit of one workload: which identity-health checks its pod template has (ours, recognised by
 * name and annotation, or hand-written ones, recognised by what their scripts do), which of the
 * strategy table's claims those checks achieve, and known defects. Pure (JSON in, JSON out) so
 * the CLI and, later, cluster policies share it.
 */
import { AnyStrategyId, getStrategy, STRATEGY_IDS, WORKLOAD_IDENTITY_STRATEGY_IDS } from '../../strategies';
import { deepEqual, InputError } from '../pod-template/apply';
import { isProbeFileRunner, PREFIX, projectedScript, SIDECAR_NAME, STRATEGIES_ANNOTATION } from '../pod-template/pieces';
import type { Container, KubeObject, Probe, Volume } from '../pod-template/types';
import { isWorkload, podTemplateOf, podTemplateProblem, workloadName } from '../pod-template/workload';
import { RUNTIME_ENV } from '../runtime/env';
import { planFor } from '../transform';

export type Placement = 'init' | 'probes' | 'app';
export type CheckKind = 'nmi' | 'identity' | 'workload-identity';
type StrategyId = AnyStrategyId;
/** All nine strategies, in table order. */
const ALL_IDS: readonly StrategyId[] = [...STRATEGY_IDS, ...WORKLOAD_IDENTITY_STRATEGY_IDS];
export const WI_LABEL = 'azure.workload.identity/use';
export const WI_PROXY_ANNOTATION = 'azure.workload.identity/inject-proxy-sidecar';
export const POD_IDENTITY_LABEL = 'aadpodidbinding';
/** Env the workload identity webhook injects. */
const WI_ENV = /AZURE_FEDERATED_TOKEN_FILE/;
export type Severity = 'error' | 'warning';

/** One check found in the pod template. */
export interface Part {
  readonly placement: Placement;
  /** Where: `initContainer x`, `container y readinessProbe`, `container y (app endpoint)`. */
  readonly where: string;
  readonly checks: CheckKind;
  /** For probes and app checks: which kinds carry it. */
  readonly probes: readonly ('readiness' | 'liveness' | 'startup')[];
  /** Added by this tool (recognised by name), rather than hand-written. */
  readonly ours: boolean;
}

export interface Defect { readonly code: string; readonly severity: Severity; readonly where: string; readonly message: string }

export interface Claims { readonly startGated: string; readonly runtime: string; readonly otherFaults: string }

export interface WorkloadAudit {
  readonly workload: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  /**
   * Which identity the pod uses: pod (label aadpodidbinding), workload (label
   * azure.workload.identity/use: "true", or a container reading the webhook's env).
   */
  readonly identity: Array<'pod' | 'workload'>;
  /** Strategies the checks amount to (a check with an error-level defect does not count). */
  readonly strategies: StrategyId[];
  /** Strategies listed in the identity-health.io/strategies annotation. */
  readonly annotated: string[];
  readonly parts: Part[];
  readonly claims: Claims;
  readonly defects: Defect[];
}

const IMDS = '169.254.169.254';
const TOKEN_PATH = /metadata\/identity\/oauth2\/token/;
/** `az login ... --identity` (within one command) or `az account get-access-token`; linear in the script. */
function azIdentity(script: string): boolean {
  if (/\baz\s+account\s+get-access-token/.test(script)) return true;
  return segments(script, /[\n;|&]/).some((seg) => { const k = seg.search(/\baz\s+login\s/); return k >= 0 && seg.includes('--identity', k); });
}

/** The script split at the given delimiter characters (one pass; regexes then run per segment, never across). */
function segments(script: string, delims: RegExp): string[] {
  return script.split(delims);
}
const NMI_HEALTH = /healthz/;

/** Our parts' names, taken from the strategies' own default plans so that names live in one place. */
let ourInitNames: Map<string, StrategyId> | undefined;
function initNames(): Map<string, StrategyId> {
  if (!ourInitNames) {
    ourInitNames = new Map();
    for (const id of ALL_IDS) for (const c of planFor(id).initContainers) ourInitNames.set(c.name, id);
  }
  return ourInitNames;
}

/** Each argument on its own line, so a script passed as `sh -c <script>` starts in command position. */
function scriptOf(argv: readonly unknown[] | undefined): string {
  return (argv ?? []).map(String).join('\n');
}

/**
 * The text an exec probe runs: its arguments, and the script of any argument that names a file a
 * downwardAPI volume projects from a pod annotation (how the probe strategies write it once per
 * pod). A file that cannot be there is a defect: the probe fails on every run, or, with its
 * annotation gone, runs an empty file.
 */
function probeText(argv: readonly unknown[], c: Container, tpl: { spec: { volumes?: Volume[] }; metadata: { annotations?: Record<string, string> } }, where: string, defects: Defect[]): string {
  let text = scriptOf(argv);
  let resolved = false;
  for (const a of argv.slice(1)) {
    const r = projectedScript(a, c.volumeMounts, tpl.spec.volumes, tpl.metadata.annotations);
    if (!r) continue;
    resolved = true;
    if ('script' in r) text += `\n${r.script}`;
    else defects.push({ code: 'probe-script-missing', severity: 'error', where, message: `${r.problem}: the probe cannot run its check` });
  }
  if (!resolved && isProbeFileRunner(argv[2])) {
    defects.push({ code: 'probe-script-missing', severity: 'error', where, message: `${String(argv[3])}: no volume of the container holds it (the identity-health volume mount was removed?): the probe fails on every run` });
  }
  return text;
}

function isShell(cmd0: unknown): 'sh' | 'bash' | 'other' {
  const s = String(cmd0 ?? '');
  if (/(^|\/)(sh|ash|dash)$/.test(s)) return 'sh';
  if (/(^|\/)(bash|zsh|ksh)$/.test(s)) return 'bash';
  return 'other';
}

/**
 * Each curl/wget invocation in command position (line start, after ; | & ( { $( ` then do else,
 * optionally wrapped in `timeout N`), so `command -v curl` and messages that name curl do not count.
 */
function invocations(script: string): Array<{ client: 'curl' | 'wget'; args: string; bounded: boolean }> {
  const out: Array<{ client: 'curl' | 'wget'; args: string; bounded: boolean }> = [];
  const re = /(?:^|[;|&({`]|\$\(|\bthen\b|\bdo\b|\belse\b)[ \t]*(timeout\s+\S+\s+)?(curl|wget)(?=\s)/gm;
  let m: RegExpExecArray | null;
  // The arguments run to the next command delimiter; that position is found once per delimiter,
  // not once per invocation, so many invocations between two delimiters stay linear.
  // Arguments also stop where the next invocation starts, so their total length is the script's.
  const delim = /[;\n|&)`]/g;
  let next = -1;
  const found: RegExpExecArray[] = [];
  while ((m = re.exec(script))) found.push(m);
  for (const [i, f] of found.entries()) {
    const from = f.index + f[0].length;
    if (next < from) {
      delim.lastIndex = from;
      next = delim.exec(script)?.index ?? script.length;
    }
    out.push({ client: f[2] as 'curl' | 'wget', args: script.slice(from, Math.min(next, found[i + 1]?.index ?? Infinity)), bounded: !!f[1] });
  }
  return out;
}

function hasShortFlag(args: string, letter: string): boolean {
  return args.split(/\s+/).some((t) => /^-[A-Za-z]+$/.test(t) && t.includes(letter));
}

interface ScriptFacts { nmi: boolean; token: boolean; wi: boolean; proxy: boolean }

/** What a script checks, and its defects. */
function analyseScript(script: string, shell: 'sh' | 'bash' | 'other', where: string, env: Set<string>, defects: Defect[]): ScriptFacts {
  const token = TOKEN_PATH.test(script) || azIdentity(script);
  const nmi = NMI_HEALTH.test(script) && (/HOST_IP/.test(script) || /:8085\b/.test(script) || /\bnmi\b/i.test(script));
  const wi = WI_ENV.test(script);
  const proxy = wi && /readyz/.test(script);
  if (!token && !nmi && !wi) return { nmi, token, wi, proxy };
  const add = (code: string, severity: Severity, message: string) => defects.push({ code, severity, where, message });
  for (const inv of invocations(script)) {
    if (inv.client === 'curl') {
      if (!/--fail(-with-body)?\b/.test(inv.args) && !hasShortFlag(inv.args, 'f')) {
        add('curl-no-fail', 'error', 'curl without --fail exits 0 on HTTP 4xx/5xx, so a failed request passes the check');
      }
      if (!inv.bounded && !/--max-time\b/.test(inv.args) && !hasShortFlag(inv.args, 'm')) {
        add('no-timeout', 'warning', 'curl without --max-time: a hung request holds the check until kubelet kills it');
      }
    } else if (!inv.bounded && !/(^|\s)(-T\s*[0-9]|--timeout)/.test(inv.args)) {
      add('no-timeout', 'warning', 'wget without `timeout N` or -T: a hung request holds the check until kubelet kills it');
    }
  }
  if (nmi && !/Active/.test(script)) {
    add('nmi-status-only', 'error', "NMI health is checked by status only: NMI answers 200 while 'Not Active'; compare the body with Active");
  }
  if (token && TOKEN_PATH.test(script) && !/Metadata:\s*true/i.test(script)) {
    add('no-metadata-header', 'error', "token request without the 'Metadata: true' header: IMDS rejects it");
  }
  if (/HOST_IP/.test(script) && !env.has('HOST_IP')) {
    add('host-ip-unset', 'error', 'uses HOST_IP but the container does not set it (env HOST_IP from fieldRef status.hostIP)');
  }
  if (shell === 'sh' && segments(script, /[\]\n;]/).some((seg) => { const k = seg.search(/\[\s|\btest\s/); return k >= 0 && /\s==\s/.test(seg.slice(k)); })) {
    add('sh-double-equals', 'error', "`==` in a POSIX sh test: dash and BusyBox ash reject it, so the check always fails; use `=`");
  }
  if (wi && !/\bexp\b/.test(script)) {
    add('wi-no-expiry', 'warning', 'reads the federated token file but never compares its exp claim with the time: an expired projected token passes');
  }
  return { nmi, token, wi, proxy };
}

function envNames(c: Container): Set<string> {
  return new Set((c.env ?? []).map((e) => e.name));
}

function envValue(c: Container, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}

const KINDS = [['readinessProbe', 'readiness'], ['livenessProbe', 'liveness'], ['startupProbe', 'startup']] as const;

function probeDefects(c: Container, kind: string, p: Probe, defects: Defect[]): void {
  const where = `container ${c.name} ${kind}`;
  const g = p.httpGet as { host?: string; port?: unknown; path?: string } | undefined;
  if (g?.host === IMDS) {
    defects.push({ code: 'httpget-imds', severity: 'error', where, message: "httpGet probe to 169.254.169.254: kubelet probes from the node's network, bypassing NMI, so it tests the node's identity, not the pod's" });
  }
  if (g && /healthz/.test(String(g.path ?? '')) && (String(g.port) === '8085' || /HOST_IP/.test(String(g.host ?? '')))) {
    defects.push({ code: 'nmi-status-only', severity: 'error', where, message: "httpGet probe to NMI's health port cannot see the body: NMI answers 200 while 'Not Active'" });
  }
}

export function auditWorkload(doc: KubeObject): WorkloadAudit | undefined {
  const bad = isWorkload(doc) && podTemplateProblem(doc);
  if (bad) throw new InputError(`${workloadName(doc)}: ${bad}`);
  const tpl = podTemplateOf(doc); // read only: no copy (a structured clone per workload was a fifth of audit's time)
  if (!tpl) return undefined;
  const parts: Part[] = [];
  const defects: Defect[] = [];
  const annotated = (tpl.metadata.annotations?.[STRATEGIES_ANNOTATION] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const names = initNames();
  let proxyChecked = false;

  for (const c of tpl.spec.initContainers ?? []) {
    const where = `initContainer ${c.name}`;
    const argv = [...(c.command ?? []), ...(c.args ?? [])];
    const before = defects.length;
    const f = analyseScript(scriptOf(argv), isShell(argv[0]), where, envNames(c), defects);
    if (f.proxy) proxyChecked = true;
    if (f.nmi || f.token || f.wi) parts.push({ placement: 'init', where, checks: kindOf(f), probes: [], ours: names.has(c.name), ...voids(defects, before) });
  }

  for (const c of tpl.spec.containers ?? []) {
    const env = envNames(c);
    const probed: Array<'readiness' | 'liveness' | 'startup'> = [];
    let facts: ScriptFacts = { nmi: false, token: false, wi: false, proxy: false };
    const before = defects.length;
    let ours = c.name === SIDECAR_NAME;
    for (const [key, short] of KINDS) {
      const p = c[key];
      if (!p) continue;
      probeDefects(c, key, p, defects);
      const argv = p.exec?.command;
      if (!argv) continue;
      const where = `container ${c.name} ${key}`;
      const f = analyseScript(probeText(argv, c, tpl, where, defects), isShell(argv[0]), where, env, defects);
      if (!f.nmi && !f.token && !f.wi) continue;
      probed.push(short);
      facts = { nmi: facts.nmi || f.nmi, token: facts.token || f.token, wi: facts.wi || f.wi, proxy: facts.proxy || f.proxy };
      if (f.proxy) proxyChecked = true;
      ours ||= argv[3] === PREFIX || isProbeFileRunner(argv[2]);
      if ((short === 'readiness' || short === 'liveness') && p.timeoutSeconds === undefined) {
        defects.push({ code: 'no-timeout', severity: 'warning', where: `container ${c.name} ${key}`, message: "exec probe without timeoutSeconds: kubelet's default of 1 s is too short for a network check" });
      }
    }
    if (probed.length) {
      parts.push({ placement: 'probes', where: `container ${c.name}`, checks: kindOf(facts), probes: dedupe(probed), ours, ...voids(defects, before) });
    }
    // App checks: the runtime module reads its settings from env; kubelet calls the app with httpGet.
    const appCheck = envValue(c, RUNTIME_ENV.check);
    if (appCheck === 'nmi' || appCheck === 'identity' || appCheck === 'workload-identity') {
      const where = `container ${c.name} (app endpoint)`;
      const b2 = defects.length;
      if (env.has(RUNTIME_ENV.wiProxyPort)) proxyChecked = true;
      if (appCheck !== 'workload-identity' && !env.has('HOST_IP')) defects.push({ code: 'host-ip-unset', severity: 'error', where, message: 'the app check reads HOST_IP but the container does not set it (env HOST_IP from fieldRef status.hostIP)' });
      const viaHttp = KINDS.filter(([k]) => c[k]?.httpGet).map(([, s]) => s);
      parts.push({ placement: 'app', where, checks: appCheck, probes: viaHttp, ours: true, ...voids(defects, b2) });
    }
  }

  // Workload identity: the webhook injects the env (and token volume) only into pods labelled
  // azure.workload.identity/use: "true"; without it every such check fails forever.
  const labels = tpl.metadata.labels ?? {};
  const annotations = tpl.metadata.annotations ?? {};
  const allContainers = [...(tpl.spec.initContainers ?? []), ...(tpl.spec.containers ?? [])];
  const wiParts = parts.filter((p) => p.checks === 'workload-identity');
  if (wiParts.length && labels[WI_LABEL] !== 'true') {
    const declared = allContainers.some((c) => envNames(c).has('AZURE_FEDERATED_TOKEN_FILE'));
    defects.push({ code: 'wi-label-missing', severity: declared ? 'warning' : 'error', where: 'pod template labels',
      message: `workload identity checks expect the webhook's env (AZURE_FEDERATED_TOKEN_FILE, ...) but the pod lacks label ${WI_LABEL}: "true", so the webhook does not inject it and the checks ${declared ? 'rely on env set by hand' : 'always fail'}` });
    if (!declared) for (const p of wiParts) (p as any).void = true;
  }
  // Pod identity: NMI gives a token only to a pod whose aadpodidbinding label matches an
  // AzureIdentityBinding (aad-pod-identity docs, "Create an AzureIdentityBinding"); without the
  // label every token request is refused (404), so a token check can never pass.
  if (parts.some((p) => p.checks === 'identity') && !(POD_IDENTITY_LABEL in labels)) {
    defects.push(podIdentityBindingMissing());
  }
  if (annotations[WI_PROXY_ANNOTATION] === 'true' && (labels[WI_LABEL] === 'true' || wiParts.length) && !proxyChecked) {
    defects.push({ code: 'wi-proxy-unchecked', severity: 'warning', where: WI_PROXY_ANNOTATION,
      message: 'the pod asks for the migration proxy sidecar but no check waits for its /readyz (apply a workload identity strategy with --proxy-sidecar)' });
  }
  const identity: Array<'pod' | 'workload'> = [];
  if (POD_IDENTITY_LABEL in labels || parts.some((p) => p.checks !== 'workload-identity')) identity.push('pod');
  if (labels[WI_LABEL] === 'true' || wiParts.length || allContainers.some((c) => (c.env ?? []).some((e) => /^AZURE_FEDERATED_TOKEN_FILE$/.test(e.name)) || WI_ENV.test(scriptOf([...(c.command ?? []), ...(c.args ?? [])])))) identity.push('workload');

  const valid = parts.filter((p) => !(p as any).void);
  const strategies = dedupe(valid.map(strategyOf).filter((s): s is StrategyId => !!s)).sort((a, b) => ALL_IDS.indexOf(a) - ALL_IDS.indexOf(b));
  for (const id of annotated) {
    if (!(ALL_IDS as readonly string[]).includes(id)) {
      defects.push({ code: 'annotation-unknown', severity: 'warning', where: STRATEGIES_ANNOTATION, message: `lists unknown strategy "${id}"` });
    } else if (!parts.some((p) => strategyOf(p) === id)) {
      defects.push({ code: 'annotation-drift', severity: 'warning', where: STRATEGIES_ANNOTATION, message: `lists ${id} but its parts are missing (edited after apply?); re-run apply` });
    }
  }
  return {
    workload: workloadName(doc), kind: String(doc.kind), name: String(doc.metadata?.name ?? ''),
    ...(doc.metadata?.namespace ? { namespace: doc.metadata.namespace } : {}),
    identity, strategies, annotated, parts: parts.map(({ void: _v, ...p }: any) => p), claims: claimsOf(valid), defects,
  };
}

/** The defect of a token check (strategies 4-6) on a pod without the aadpodidbinding label; apply warns with its message too. */
export function podIdentityBindingMissing(): Defect {
  return {
    code: 'pod-identity-binding-missing', severity: 'warning', where: 'pod template labels',
    message: `token checks need the pod label ${POD_IDENTITY_LABEL} (NMI answers 404 to a pod no AzureIdentityBinding selects), so they can never pass; set it (--pod-identity-binding <selector>) unless something else adds it at admission`,
  };
}

function kindOf(f: ScriptFacts): CheckKind {
  return f.wi ? 'workload-identity' : f.token ? 'identity' : 'nmi';
}

function voids(defects: Defect[], from: number): { void?: true } {
  return defects.slice(from).some((d) => d.severity === 'error') ? { void: true } : {};
}

function dedupe<T>(xs: T[]): T[] { return xs.filter((x, i) => xs.findIndex((y) => deepEqual(x, y)) === i); }

/** The strategy a part amounts to: where it runs and what it checks, as in the DESIGN table. */
export function strategyOf(p: Part): StrategyId | undefined {
  if (p.placement === 'probes' && !p.probes.includes('readiness') && !p.probes.includes('liveness')) return undefined;
  if (p.placement === 'app' && !p.probes.length) return undefined;
  return ALL_IDS.find((id) => getStrategy(id).placement === p.placement && getStrategy(id).checks === p.checks);
}

/** The three claims the valid parts achieve together. */
export function claimsOf(parts: readonly Part[]): Claims {
  const runtimeParts = parts.filter((p) => p.placement !== 'init');
  const ready = runtimeParts.some((p) => p.probes.includes('readiness'));
  const live = runtimeParts.some((p) => p.probes.includes('liveness'));
  const startGated = parts.some((p) => p.placement === 'init') || ready || runtimeParts.some((p) => p.probes.includes('startup'));
  const runtime = ready && live ? 'yes' : ready ? 'traffic stopped, no restart' : live ? 'restart only' : 'no';
  const full = (p: Part) => p.checks !== 'nmi';
  const tokenRuntime = runtimeParts.some((p) => full(p) && (p.probes.includes('readiness') || p.probes.includes('liveness')));
  const tokenInit = parts.some(full);
  return { startGated: startGated ? 'yes' : 'no', runtime, otherFaults: tokenRuntime ? 'yes' : tokenInit ? 'at start only' : 'no' };
}

/** Whether the workload meets `--require id` (present and free of error-level defects). */
export function meets(a: WorkloadAudit, require: string): boolean {
  return require === 'any' ? a.strategies.length > 0 : a.strategies.includes(require as StrategyId);
}
