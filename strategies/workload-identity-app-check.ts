import { AppCheckOptions, appCheckPlan, CommonOptions, TokenCacheOptions, WorkloadIdentityOptions } from './options';
import type { Strategy } from './types';

/** Strategy 9: the app's own health endpoints check workload identity (runtime `checkWorkloadIdentity`); kubelet calls them. */
export interface WorkloadIdentityAppHealthCheckOptions extends Omit<CommonOptions, 'nmiPort' | 'nmiTimeout' | 'podIdentityBinding'>, WorkloadIdentityOptions, AppCheckOptions, TokenCacheOptions {}

export const workloadIdentityAppCheck: Strategy<WorkloadIdentityAppHealthCheckOptions> = {
  id: 'workload-identity-app-check', number: 9, checks: 'workload-identity', placement: 'app',
  summary: "the app's health endpoint checks the workload identity env and token file (exchange optional); httpGet probes point at it",
  claims: { startGated: 'yes', runtime: 'yes', otherFaults: 'with exchange' },
  tradeOffs: [
    'one health endpoint for all dependencies, no shell or HTTP client in the image',
    'needs the app to use the runtime module (or equivalent code)',
    'with exchange: readiness depends on AAD being reachable (cached per tokenCacheTtl)',
  ],
  optionGroups: ['common', 'wi', 'app', 'cache'],
  plan(o) { return appCheckPlan(this, o); },
};
