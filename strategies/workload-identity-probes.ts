import { CommonOptions, probesPlan, ProbesOptions, TokenCacheOptions, WorkloadIdentityOptions } from './options';
import type { Strategy } from './types';

/**
 * Strategy 8: exec probes check the workload identity env and token file every period (exchange
 * optional, cached). The probes run in the app container: its image needs `sh`, `base64` and
 * `tr` (the token file's exp is decoded), and `curl` (or BusyBox `wget` with `timeout`) with
 * exchange or proxySidecar; else use onConflict 'sidecar'.
 */
export interface WorkloadIdentityProbesOptions extends Omit<CommonOptions, 'nmiPort' | 'nmiTimeout' | 'podIdentityBinding'>, WorkloadIdentityOptions, ProbesOptions, TokenCacheOptions {}

export const workloadIdentityProbes: Strategy<WorkloadIdentityProbesOptions> = {
  id: 'workload-identity-probes', number: 8, checks: 'workload-identity', placement: 'probes',
  summary: 'exec probes check the workload identity env and token file (and optionally a cached exchange)',
  claims: { startGated: 'yes', runtime: 'yes', otherFaults: 'with exchange' },
  tradeOffs: [
    'sees an expired or unreadable token file and a proxy sidecar that is not ready',
    'with exchange: a missing federated credential too, but readiness then depends on AAD being reachable',
    'the app image needs sh and base64 (and curl or wget with exchange or proxySidecar); else onConflict sidecar',
  ],
  optionGroups: ['common', 'wi', 'probes', 'cache'],
  plan(o) { return probesPlan(this, o); },
};
