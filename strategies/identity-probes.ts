import { CommonOptions, probesPlan, ProbesOptions, TokenCacheOptions, TokenOptions } from './options';
import type { Strategy } from './types';

/**
 * Strategy 5: exec probes check NMI every period and request a token every tokenCacheTtl. The
 * probes run in the app container: its image needs `sh`, `curl` (or BusyBox `wget` with
 * `timeout`), and `base64` and `tr` when clientId is set (the token's claims are decoded); else
 * use onConflict 'sidecar'.
 */
export interface IdentityProbesOptions extends CommonOptions, TokenOptions, ProbesOptions, TokenCacheOptions {}

export const identityProbes: Strategy<IdentityProbesOptions> = {
  id: 'identity-probes', number: 5, checks: 'identity', placement: 'probes',
  summary: 'exec probes check NMI and request a token (cached, shared by readiness and liveness)',
  claims: { startGated: 'yes', runtime: 'yes', otherFaults: 'yes' },
  tradeOffs: [
    'catches every identity fault, at start and at runtime',
    'IMDS load: one token request per pod per tokenCacheTtl (default 3 per minute)',
    'the app image needs sh, curl (or wget and timeout) and, with clientId, base64; else onConflict sidecar',
  ],
  optionGroups: ['common', 'podIdentity', 'token', 'probes', 'cache'],
  plan(o) { return probesPlan(this, o); },
};
