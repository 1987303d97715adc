/**
 * cdk8s-identity-health/runtime: the app-level identity checks of strategies 3, 6 and 9, for Node
 * services. Node standard library only; no cdk8s.
 */
export { RUNTIME_ENV } from './env';
export {
  checkIdentity, checkNmi, claimMismatch, decodeJwtPayload, identitySelectorError, tokenUrl,
  checkWorkloadIdentity, checkFederatedToken, checkWorkloadIdentityProxy, exchangeFederatedToken, workloadIdentityTokenUrl, proxyFor,
  DEFAULT_API_VERSION, DEFAULT_IMDS_ENDPOINT, DEFAULT_NMI_PORT, DEFAULT_RESOURCE,
  CLIENT_ASSERTION_TYPE, DEFAULT_WI_PROXY_PORT, DEFAULT_WI_SCOPE, TOKEN_PROXY_ENV, WORKLOAD_IDENTITY_ENV,
} from './checks';
export { checkCredential, resourceScope } from './credential';
export type { CredentialCheckOptions, TokenCredentialLike } from './credential';
export type { CheckResult, IdentityCheckOptions, NmiCheckOptions, WorkloadIdentityCheckOptions } from './checks';
export { IdentityHealth } from './monitor';
export type { CheckKind, HealthReport, IdentityHealthOptions, Probe } from './monitor';
export { createHealthHandlers } from './handlers';
export type { AppCheck, Handler, HealthHandlers, HealthHandlersOptions, RequestLike, ResponseLike } from './handlers';
export { fromEnv } from './config';
