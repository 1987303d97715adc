/**
 * Env the app-check strategies (3 and 6) set on the app container and the runtime module reads.
 * Kept here, beside the runtime, so the runtime has no dependency on cdk8s or the strategies.
 */
export const RUNTIME_ENV = {
  /** 'nmi' (strategy 3), 'identity' (strategy 6) or 'workload-identity' (strategy 9). */
  check: 'IDENTITY_HEALTH_CHECK',
  nmiPort: 'IDENTITY_HEALTH_NMI_PORT',
  nmiTimeout: 'IDENTITY_HEALTH_NMI_TIMEOUT_SECONDS',
  resource: 'IDENTITY_HEALTH_RESOURCE',
  apiVersion: 'IDENTITY_HEALTH_API_VERSION',
  /** Pod identity: the identity to request. Workload identity: the value AZURE_CLIENT_ID must have. */
  clientId: 'IDENTITY_HEALTH_CLIENT_ID',
  /** Pod identity: the `oid` claim to verify; never a selector (NMI ignores object_id), so only beside clientId or miResId. */
  objectId: 'IDENTITY_HEALTH_OBJECT_ID',
  /** Pod identity: the identity's ARM resource id, sent as `msi_res_id`. */
  miResId: 'IDENTITY_HEALTH_MI_RES_ID',
  /** 'true' | 'false': compare the token's appid (v1.0) or azp (v2.0) and oid claims with clientId/objectId. */
  verifyIdentity: 'IDENTITY_HEALTH_VERIFY_IDENTITY',
  /** 'true' | 'false': check NMI's health body before the token request. */
  checkNmi: 'IDENTITY_HEALTH_CHECK_NMI',
  tokenTimeout: 'IDENTITY_HEALTH_TOKEN_TIMEOUT_SECONDS',
  tokenCacheTtl: 'IDENTITY_HEALTH_TOKEN_CACHE_TTL_SECONDS',
  startupGrace: 'IDENTITY_HEALTH_STARTUP_GRACE_SECONDS',
  /** How long 429/410/5xx/timeouts may last before liveness fails. */
  transientGrace: 'IDENTITY_HEALTH_TRANSIENT_GRACE_SECONDS',
  /** Workload identity: 'true' | 'false': exchange the federated token at AAD (client credentials). */
  wiExchange: 'IDENTITY_HEALTH_WI_EXCHANGE',
  /** Workload identity: scope of the exchanged token (with wiExchange). */
  wiScope: 'IDENTITY_HEALTH_WI_SCOPE',
  /** Workload identity: port of the migration proxy sidecar whose /readyz must answer (absent: not checked). */
  wiProxyPort: 'IDENTITY_HEALTH_WI_PROXY_PORT',
  /** Never set by the strategies: points the token request at a stand-in (tests, local runs). */
  imdsEndpoint: 'IDENTITY_HEALTH_IMDS_ENDPOINT',
} as const;
