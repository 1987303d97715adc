import { AppCheckOptions, appCheckPlan, CommonOptions } from './options';
import type { Strategy } from './types';

/** Strategy 3: the app's own health endpoints check NMI (see cdk8s-identity-health/runtime); kubelet calls them. */
export interface NmiAppHealthCheckOptions extends CommonOptions, AppCheckOptions {}

export const nmiAppCheck: Strategy<NmiAppHealthCheckOptions> = {
  id: 'nmi-app-check', number: 3, checks: 'nmi', placement: 'app',
  summary: "the app's health endpoint checks NMI; httpGet probes point at it",
  claims: { startGated: 'yes', runtime: 'yes', otherFaults: 'no' },
  tradeOffs: [
    'fits services that already aggregate dependency checks in a health endpoint',
    'needs the app to use the runtime module (or equivalent code)',
    'no shell or HTTP client needed in the image',
  ],
  optionGroups: ['common', 'podIdentity', 'app'],
  plan(o) { return appCheckPlan(this, o); },
};
