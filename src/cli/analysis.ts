/**
 * What a plan means over time and in load: worst-case time from a fault to NotReady and to a
 * restart, and the NMI / token request rate per pod and per node. Derived from the resolved plan
 * (so the timing flags count exactly as they will be applied), not from a second copy of defaults.
 */
import type { Strategy } from '../../strategies';
import { DEFAULTS } from '../../strategies/options';
import type { Plan } from '../pod-template/apply';
import type { Container, Probe } from '../pod-template/types';
import { RUNTIME_ENV } from '../runtime/env';

/** Azure documents the managed-identity category of IMDS at about 20 requests/s (and 5 concurrent) per VM. */
export const IMDS_LIMIT_PER_SECOND = 20;
export const SAMPLE_CONTAINER: Container = { name: 'app', image: 'example.azurecr.io/app:1.0', ports: [{ containerPort: 8080 }] };

/** Worst case seconds: NMI lost (request hangs to its bound), NMI lost with the connection refused (its pod gone), other identity faults. */
export interface Fault { readonly nmiFault: number; readonly nmiRefused?: number; readonly identityFault?: number }

export interface Analysis {
  /** Seconds from a fault to NotReady / to a restart (undefined: never, at runtime). */
  readonly notReady?: Fault;
  readonly restart?: Fault;
  /** Seconds the NMI health request may take (the failing part of the check when NMI is lost). */
  readonly nmiBound?: number;
  /** Start: how long a pod waits for the identity stack before it fails loudly (init), or liveness holds (probes). */
  readonly startWindow: string;
  /** Requests per second, steady state. */
  readonly load: { readonly podsPerNode: number; readonly nmiPerPod: number; readonly tokenPerPod: number; readonly nmiPerNode: number; readonly tokenPerNode: number; readonly atStartPerNode: number };
  readonly warnings: string[];
}

/**
 * The fault lands just after a passing probe; it then takes failureThreshold failing runs one
 * period apart, and the last one lasts as long as the part of the check that fails: `failing`
 * seconds at most (the NMI request's own bound when NMI is lost: the check stops there), never
 * more than the probe's timeout.
 */
function worst(p: Probe | undefined, failing = Infinity): number | undefined {
  if (!p) return undefined;
  return Number(p.failureThreshold ?? 3) * Number(p.periodSeconds ?? 10) + Math.min(failing, Number(p.timeoutSeconds ?? 1));
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function analyse(strategy: Strategy, plan: Plan, options: Record<string, any>, podsPerNode: number): Analysis {
  const warnings: string[] = [];
  const wi = strategy.checks === 'workload-identity';
  const identity = strategy.checks === 'identity';
  if (strategy.placement === 'init') {
    const interval = Number(options.interval ?? DEFAULTS.interval);
    const deadline = Number(options.deadline ?? DEFAULTS.deadline);
    const atStart = round(podsPerNode / interval);
    if (identity && atStart > IMDS_LIMIT_PER_SECOND) {
      warnings.push(`if all ${podsPerNode} pods of a node start at once, their init checks ask for ${atStart} tokens/s, above the IMDS limit of ${IMDS_LIMIT_PER_SECOND}/s per VM: raise --interval`);
    }
    return {
      startWindow: `the init container tries every ${interval}s and fails loudly after ${deadline}s (kubelet then retries it with back-off)`,
      load: { podsPerNode, nmiPerPod: 0, tokenPerPod: 0, nmiPerNode: 0, tokenPerNode: 0, atStartPerNode: atStart },
      warnings,
    };
  }
  const probes = typeof plan.target.probes === 'function' ? plan.target.probes(SAMPLE_CONTAINER) : plan.target.probes;
  const env = new Map(plan.target.env.map((e) => [e.name, e.value]));
  const ttl = strategy.placement === 'app'
    ? Number(env.get(RUNTIME_ENV.tokenCacheTtl) ?? DEFAULTS.tokenCacheTtl)
    : Number(options.tokenCacheTtl ?? DEFAULTS.tokenCacheTtl);
  // Workload identity never calls NMI or IMDS: its only remote call is the optional AAD exchange.
  const exchange = wi && (strategy.placement === 'app' ? env.get(RUNTIME_ENV.wiExchange) === 'true' : options.exchange === true);
  const checkNmi = !wi && options.checkNmi !== false;
  // NMI lost: the check fails at its first step, the NMI health request, bounded by its own
  // timeout (the runtime module's for app checks); a refused connection fails at once.
  const nmiBound = Number(strategy.placement === 'app' ? env.get(RUNTIME_ENV.nmiTimeout) ?? DEFAULTS.nmiTimeout : options.nmiTimeout ?? DEFAULTS.nmiTimeout);
  const viaNmi = !wi && checkNmi;
  // A cached token result hides a new identity fault for up to the cache TTL; without the NMI
  // check, NMI loss is seen only through the token request too.
  // For workload identity nmiFault reads "env or token file fault" and identityFault "exchange fault".
  const fault = (p: Probe | undefined) => {
    const w = worst(p);
    if (w === undefined) return undefined;
    return {
      nmiFault: viaNmi ? worst(p, nmiBound)! : identity ? w + ttl : w,
      ...(viaNmi ? { nmiRefused: worst(p, 0)! } : {}),
      ...(identity || exchange ? { identityFault: w + ttl } : {}),
    };
  };
  const r = fault(probes.readinessProbe);
  const l = fault(probes.livenessProbe);
  const runsPerPod = (probes.readinessProbe ? 1 / Number(probes.readinessProbe.periodSeconds) : 0) + (probes.livenessProbe ? 1 / Number(probes.livenessProbe.periodSeconds) : 0);
  const nmiPerPod = !wi && (!identity || checkNmi) ? runsPerPod : 0;
  const tokenPerPod = identity || exchange ? (ttl > 0 ? Math.min(1 / ttl, runsPerPod) : runsPerPod) : 0;
  const s = probes.startupProbe;
  const grace = Number(options.startupGrace ?? DEFAULTS.startupGrace);
  const startWindow = s
    ? `startup probe allows ${Number(s.failureThreshold) * Number(s.periodSeconds)}s (${s.failureThreshold} x ${s.periodSeconds}s) before the first restart; liveness also holds for ${grace}s until the first success`
    : `liveness holds for ${grace}s until the first success`;
  const tokenPerNode = round(tokenPerPod * podsPerNode);
  if (identity && tokenPerNode > IMDS_LIMIT_PER_SECOND) {
    warnings.push(`${tokenPerNode} token requests/s per node is above the documented IMDS managed-identity limit of ${IMDS_LIMIT_PER_SECOND}/s per VM (429 throttling makes every pod NotReady): raise --token-cache-ttl or lower --pods-per-node`);
  }
  return {
    notReady: r, restart: l, startWindow, ...(viaNmi ? { nmiBound } : {}),
    load: { podsPerNode, nmiPerPod: round(nmiPerPod), tokenPerPod: round(tokenPerPod), nmiPerNode: round(nmiPerPod * podsPerNode), tokenPerNode, atStartPerNode: 0 },
    warnings,
  };
}
