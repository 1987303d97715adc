import type { Plan } from '../src/pod-template/apply';
import type { OptionGroup } from './options';

export const STRATEGY_IDS = ['nmi-init', 'nmi-probes', 'nmi-app-check', 'identity-init', 'identity-probes', 'identity-app-check'] as const;
export const WORKLOAD_IDENTITY_STRATEGY_IDS = ['workload-identity-init', 'workload-identity-probes', 'workload-identity-app-check'] as const;
/** The six AAD Pod Identity strategies. */
export type StrategyId = typeof STRATEGY_IDS[number];
export type WorkloadIdentityStrategyId = typeof WORKLOAD_IDENTITY_STRATEGY_IDS[number];
export type AnyStrategyId = StrategyId | WorkloadIdentityStrategyId;

/** A strategy: what it checks, where, the claims of the table in DESIGN.md, and its plan. */
export interface Strategy<O extends object = any> {
  readonly id: AnyStrategyId;
  /** Number in the strategy table (1-6). */
  readonly number: number;
  readonly checks: 'nmi' | 'identity' | 'workload-identity';
  readonly placement: 'init' | 'probes' | 'app';
  readonly summary: string;
  /** The three claims: start gated; at runtime traffic stopped and container restarted; other identity faults caught. */
  readonly claims: { readonly startGated: string; readonly runtime: string; readonly otherFaults: string };
  readonly tradeOffs: readonly string[];
  readonly optionGroups: readonly OptionGroup[];
  /** Validated plan for these options (throws OptionError on bad input). */
  plan(options: O): Plan;
}
