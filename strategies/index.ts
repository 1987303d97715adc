import { identityAppCheck } from './identity-app-check';
import { identityInit } from './identity-init';
import { identityProbes } from './identity-probes';
import { nmiAppCheck } from './nmi-app-check';
import { nmiInit } from './nmi-init';
import { nmiProbes } from './nmi-probes';
import { Strategy, StrategyId, STRATEGY_IDS } from './types';

export * from './types';
export type { NmiInitCheckOptions } from './nmi-init';
export type { NmiProbesOptions } from './nmi-probes';
export type { NmiAppHealthCheckOptions } from './nmi-app-check';
export type { IdentityInitCheckOptions } from './identity-init';
export type { IdentityProbesOptions } from './identity-probes';
export type { IdentityAppHealthCheckOptions } from './identity-app-check';

/** The six strategies, in table order. */
export const STRATEGIES: Readonly<Record<StrategyId, Strategy>> = {
  'nmi-init': nmiInit,
  'nmi-probes': nmiProbes,
  'nmi-app-check': nmiAppCheck,
  'identity-init': identityInit,
  'identity-probes': identityProbes,
  'identity-app-check': identityAppCheck,
};

export function getStrategy(id: string): Strategy {
  if (!(STRATEGY_IDS as readonly string[]).includes(id)) {
    throw new Error(`unknown strategy "${id}": expected one of ${STRATEGY_IDS.join(', ')}`);
  }
  return STRATEGIES[id as StrategyId];
}
