/**
 * Env the app-check strategies (3 and 6) set on the app container and the runtime module reads.
 * Kept here, beside the runtime, so the runtime has no dependency on cdk8s or the strategies.
 */
export const RUNTIME_ENV = {
  /** 'nmi' (strategy 3) or 'identity' (strategy 6). */
  check: 'IDENTITY_HEALTH_CHECK',
  nmiPort: 'IDENTITY_HEALTH_NMI_PORT',
  nmiTimeout: 'IDENTITY_HEALTH_NMI_TIMEOUT_SECONDS',
  resource: 'IDENTITY_HEALTH_RESOURCE',
  apiVersion: 'IDENTITY_HEALTH_API_VERSION',
  clientId: 'IDENTITY_HEALTH_CLIENT_ID',
  objectId: 'IDENTITY_HEALTH_OBJECT_ID',
  miResId: 'IDENTITY_HEALTH_MI_RES_ID',
  /** 'true' | 'false': compare the token's appid/oid claims with clientId/objectId. */
  verifyIdentity: 'IDENTITY_HEALTH_VERIFY_IDENTITY',
  /** 'true' | 'false': check NMI's health body before the token request. */
  checkNmi: 'IDENTITY_HEALTH_CHECK_NMI',
  tokenTimeout: 'IDENTITY_HEALTH_TOKEN_TIMEOUT_SECONDS',
  tokenCacheTtl: 'IDENTITY_HEALTH_TOKEN_CACHE_TTL_SECONDS',
  startupGrace: 'IDENTITY_HEALTH_STARTUP_GRACE_SECONDS',
  /** Not set by the strategies yet: how long 429/410/5xx/timeouts may last before liveness fails. */
  transientGrace: 'IDENTITY_HEALTH_TRANSIENT_GRACE_SECONDS',
  /** Never set by the strategies: points the token request at a stand-in (tests, local runs). */
  imdsEndpoint: 'IDENTITY_HEALTH_IMDS_ENDPOINT',
} as const;
