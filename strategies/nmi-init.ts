import { CommonOptions, initPlan, InitOptions } from './options';
import type { Strategy } from './types';

/** Strategy 1: an init container waits until the node's NMI reports `Active`. */
export interface NmiInitCheckOptions extends CommonOptions, InitOptions {}

export const nmiInit: Strategy<NmiInitCheckOptions> = {
  id: 'nmi-init', number: 1, checks: 'nmi', placement: 'init',
  summary: 'init container waits until NMI on the node reports Active',
  claims: { startGated: 'yes', runtime: 'no', otherFaults: 'no' },
  tradeOffs: [
    'cheapest: one tiny container, no load after start',
    'nothing at runtime: NMI evicted on scale-down goes unnoticed',
    'an Active NMI says nothing about the binding or the identity itself',
  ],
  optionGroups: ['common', 'podIdentity', 'init'],
  plan(o) { return initPlan(this, o); },
};
