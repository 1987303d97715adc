export * from './cdk8s/strategies';
export { IdentityHealthMixin, applyMixin } from './cdk8s/mixin';
export * from '../strategies';
export type {
  CommonOptions, TokenOptions, InitOptions, ProbesOptions, ProbeTimingOptions, AppCheckOptions, TokenCacheOptions,
  ResourceOptions, DurationLike, ConflictPolicy, HttpClient, InitClient, WorkloadIdentityOptions,
} from '../strategies/options';
export { DEFAULT_IMAGES, DEFAULTS, DEFAULT_TIMINGS } from '../strategies/options';
export { RUNTIME_ENV } from './runtime/env';
export { applyPlan, ConflictError, InputError, deepEqual } from './pod-template/apply';
export type { Plan, ApplyResult, ProbeSet } from './pod-template/apply';
export { applyStrategy, planFor } from './transform';
export { OptionError } from './checks/validate';
export { WORKLOAD_KINDS, isWorkload, podTemplateOf, workloadName } from './pod-template/workload';
