/**
 * cdk8s-identity-health/runtime: the app-level identity checks of strategies 3 and 6, for Node
 * services. Node standard library only; no cdk8s.
 */
export { RUNTIME_ENV } from './env';
export {
  checkIdentity, checkNmi, decodeJwtPayload, tokenUrl,
  DEFAULT_API_VERSION, DEFAULT_IMDS_ENDPOINT, DEFAULT_NMI_PORT, DEFAULT_RESOURCE,
} from './checks';
export type { CheckResult, IdentityCheckOptions, NmiCheckOptions } from './checks';
export { IdentityHealth } from './monitor';
export type { HealthReport, IdentityHealthOptions, Probe } from './monitor';
export { createHealthHandlers } from './handlers';
export type { AppCheck, Handler, HealthHandlers, HealthHandlersOptions, RequestLike, ResponseLike } from './handlers';
export { fromEnv } from './config';
