import { CommonOptions, initPlan, InitOptions, InitClient, TokenOptions } from './options';
import type { Strategy } from './types';

/**
 * Strategy 4: an init container waits until a token request succeeds (after NMI reports
 * Active, unless checkNmi is false). NMI before v1.5 cannot serve token requests from init
 * containers (it matches only Running pods) and has no /healthz: use identity-probes with
 * `checkNmi: false` there.
 */
export interface IdentityInitCheckOptions extends CommonOptions, TokenOptions, Omit<InitOptions, 'client'> {
  /** `curl` / `wget` request a token; `az` runs `az login --identity` (with `--client-id` or `--resource-id`) in the azure-cli image (~700 MB, 2.69.0 or later). @default 'curl' */
  readonly client?: InitClient;
}

export const identityInit: Strategy<IdentityInitCheckOptions> = {
  id: 'identity-init', number: 4, checks: 'identity', placement: 'init',
  summary: 'init container waits until NMI is Active and a token request succeeds',
  claims: { startGated: 'yes', runtime: 'no', otherFaults: 'at start only' },
  tradeOffs: [
    'catches a missing binding or a deleted identity before the app starts',
    'nothing at runtime',
    'needs NMI v1.5 or later (older NMI cannot serve init containers)',
    'the az variant pulls a ~700 MB image; curl/wget variants are a few MB',
  ],
  optionGroups: ['common', 'podIdentity', 'token', 'init'],
  plan(o) { return initPlan(this, o); },
};
