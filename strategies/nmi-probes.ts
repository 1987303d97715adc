import { CommonOptions, probesPlan, ProbesOptions } from './options';
import type { Strategy } from './types';

/**
 * Strategy 2: exec readiness, liveness and startup probes check NMI's health body. The probes run
 * in the app container: its image needs `sh` and `curl` (or BusyBox `wget` with `timeout`);
 * else use onConflict 'sidecar' or an init strategy. Needs NMI v1.5+ (no /healthz before).
 */
export interface NmiProbesOptions extends CommonOptions, ProbesOptions {}

export const nmiProbes: Strategy<NmiProbesOptions> = {
  id: 'nmi-probes', number: 2, checks: 'nmi', placement: 'probes',
  summary: 'exec probes check that NMI on the node reports Active',
  claims: { startGated: 'yes', runtime: 'yes', otherFaults: 'no' },
  tradeOffs: [
    'reacts at runtime: NotReady within ~10 s of NMI loss, restart within ~35 s',
    'the app image needs sh and curl (or wget and timeout); else onConflict sidecar or an init strategy',
    'no token request: a missing binding or deleted identity is not seen',
  ],
  optionGroups: ['common', 'podIdentity', 'probes'],
  plan(o) { return probesPlan(this, o); },
};
