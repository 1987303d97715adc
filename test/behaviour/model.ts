/**
 * The behaviour model: scenarios (what the mock NMI/IMDS does over time), how a strategy is put
 * into a pod (applyStrategy on a plain Deployment), and what a run shows (Ready, restarts,
 * latencies). Shared by the behaviour tests, `npm run table` and `npm run bench`, so the
 * README's figures come from the same code that the tests check.
 */
import fs from 'node:fs';
import path from 'node:path';
import { applyStrategy } from '../../src/transform';
import type { PodSpec } from '../../src/pod-template/types';
import { getStrategy } from '../../strategies';
import { AnyStrategyId, STRATEGY_IDS, StrategyId, WORKLOAD_IDENTITY_STRATEGY_IDS, WorkloadIdentityStrategyId } from '../../strategies/types';
import { Bed, MockState, NODE_MI, POD_MI, RequestKind } from '../bed/bed';
import { Client, defaultImage, Image } from '../bed/images';
import { AppCommand, RunResult, runPod, Step, TimelineEvent } from '../bed/runner';

export { STRATEGY_IDS, WORKLOAD_IDENTITY_STRATEGY_IDS };
export type { AnyStrategyId, StrategyId, WorkloadIdentityStrategyId };

export const APP_PORT = 8080;
export const SERVER = path.join(__dirname, '../../lib/examples/health-service/server.js');

/** A Deployment whose app container has no probes: what a user brings. */
export function deployment(): any {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app' },
    spec: {
      selector: { matchLabels: { app: 'app' } },
      template: {
        metadata: { labels: { app: 'app' } },
        spec: { containers: [{ name: 'app', image: 'example/app:1', ports: [{ containerPort: APP_PORT }] }] },
      },
    },
  };
}

/** The pod template the strategy produces (the manifest users would deploy): its annotations and spec. */
export function podTemplateFor(strategy: AnyStrategyId, options: object = {}): { annotations: Record<string, string>; spec: PodSpec } {
  const r = applyStrategy(deployment(), strategy, options);
  if (r.outcome !== 'applied') throw new Error(`${strategy}: ${r.outcome} ${JSON.stringify(r.messages)}`);
  const t = (r.doc as any).spec.template;
  return { annotations: t.metadata.annotations ?? {}, spec: t.spec };
}

export function podSpecFor(strategy: AnyStrategyId, options: object = {}): PodSpec {
  return podTemplateFor(strategy, options).spec;
}

/** The app process for strategies whose check lives in the app (3, 6): the example service. */
export function appFor(strategy: AnyStrategyId): AppCommand | undefined {
  if (getStrategy(strategy).placement !== 'app') return undefined;
  if (!fs.existsSync(SERVER)) throw new Error(`${SERVER} is missing: build first (npx tsc -p .; npm test does)`);
  return { argv: [process.execPath, SERVER], env: { PORT: String(APP_PORT), HOST: '127.0.0.1' } };
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly duration: number;
  readonly steps: readonly Step[];
  /** When the fault starts and ends (virtual s), for the measurements. */
  readonly fault: { start: number; end: number };
  /** Workload identity pods: false when the webhook did not mutate the pod (label missing). @default true */
  readonly webhook?: boolean;
  /** Workload identity pods: false when the ServiceAccount lacks the client-id annotation (no AZURE_CLIENT_ID). @default true */
  readonly clientIdAnnotation?: boolean;
  /** Env every container of the pod gets (the HTTP proxy scenario). */
  readonly podEnv?: Record<string, string>;
}

/** The bursts of the burst scenario. */
export const BURSTS: ReadonlyArray<{ at: number; status: 429 | 500 }> = [0, 1, 2, 3, 4, 5].map((k) => ({ at: 40 + 64 * k, status: k % 2 ? 500 : 429 }));

const scenario = (id: string, title: string, duration: number, fault: Scenario['fault'], steps: Step[]): Scenario => ({ id, title, duration, fault, steps });

/**
 * When NMI is not ready or gone, its iptables rule is not in place, so token requests reach
 * IMDS itself, which answers with the identity the request names (if it is on the node's VMSS),
 * and 400 to a request that names none while the node has several (the kubelet identity and
 * the pod's): the stand-in does the same (test/bed/mock-identity.mjs).
 */
export const SCENARIOS = {
  happy: scenario('happy', 'happy path', 120, { start: 0, end: 0 }, []),
  nmiLate: scenario('nmi-late', 'NMI Not Active at pod start (token requests reach IMDS), Active after 20 s', 80, { start: 0, end: 20 }, [
    { at: 0, label: 'NMI Not Active', state: { nmi: 'not-active' } },
    { at: 20, label: 'NMI Active', state: { nmi: 'active' } },
  ]),
  nmiDies: scenario('nmi-dies', 'NMI dies 30 s after start (token requests reach IMDS), back at 100 s', 150, { start: 30, end: 100 }, [
    { at: 30, label: 'NMI gone', state: { nmi: 'down' } },
    { at: 100, label: 'NMI back', state: { nmi: 'active' } },
  ]),
  token403Start: scenario('token-403-start', 'token 403 (binding missing) from the start, NMI Active; fixed at 40 s', 90, { start: 0, end: 40 }, [
    { at: 0, label: 'token 403', state: { token: 403 } },
    { at: 40, label: 'token ok', state: { token: 'ok' } },
  ]),
  token403Runtime: scenario('token-403-runtime', 'token 403 from 30 s to 100 s, NMI Active', 150, { start: 30, end: 100 }, [
    { at: 30, label: 'token 403', state: { token: 403 } },
    { at: 100, label: 'token ok', state: { token: 'ok' } },
  ]),
  // A 20 s token cache sees a 5 s burst only if a request falls due inside it: single bursts
  // 64 s apart (past liveness's 3 x 10 s and the cache), each 4 s later in the 20-24 s token
  // cycle, so every phase is covered and both a 429 and a 500 burst meet a request.
  burst: scenario('burst', 'single 5 s bursts of token 429 / 500, 64 s apart', 410, { start: 40, end: 365 },
    BURSTS.flatMap((b) => [
      { at: b.at, label: `token ${b.status}`, state: { token: b.status } },
      { at: b.at + 5, label: 'token ok', state: { token: 'ok' } },
    ])),
  // IMDS documents 410 for up to 70 s while it updates: longer than a burst, still transient.
  imds410: scenario('imds-410', 'token 410 (IMDS updating) for 70 s from 30 s', 200, { start: 30, end: 100 }, [
    { at: 30, label: 'token 410', state: { token: 410 } },
    { at: 100, label: 'token ok', state: { token: 'ok' } },
  ]),
  nmiSlowStart: scenario('nmi-slow-start', 'NMI answers after 10 s (beyond the check bound) for the first 20 s, then Active', 40, { start: 0, end: 20 }, [
    { at: 0, label: 'NMI slow (10 s)', state: { nmi: 'slow', nmiDelayMs: 10_000 } },
    { at: 20, label: 'NMI Active', state: { nmi: 'active', nmiDelayMs: 0 } },
  ]),
  // Long enough for the restart (by ~52 s), short because every slow probe costs real seconds.
  nmiSlow: scenario('nmi-slow', 'NMI answers after 10 s (beyond the probe timeout) from 30 s to 60 s', 100, { start: 30, end: 60 }, [
    { at: 30, label: 'NMI slow (10 s)', state: { nmi: 'slow', nmiDelayMs: 10_000 } },
    { at: 60, label: 'NMI Active', state: { nmi: 'active', nmiDelayMs: 0 } },
  ]),
  nodeIdentityStart: scenario('node-identity-start', 'NMI gone when the pod starts (token requests reach IMDS); back at 40 s', 90, { start: 0, end: 40 }, [
    { at: 0, label: 'NMI gone', state: { nmi: 'down' } },
    { at: 40, label: 'NMI back', state: { nmi: 'active' } },
  ]),
} as const;

/** A proxy address in the bed where nothing answers: a request that uses it fails at once. */
export const DEAD_PROXY = 'http://127.0.10.9:3128';

/**
 * Faults beyond the three columns, each with what a strategy should do about it (FAULT_EXPECTED):
 * from the upstream sources the stand-in follows (test/bed/mock-identity.mjs).
 */
export const FAULT_SCENARIOS = {
  identityRemoved: scenario('identity-removed', 'identity removed from the node\'s VMSS at 30 s (NMI 403), assigned again at 80 s', 110, { start: 30, end: 80 }, [
    { at: 30, label: 'identity removed (NMI 403)', state: { nodeIdentities: [NODE_MI] } },
    { at: 80, label: 'identity back (ok)', state: { nodeIdentities: [NODE_MI, POD_MI] } },
  ]),
  unboundManaged: scenario('unbound-managed', 'binding removed at 30 s, managed mode (NMI 404 at once); bound again at 80 s', 110, { start: 30, end: 80 }, [
    { at: 30, label: 'unbound (NMI 404)', state: { podIdentities: [], nmiMode: 'managed' } },
    { at: 80, label: 'bound again (ok)', state: { podIdentities: [POD_MI] } },
  ]),
  unboundStandard: scenario('unbound-standard', 'binding removed at 30 s, standard mode (NMI holds the request up to 80 s, then 404); bound again at 80 s', 110, { start: 30, end: 80 }, [
    { at: 30, label: 'unbound (NMI retrying)', state: { podIdentities: [], nmiMode: 'standard' } },
    { at: 80, label: 'bound again (ok)', state: { podIdentities: [POD_MI] } },
  ]),
  nmiApiServer: scenario('nmi-api-server', 'NMI cannot reach the API server from 30 s (NMI 500), back at 80 s', 110, { start: 30, end: 80 }, [
    { at: 30, label: 'NMI cannot match the pod (NMI 500)', state: { podInCache: false } },
    { at: 80, label: 'NMI ok', state: { podInCache: true } },
  ]),
  nmiShutdown: scenario('nmi-shutdown', 'NMI gets SIGTERM at 30 s: rules removed, still Active for 10 s, then gone; back at 80 s', 110, { start: 30, end: 80 }, [
    { at: 30, label: 'NMI terminating (rules removed, Active)', state: { nmi: 'terminating' } },
    { at: 40, label: 'NMI gone', state: { nmi: 'down' } },
    { at: 80, label: 'NMI back', state: { nmi: 'active' } },
  ]),
  // Past the 180 s startup grace: a check that restarts on what only recreating the pod fixes
  // would loop from there.
  wiLabelMissing: { ...scenario('wi-label-missing', 'workload identity: the pod label azure.workload.identity/use is missing (the webhook skips the pod: no AZURE_* env, no token file)', 240, { start: 0, end: 240 }, []), webhook: false },
  wiAnnotationMissing: { ...scenario('wi-annotation-missing', 'workload identity: the ServiceAccount has no azure.workload.identity/client-id annotation (no AZURE_CLIENT_ID)', 240, { start: 0, end: 240 }, []), clientIdAnnotation: false },
  proxyEnv: { ...scenario('proxy-env', 'HTTP proxy env in every container (AKS HTTP proxy), the proxy not answering for node-local addresses', 120, { start: 0, end: 120 }, []),
    podEnv: { http_proxy: DEAD_PROXY, HTTP_PROXY: DEAD_PROXY, https_proxy: DEAD_PROXY, HTTPS_PROXY: DEAD_PROXY, no_proxy: 'localhost,127.0.0.1,.svc,.cluster.local', NO_PROXY: 'localhost,127.0.0.1,.svc,.cluster.local' } },
} as const;

/** Gating at start and detection at runtime in one run (for the shell x client matrix). */
export const LATE_THEN_DIES = scenario('late-then-dies', 'NMI Not Active until 20 s, gone from 50 s to 110 s', 150, { start: 50, end: 110 }, [
  { at: 0, label: 'NMI Not Active', state: { nmi: 'not-active' } },
  { at: 20, label: 'NMI Active', state: { nmi: 'active' } },
  { at: 50, label: 'NMI gone', state: { nmi: 'down' } },
  { at: 110, label: 'NMI back', state: { nmi: 'active' } },
]);

/** NMI loss at a chosen moment, for latency over probe phases. */
export function nmiLossAt(at: number): Scenario {
  return scenario(`nmi-loss-${at}`, `NMI gone at ${at} s`, at + 60, { start: at, end: at + 60 }, [
    { at, label: 'NMI gone', state: { nmi: 'down' } },
  ]);
}

export interface Run { readonly strategy: AnyStrategyId; readonly scenario: Scenario; readonly image: Image; readonly options: object; readonly result: RunResult }

export async function run(bed: Bed, strategy: AnyStrategyId, sc: Scenario, o: { options?: object; image?: Image; withoutHostIp?: boolean } = {}): Promise<Run> {
  const options = o.options ?? {};
  const image = o.image ?? defaultImage(((options as any).client as Client) ?? 'curl');
  const wi = getStrategy(strategy).checks === 'workload-identity';
  const result = await runPod({
    bed, ...podTemplateFor(strategy, options), image, steps: sc.steps, duration: sc.duration, app: appFor(strategy), withoutHostIp: o.withoutHostIp,
    workloadIdentity: wi ? { webhook: sc.webhook !== false, clientIdAnnotation: sc.clientIdAnnotation } : undefined, podEnv: sc.podEnv,
  });
  return { strategy, scenario: sc, image, options, result };
}

// ---- what a run shows ----

const events = (r: Run, type: TimelineEvent['type']) => r.result.timeline.filter((e) => e.type === type);
export const firstReady = (r: Run): number | undefined => events(r, 'ready')[0]?.t;
export const firstStart = (r: Run): number | undefined => events(r, 'start')[0]?.t;
/** First NotReady / restart at or after t. */
export const notReadyAfter = (r: Run, t: number): number | undefined => events(r, 'notready').find((e) => e.t >= t)?.t;
export const restartAfter = (r: Run, t: number): number | undefined => events(r, 'restart').find((e) => e.t >= t)?.t;
export const restarts = (r: Run) => events(r, 'restart').length;
export const failedProbesIn = (r: Run, from: number, to: number) =>
  r.result.timeline.filter((e) => e.type === 'probe' && !e.ok && e.t >= from && e.t < to).length;
/** The pod never served before `t`, and served at some point after it. */
export const gatedUntil = (r: Run, t: number) => { const f = firstReady(r); return f !== undefined && f >= t; };
export const readyAt = (r: Run, t: number) => {
  let ready = false;
  for (const e of r.result.timeline) { if (e.t > t) break; if (e.type === 'ready') ready = true; if (e.type === 'notready') ready = false; }
  return ready;
};

/** Requests of a kind per minute, counted at the mock over [from, end). */
export function requestsPerMinute(r: Run, kind: RequestKind, from = 0): number {
  const n = r.result.timeline.filter((e) => e.type === 'request' && e.kind === kind && e.t >= from).length;
  return n / ((r.result.duration - from) / 60);
}

// ---- the strategy table ----

export type Cell = 'yes' | 'no' | 'at start only' | 'at runtime only' | 'NotReady only' | 'restart only' | 'not yet observed';
export interface Row { startGated: Cell; runtime: Cell; otherFaults: Cell }

/** The scenarios the three columns are computed from. */
export const TABLE_SCENARIOS = [SCENARIOS.nmiLate, SCENARIOS.nmiDies, SCENARIOS.token403Start, SCENARIOS.token403Runtime] as const;

/** Columns from the runs of TABLE_SCENARIOS (keyed by scenario id). */
export function rowFrom(runs: Record<string, Run>): Row {
  const late = runs[SCENARIOS.nmiLate.id];
  const dies = runs[SCENARIOS.nmiDies.id];
  const s403 = runs[SCENARIOS.token403Start.id];
  const r403 = runs[SCENARIOS.token403Runtime.id];
  const f = SCENARIOS.nmiDies.fault;
  const stopped = notReadyAfter(dies, f.start) !== undefined && notReadyAfter(dies, f.start)! < f.end;
  const restarted = restartAfter(dies, f.start) !== undefined && restartAfter(dies, f.start)! < f.end;
  const atStart = gatedUntil(s403, SCENARIOS.token403Start.fault.end);
  const atRuntime = notReadyAfter(r403, SCENARIOS.token403Runtime.fault.start) !== undefined
    && notReadyAfter(r403, SCENARIOS.token403Runtime.fault.start)! < SCENARIOS.token403Runtime.fault.end;
  return {
    startGated: gatedUntil(late, SCENARIOS.nmiLate.fault.end) ? 'yes' : 'no',
    runtime: stopped && restarted ? 'yes' : stopped ? 'NotReady only' : restarted ? 'restart only' : 'no',
    otherFaults: atStart && atRuntime ? 'yes' : atStart ? 'at start only' : atRuntime ? 'at runtime only' : 'no',
  };
}

/** The table as DESIGN.md states it (the contract the runs must match). */
export const EXPECTED: Record<StrategyId, Row> = {
  'nmi-init': { startGated: 'yes', runtime: 'no', otherFaults: 'no' },
  'nmi-probes': { startGated: 'yes', runtime: 'yes', otherFaults: 'no' },
  'nmi-app-check': { startGated: 'yes', runtime: 'yes', otherFaults: 'no' },
  'identity-init': { startGated: 'yes', runtime: 'no', otherFaults: 'at start only' },
  'identity-probes': { startGated: 'yes', runtime: 'yes', otherFaults: 'yes' },
  'identity-app-check': { startGated: 'yes', runtime: 'yes', otherFaults: 'yes' },
};

export function tableMarkdown(rows: Partial<Record<StrategyId, Row>>): string {
  const lines = [
    '| # | strategy | start gated | runtime: traffic stopped and container restarted | other identity faults caught |',
    '|---|---|---|---|---|',
  ];
  for (const id of STRATEGY_IDS) {
    const r = rows[id] ?? { startGated: 'not yet observed', runtime: 'not yet observed', otherFaults: 'not yet observed' };
    lines.push(`| ${getStrategy(id).number} | ${id} | ${r.startGated} | ${r.runtime} | ${r.otherFaults} |`);
  }
  return lines.join('\n');
}

/** Run the table's scenarios for one strategy. */
export async function observeRow(bed: Bed, strategy: StrategyId): Promise<{ row: Row; runs: Record<string, Run> }> {
  const runs: Record<string, Run> = {};
  for (const sc of TABLE_SCENARIOS) runs[sc.id] = await run(bed, strategy, sc);
  return { row: rowFrom(runs), runs };
}

// ---- latency ----

export interface Latency { notReady: number[]; restart: number[] }

/** Fault -> NotReady and fault -> restart, one fresh pod per fault phase (spread over `spread` s). */
export async function measureLatency(bed: Bed, strategy: AnyStrategyId, phases: number, spread = 20, o: { options?: object } = {}): Promise<Latency & { runs: Run[] }> {
  const out: Latency & { runs: Run[] } = { notReady: [], restart: [], runs: [] };
  const wi = getStrategy(strategy).checks === 'workload-identity';
  for (let i = 0; i < phases; i++) {
    let at = 30 + Math.round((i * spread * 100) / phases) / 100;
    const r = await run(bed, strategy, wi ? tokenExpiryAt(at) : nmiLossAt(at), o);
    // The token's exp is whole seconds: the fault is when the runner saw it pass.
    if (wi) at = r.result.timeline.find((e) => e.type === 'token-expired')?.t ?? at;
    out.runs.push(r);
    const nr = notReadyAfter(r, at);
    const rs = restartAfter(r, at);
    out.notReady.push(nr === undefined ? Infinity : +(nr - at).toFixed(2));
    out.restart.push(rs === undefined ? Infinity : +(rs - at).toFixed(2));
  }
  return out;
}

export const worst = (xs: number[]) => Math.max(...xs);
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : +((s[m - 1] + s[m]) / 2).toFixed(2);
}

/** The probe settings a strategy's defaults produce (for the figures' "settings used"). */
export function probeSettings(strategy: AnyStrategyId, options: object = {}): string {
  const c = podSpecFor(strategy, options).containers[0];
  const parts = (['startup', 'readiness', 'liveness'] as const).flatMap((n) => {
    const p = c[`${n}Probe`];
    if (!p) return [];
    return [`${n} ${p.exec ? 'exec' : 'httpGet'} period ${p.periodSeconds}s timeout ${p.timeoutSeconds}s failureThreshold ${p.failureThreshold}`];
  });
  const env = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
  const extra = env.IDENTITY_HEALTH_TOKEN_CACHE_TTL_SECONDS ? `; token cache ${env.IDENTITY_HEALTH_TOKEN_CACHE_TTL_SECONDS}s` : '';
  return parts.length ? parts.join('; ') + extra : 'init container only (no probes)';
}

// ---- NMI gone, token requests reach IMDS: which options catch it ----
//
// IMDS answers with the identity the request names when it is on the node's VMSS (MIC put the
// pod's identity there), and 400 to a request naming none while the node has several. So a
// request naming the pod's identity gets a valid token for it: only the NMI health check sees
// that NMI is gone. A request naming none fails (400), with or without the claim check.

export const NODE_IDENTITY_VARIANTS: ReadonlyArray<{ readonly name: string; readonly options: object }> = [
  { name: 'defaults (checkNmi)', options: {} },
  { name: 'checkNmi: false', options: { checkNmi: false } },
  { name: 'checkNmi: false, clientId (verifyIdentity)', options: { checkNmi: false, clientId: POD_MI.clientId } },
  { name: 'checkNmi: false, clientId, verifyIdentity: false', options: { checkNmi: false, clientId: POD_MI.clientId, verifyIdentity: false } },
];

/** NMI-only strategies have nothing to choose: their defaults are the one variant. */
export const nodeIdentityVariants = (id: StrategyId) => (getStrategy(id).checks === 'identity' ? NODE_IDENTITY_VARIANTS : [{ name: 'defaults', options: {} }]);

export interface NodeIdentityRow { strategy: StrategyId; variant: string; atStart: boolean; atRuntime: boolean }

/** Caught at start: the pod waits until NMI is back. At runtime: NotReady while NMI is gone. */
export async function observeNodeIdentity(bed: Bed, strategy: StrategyId, variant: typeof NODE_IDENTITY_VARIANTS[number]): Promise<NodeIdentityRow> {
  const start = await run(bed, strategy, SCENARIOS.nodeIdentityStart, { options: variant.options });
  const dies = await run(bed, strategy, SCENARIOS.nmiDies, { options: variant.options });
  const nr = notReadyAfter(dies, SCENARIOS.nmiDies.fault.start);
  return {
    strategy, variant: variant.name,
    atStart: gatedUntil(start, SCENARIOS.nodeIdentityStart.fault.end),
    atRuntime: nr !== undefined && nr < SCENARIOS.nmiDies.fault.end,
  };
}

export function nodeIdentityMarkdown(rows: readonly NodeIdentityRow[]): string {
  const yn = (b: boolean) => (b ? 'caught' : '**not caught**');
  return [
    '| strategy | options | NMI gone at pod start | NMI gone at runtime |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.strategy} | ${r.variant} | ${yn(r.atStart)} | ${getStrategy(r.strategy).placement === 'init' && !r.atRuntime ? 'not checked (init only)' : yn(r.atRuntime)} |`),
  ].join('\n');
}

// ---- Azure AD Workload Identity (strategies 7-9) ----
//
// No NMI: the webhook injects AZURE_* env and projects a service account token into a file;
// the app exchanges that token at AAD (AZURE_AUTHORITY_HOST) for an access token. The runner
// gives each simulated container that env and file; the mock AAD answers the exchange. The
// three columns, for workload identity:
// - start gated: the pod was created while the webhook was down (no env, no token file: never
//   Ready, or the app never starts) and the token file is missing for the first 20 s, then
//   appears: gated when first Ready (or app started) after 20 s;
// - runtime: kubelet stops refreshing the projected token, which expires 30 s after start and
//   is refreshed at 100 s: NotReady and a restart inside that window;
// - other identity faults: the token file already expired when the pod starts (refreshed at
//   40 s), and the federated identity credential missing (AAD 400 AADSTS70021) from the start
//   until 40 s and from 30 s to 100 s. Only a check that exchanges the token sees the latter.

const fileOk = (expiresAt: number): Pick<Step, 'tokenFile'> => ({ tokenFile: { expiresAt } });
/** AAD 503 bursts of 5 s, 64 s apart, at every phase of the 20 s exchange cache (as BURSTS). */
export const AAD_BURSTS: ReadonlyArray<{ at: number }> = [0, 1, 2, 3, 4, 5].map((k) => ({ at: 40 + 64 * k }));

export const WI_SCENARIOS = {
  happy: scenario('wi-happy', 'happy path (webhook env, valid token file, AAD ok)', 120, { start: 0, end: 0 }, []),
  // Since webhook v1.0 (failurePolicy Fail) a pod created while the webhook is down is rejected:
  // a pod without the env is one the webhook skipped (label azure.workload.identity/use missing).
  webhookMissing: { ...scenario('wi-webhook-missing', 'the webhook did not mutate the pod (label azure.workload.identity/use missing): no AZURE_* env, no token file', 40, { start: 0, end: 40 }, []), webhook: false },
  tokenLate: scenario('wi-token-late', 'token file missing at start, appears at 20 s', 40, { start: 0, end: 20 }, [
    { at: 0, label: 'token file missing', state: {}, tokenFile: 'missing' },
    { at: 20, label: 'token file ok', state: {}, ...fileOk(20 + 3600) },
  ]),
  tokenExpires: scenario('wi-token-expires', 'kubelet stops refreshing: token file expires at 30 s, refreshed at 100 s', 110, { start: 30, end: 100 }, [
    { at: 0, label: 'token file ok', state: {}, ...fileOk(30) },
    { at: 30, label: 'token file expired', state: {} },
    { at: 100, label: 'token file refreshed', state: {}, ...fileOk(100 + 3600) },
  ]),
  tokenExpiredStart: scenario('wi-token-expired-start', 'token file expired when the pod starts, refreshed at 40 s', 60, { start: 0, end: 40 }, [
    { at: 0, label: 'token file expired', state: {}, ...fileOk(-60) },
    { at: 40, label: 'token file refreshed', state: {}, ...fileOk(40 + 3600) },
  ]),
  ficStart: scenario('wi-fic-start', 'no federated identity credential (AAD 400 AADSTS70021) from the start; created at 40 s', 60, { start: 0, end: 40 }, [
    { at: 0, label: 'AAD 400 AADSTS70021', state: { aad: 400 } },
    { at: 40, label: 'AAD ok', state: { aad: 'ok' } },
  ]),
  ficRuntime: scenario('wi-fic-runtime', 'federated identity credential removed at 30 s (AAD 400 AADSTS70021), restored at 100 s', 110, { start: 30, end: 100 }, [
    { at: 30, label: 'AAD 400 AADSTS70021', state: { aad: 400 } },
    { at: 100, label: 'AAD ok', state: { aad: 'ok' } },
  ]),
  aadBurst: scenario('wi-aad-burst', 'single 5 s bursts of AAD 503, 64 s apart', 410, { start: 40, end: 365 },
    AAD_BURSTS.flatMap((b) => [
      { at: b.at, label: 'AAD 503', state: { aad: 503 as const } },
      { at: b.at + 5, label: 'AAD ok', state: { aad: 'ok' as const } },
    ])),
} as const;

/** Gating at start and detection at runtime in one run (for the shell x client matrix). */
export const WI_LATE_THEN_EXPIRES = scenario('wi-late-then-expires', 'token file missing until 20 s, expired from 50 s, refreshed at 110 s', 150, { start: 50, end: 110 }, [
  { at: 0, label: 'token file missing', state: {}, tokenFile: 'missing' },
  { at: 20, label: 'token file ok', state: {}, ...fileOk(50) },
  { at: 50, label: 'token file expired', state: {} },
  { at: 110, label: 'token file refreshed', state: {}, ...fileOk(110 + 3600) },
]);

/** The token file expires at `at` (kubelet stopped refreshing), for latency over probe phases. */
export function tokenExpiryAt(at: number): Scenario {
  return scenario(`wi-token-expiry-${at}`, `token file expires at ${at} s`, at + 60, { start: at, end: at + 60 }, [
    { at: 0, label: 'token file ok', state: {}, ...fileOk(at) },
  ]);
}

export const WI_TABLE_SCENARIOS = [
  WI_SCENARIOS.webhookMissing, WI_SCENARIOS.tokenLate, WI_SCENARIOS.tokenExpires, WI_SCENARIOS.tokenExpiredStart, WI_SCENARIOS.ficStart, WI_SCENARIOS.ficRuntime,
] as const;

const inWindow = (t: number | undefined, f: Scenario['fault']) => t !== undefined && t < f.end;

/** The three columns from the runs of WI_TABLE_SCENARIOS (keyed by scenario id). */
export function wiRowFrom(runs: Record<string, Run>): Row {
  const S = WI_SCENARIOS;
  const never = runs[S.webhookMissing.id];
  const neverServed = firstReady(never) === undefined;
  const startGated = neverServed && gatedUntil(runs[S.tokenLate.id], S.tokenLate.fault.end);
  const exp = runs[S.tokenExpires.id];
  const stopped = inWindow(notReadyAfter(exp, S.tokenExpires.fault.start), S.tokenExpires.fault);
  const restarted = inWindow(restartAfter(exp, S.tokenExpires.fault.start), S.tokenExpires.fault);
  const atStart = gatedUntil(runs[S.tokenExpiredStart.id], S.tokenExpiredStart.fault.end) && gatedUntil(runs[S.ficStart.id], S.ficStart.fault.end);
  const atRuntime = inWindow(notReadyAfter(runs[S.ficRuntime.id], S.ficRuntime.fault.start), S.ficRuntime.fault);
  return {
    startGated: startGated ? 'yes' : 'no',
    runtime: stopped && restarted ? 'yes' : stopped ? 'NotReady only' : restarted ? 'restart only' : 'no',
    otherFaults: atStart && atRuntime ? 'yes' : atStart ? 'at start only' : atRuntime ? 'at runtime only' : 'no',
  };
}

export interface WiVariant { readonly name: string; readonly options: object }

/**
 * The workload identity table as the strategies claim it, with the options that make it true:
 * the init container exchanges by default; the probes and the app check only with `exchange:
 * true` (their default is off, so readiness does not depend on AAD): without it they do not see
 * a missing federated identity credential (WI_DEFAULT_EXPECTED).
 */
export const WI_EXPECTED: Record<WorkloadIdentityStrategyId, WiVariant & { row: Row }> = {
  'workload-identity-init': { name: 'defaults (exchange on)', options: {}, row: { startGated: 'yes', runtime: 'no', otherFaults: 'at start only' } },
  'workload-identity-probes': { name: 'exchange: true', options: { exchange: true }, row: { startGated: 'yes', runtime: 'yes', otherFaults: 'yes' } },
  'workload-identity-app-check': { name: 'exchange: true', options: { exchange: true }, row: { startGated: 'yes', runtime: 'yes', otherFaults: 'yes' } },
};

/** The probes and the app check with their defaults (exchange off): the federated credential fault goes unseen. */
export const WI_DEFAULT_EXPECTED: Partial<Record<WorkloadIdentityStrategyId, WiVariant & { row: Row }>> = {
  'workload-identity-probes': { name: 'defaults (exchange off)', options: {}, row: { startGated: 'yes', runtime: 'yes', otherFaults: 'no' } },
  'workload-identity-app-check': { name: 'defaults (exchange off)', options: {}, row: { startGated: 'yes', runtime: 'yes', otherFaults: 'no' } },
};

/** Run the workload identity table's scenarios for one strategy and options. */
export async function observeWiRow(bed: Bed, strategy: WorkloadIdentityStrategyId, options: object, o: { image?: Image } = {}): Promise<{ row: Row; runs: Record<string, Run> }> {
  const runs: Record<string, Run> = {};
  for (const sc of WI_TABLE_SCENARIOS) runs[sc.id] = await run(bed, strategy, sc, { options, image: o.image });
  return { row: wiRowFrom(runs), runs };
}

export interface WiRow { strategy: WorkloadIdentityStrategyId; variant: string; row: Row }

export function wiTableMarkdown(rows: readonly WiRow[]): string {
  return [
    '| # | strategy | options | start gated | runtime: traffic stopped and container restarted | other identity faults caught |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${getStrategy(r.strategy).number} | ${r.strategy} | ${r.variant} | ${r.row.startGated} | ${r.row.runtime} | ${r.row.otherFaults} |`),
  ].join('\n');
}

// ---- faults beyond the three columns: what each strategy does about them ----

/** What a strategy did about a fault: the class (compared with FAULT_EXPECTED) and the observed detail. */
export interface FaultReaction { cell: string; detail: string }

/** 'NotReady' / 'NotReady, restart' / 'nothing' within the fault window; 'never Ready' when the pod never served. */
export function reactionOf(r: Run): FaultReaction {
  const f = r.scenario.fault;
  const n = restarts(r);
  if (firstReady(r) === undefined) {
    const cell = n ? 'never Ready, restarts' : 'never Ready, no restart';
    return { cell, detail: `${cell}${n ? ` (${n})` : ''}` };
  }
  if (f.start === 0) {
    const cell = n === 0 && readyAt(r, r.result.duration) && notReadyAfter(r, firstReady(r)!) === undefined ? 'nothing (stays Ready)' : `NotReady${n ? ', restart' : ''}`;
    return { cell, detail: `${cell}; Ready at ${Math.round(firstReady(r)!)} s` };
  }
  const nr = notReadyAfter(r, f.start);
  const rs = restartAfter(r, f.start);
  const inside = (t: number | undefined) => t !== undefined && t < f.end;
  const cell = inside(nr) ? (inside(rs) ? 'NotReady, restart' : 'NotReady') : inside(rs) ? 'restart' : 'nothing';
  const parts = [inside(nr) ? `NotReady +${Math.round(nr! - f.start)} s` : '', inside(rs) ? `restart +${Math.round(rs! - f.start)} s` : ''].filter(Boolean);
  return { cell, detail: parts.length ? parts.join(', ') : 'nothing' };
}

/**
 * The decision per fault (defaults of each strategy): a restart only where one can help. NMI 403
 * and 404 and 500 are fixed outside the container (the binding, MIC reassigning the identity
 * after the pod is deleted, NMI's API server access): NotReady with the reason, no restart. In
 * standard mode an unbound pod's token request is held by NMI (80 s) past the probe's 4 s bound:
 * it looks like a slow IMDS (transient), so liveness holds for transientGrace (60 s) only. NMI's
 * shutdown is NMI loss (NotReady, restart). Proxy env changes nothing: node-local calls bypass it.
 * Init strategies run once: faults after the start are not theirs to see.
 */
const PI_FAULTS_PROBES = { 'identity-removed': 'NotReady', 'unbound-managed': 'NotReady', 'unbound-standard': 'NotReady', 'nmi-api-server': 'NotReady', 'nmi-shutdown': 'NotReady, restart', 'proxy-env': 'nothing (stays Ready)' };
const NMI_ONLY_PROBES = { 'identity-removed': 'nothing', 'unbound-managed': 'nothing', 'unbound-standard': 'nothing', 'nmi-api-server': 'nothing', 'nmi-shutdown': 'NotReady, restart', 'proxy-env': 'nothing (stays Ready)' };
const INIT_ONLY = { 'identity-removed': 'nothing', 'unbound-managed': 'nothing', 'unbound-standard': 'nothing', 'nmi-api-server': 'nothing', 'nmi-shutdown': 'nothing', 'proxy-env': 'nothing (stays Ready)' };
const WI_NOT_MUTATED = { 'wi-label-missing': 'never Ready, no restart', 'wi-annotation-missing': 'never Ready, no restart' };
export const FAULT_EXPECTED: Record<AnyStrategyId, Record<string, string>> = {
  'nmi-init': INIT_ONLY,
  'nmi-probes': NMI_ONLY_PROBES,
  'nmi-app-check': NMI_ONLY_PROBES,
  'identity-init': INIT_ONLY,
  'identity-probes': PI_FAULTS_PROBES,
  // The runtime module holds liveness on NMI 403/404/500 as the probes do (src/runtime: restart false).
  'identity-app-check': PI_FAULTS_PROBES,
  'workload-identity-init': WI_NOT_MUTATED,
  'workload-identity-probes': WI_NOT_MUTATED,
  // The runtime module's /livez (also the startup probe's path) holds on these: restart false.
  'workload-identity-app-check': WI_NOT_MUTATED,
};

/**
 * The fault scenarios of a strategy (pod identity or workload identity). `essential`: leave out
 * the runs whose outcome cannot differ (a token fault where no token is requested, a runtime
 * fault for an init container): `npm run table` runs them all, the test only the essential ones.
 */
export function faultScenarios(id: AnyStrategyId, o: { essential?: boolean } = {}): Scenario[] {
  const s = getStrategy(id);
  const { wiLabelMissing, wiAnnotationMissing, ...pi } = FAULT_SCENARIOS;
  if (s.checks === 'workload-identity') return [wiLabelMissing, wiAnnotationMissing];
  const all = Object.values(pi) as Scenario[];
  if (!o.essential) return all;
  if (s.placement === 'init') return [FAULT_SCENARIOS.proxyEnv];
  return s.checks === 'nmi' ? [FAULT_SCENARIOS.nmiShutdown, FAULT_SCENARIOS.proxyEnv] : all;
}

export interface FaultRow { strategy: AnyStrategyId; scenario: string; reaction: FaultReaction; expected: string }

export async function observeFaults(bed: Bed, id: AnyStrategyId): Promise<FaultRow[]> {
  const out: FaultRow[] = [];
  for (const sc of faultScenarios(id)) {
    const r = await run(bed, id, sc);
    out.push({ strategy: id, scenario: sc.id, reaction: reactionOf(r), expected: FAULT_EXPECTED[id][sc.id] });
  }
  return out;
}

export function faultsMarkdown(rows: readonly FaultRow[]): string {
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const strategies = [...new Set(rows.map((r) => r.strategy))];
  const title = (id: string) => (Object.values(FAULT_SCENARIOS) as Scenario[]).find((s) => s.id === id)?.title ?? id;
  return [
    '| fault | ' + strategies.map((s) => `${getStrategy(s).number} ${s}`).join(' | ') + ' |',
    '|---|' + strategies.map(() => '---').join('|') + '|',
    ...scenarios.map((sc) => `| ${title(sc)} | ` + strategies.map((st) => rows.find((r) => r.strategy === st && r.scenario === sc)?.reaction.detail ?? '-').join(' | ') + ' |'),
  ].join('\n');
}
