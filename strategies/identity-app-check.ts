import { AppCheckOptions, appCheckPlan, CommonOptions, TokenCacheOptions, TokenOptions } from './options';
import type { Strategy } from './types';

/** Strategy 6: the app's own health endpoints check NMI and request a token (cached); kubelet calls them. */
export interface IdentityAppHealthCheckOptions extends CommonOptions, TokenOptions, AppCheckOptions, TokenCacheOptions {}

export const identityAppCheck: Strategy<IdentityAppHealthCheckOptions> = {
  id: 'identity-app-check', number: 6, checks: 'identity', placement: 'app',
  summary: "the app's health endpoint checks NMI and requests a token; httpGet probes point at it",
  claims: { startGated: 'yes', runtime: 'yes', otherFaults: 'yes' },
  tradeOffs: [
    'recommended for services with several dependencies: one health endpoint for all',
    'needs the app to use the runtime module (or equivalent code)',
    'IMDS load: one token request per pod per tokenCacheTtl (default 3 per minute)',
  ],
  optionGroups: ['common', 'podIdentity', 'token', 'app', 'cache'],
  plan(o) { return appCheckPlan(this, o); },
};
