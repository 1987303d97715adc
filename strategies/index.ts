import { identityAppCheck } from './identity-app-check';
import { identityInit } from './identity-init';
import { identityProbes } from './identity-probes';
import { nmiAppCheck } from './nmi-app-check';
import { nmiInit } from './nmi-init';
import { nmiProbes } from './nmi-probes';
import { AnyStrategyId, Strategy, StrategyId, WorkloadIdentityStrategyId } from './types';
import { didYouMean } from '../src/suggest';
import { workloadIdentityAppCheck } from './workload-identity-app-check';
import { workloadIdentityInit } from './workload-identity-init';
import { workloadIdentityProbes } from './workload-identity-probes';

export * from './types';
export type { NmiInitCheckOptions } from './nmi-init';
export type { NmiProbesOptions } from './nmi-probes';
export type { NmiAppHealthCheckOptions } from './nmi-app-check';
export type { IdentityInitCheckOptions } from './identity-init';
export type { IdentityProbesOptions } from './identity-probes';
export type { IdentityAppHealthCheckOptions } from './identity-app-check';
export type { WorkloadIdentityInitCheckOptions } from './workload-identity-init';
export type { WorkloadIdentityProbesOptions } from './workload-identity-probes';
export type { WorkloadIdentityAppHealthCheckOptions } from './workload-identity-app-check';

/** The six pod identity strategies, in table order. */
export const STRATEGIES: Readonly<Record<StrategyId, Strategy>> = {
  'nmi-init': nmiInit,
  'nmi-probes': nmiProbes,
  'nmi-app-check': nmiAppCheck,
  'identity-init': identityInit,
  'identity-probes': identityProbes,
  'identity-app-check': identityAppCheck,
};

/** The Azure AD Workload Identity strategies. */
export const WORKLOAD_IDENTITY_STRATEGIES: Readonly<Record<WorkloadIdentityStrategyId, Strategy>> = {
  'workload-identity-init': workloadIdentityInit,
  'workload-identity-probes': workloadIdentityProbes,
  'workload-identity-app-check': workloadIdentityAppCheck,
};

const ALL: Readonly<Record<AnyStrategyId, Strategy>> = { ...STRATEGIES, ...WORKLOAD_IDENTITY_STRATEGIES };

export function getStrategy(id: string): Strategy {
  if (!(id in ALL)) {
    throw new Error(`unknown strategy "${id}"${didYouMean(id, Object.keys(ALL))}: expected one of ${Object.keys(ALL).join(', ')}`);
  }
  return ALL[id as AnyStrategyId];
}
