import { CommonOptions, initPlan, InitOptions, WorkloadIdentityOptions } from './options';
import type { Strategy } from './types';

/**
 * Strategy 7: an init container waits until the workload identity webhook's env is there, the
 * projected token file is readable and unexpired, and (by default) AAD accepts it in a
 * client-credentials exchange.
 */
export interface WorkloadIdentityInitCheckOptions extends Omit<CommonOptions, 'nmiPort' | 'nmiTimeout' | 'podIdentityBinding'>, WorkloadIdentityOptions, InitOptions {}

export const workloadIdentityInit: Strategy<WorkloadIdentityInitCheckOptions> = {
  id: 'workload-identity-init', number: 7, checks: 'workload-identity', placement: 'init',
  summary: 'init container waits for the workload identity env, a valid token file and a token exchange',
  claims: { startGated: 'yes', runtime: 'no', otherFaults: 'at start only' },
  tradeOffs: [
    'catches a pod created while the webhook was down (no env, no token volume): it never starts',
    'the exchange catches a missing federated identity credential before the app starts',
    'nothing at runtime',
  ],
  optionGroups: ['common', 'wi', 'init'],
  plan(o) { return initPlan(this, o); },
};
