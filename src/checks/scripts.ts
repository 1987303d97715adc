/**
 * The check scripts, built from resolved (already validated) settings. Every script is POSIX sh
 * (dash, BusyBox ash): values reach it only through `sq()` or as integers, so no setting can
 * inject a command. The NMI check compares the body with `Active` (NMI answers 200 in both
 * states); curl always gets `--fail` and `--max-time`, BusyBox wget is bounded by `timeout`.
 *
 * Requests to NMI, IMDS and the workload identity proxy sidecar never go through an HTTP proxy:
 * the IMDS docs require bypassing proxies for 169.254.169.254, and AKS's HTTP proxy feature
 * injects http_proxy / HTTPS_PROXY into pods. curl gets `--noproxy '*'`; wget and az run with
 * the proxy variables unset (BusyBox wget reads http_proxy and ignores no_proxy). The AAD
 * exchange keeps the pod's proxy settings: AAD is outside the cluster, as for the app's SDK.
 *
 * Exit codes of a check: 0 ok; 1 a fault a container restart may clear; 2 transient (IMDS 410,
 * 429, 5xx, no answer: liveness tolerates a streak); 3 a fault only a change outside the
 * container fixes (NMI 403/404/500, a pod the workload identity webhook did not mutate):
 * readiness fails with the reason and the remediation, liveness holds, so there is no restart loop.
 */

export type HttpClient = 'curl' | 'wget';
export type InitClient = HttpClient | 'az';

/** Where the probe scripts keep their small state (token cache, startup gate): an emptyDir. */
export const STATE_DIR = '/var/run/identity-health';
export const IMDS_TOKEN_BASE = 'http://169.254.169.254/metadata/identity/oauth2/token';

export interface TokenSettings {
  /** Full token URL (api-version, url-encoded resource, optional identity selector). */
  readonly url: string;
  /** Upper bound for one token request, seconds. */
  readonly timeout: number;
  /** Claims the token must carry: `appid` (v1.0 tokens; v2.0 tokens carry it as `azp`, also accepted) for a client id. */
  readonly expectClaims: ReadonlyArray<{ readonly claim: 'appid'; readonly value: string }>;
  /** For the az variant: the identity to log in as (`--client-id` or `--resource-id`). */
  readonly azIdentity?: { readonly flag: '--client-id' | '--resource-id'; readonly value: string };
}

/** Azure AD Workload Identity: what the webhook injects, and optionally a real token exchange. */
export interface WorkloadIdentitySettings {
  /** AZURE_CLIENT_ID must equal this (the identity the service account is annotated with). */
  readonly expectClientId?: string;
  /** Exchange the federated token for an AAD token (client-credentials with a client assertion). */
  readonly exchange?: { readonly scope: string; readonly timeout: number };
  /** Port of the migration proxy sidecar, whose /readyz must answer. */
  readonly proxyPort?: number;
}

/** Env the workload identity webhook injects into every container of a pod labelled azure.workload.identity/use. */
export const WORKLOAD_IDENTITY_ENV = ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_AUTHORITY_HOST'] as const;

export interface CheckSettings {
  readonly client: InitClient;
  /** Check NMI's health body first (needs HOST_IP). */
  readonly nmi: boolean;
  readonly nmiPort: number;
  /** Upper bound for the NMI health request, seconds. */
  readonly nmiTimeout: number;
  /** A token request (strategies 4-6); absent for NMI-only checks. */
  readonly token?: TokenSettings;
  /** Workload identity checks instead of pod identity ones. */
  readonly workloadIdentity?: WorkloadIdentitySettings;
}

export interface InitLoopSettings {
  readonly interval: number;
  readonly deadline: number;
}

export interface ProbeScriptSettings {
  /**
   * Seconds a token result is reused. Readiness (and startup) refresh it; liveness reuses it for
   * twice as long, so the two probes never both request a token in the same period.
   */
  readonly tokenCacheTtl: number;
  /** Liveness passes while nothing has succeeded yet and less than this has passed. */
  readonly startupGrace: number;
  /** Liveness passes while token failures are transient (410/429/5xx/timeouts) for less than this. */
  readonly transientGrace: number;
}

/**
 * The token URL. An ARM resource id goes as `msi_res_id`: the name IMDS documents, read by every
 * NMI release (aad-pod-identity pkg/nmi/server/server.go parseTokenRequest; `mi_res_id` only from
 * v1.8.15). There is no object id: NMI never reads `object_id` (see TokenOptions.objectId).
 */
export function buildTokenUrl(o: { apiVersion: string; resource: string; clientId?: string; miResId?: string }): string {
  const q = [`api-version=${o.apiVersion}`, `resource=${encodeURIComponent(o.resource)}`];
  if (o.clientId) q.push(`client_id=${o.clientId}`);
  if (o.miResId) q.push(`msi_res_id=${encodeURIComponent(o.miResId)}`);
  return `${IMDS_TOKEN_BASE}?${q.join('&')}`;
}

/** Unset in a subshell before wget or az: node-local endpoints must not go through a proxy. */
const PROXY_VARS = 'http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY';

/** Single-quote for POSIX sh: the one place where values are quoted. */
export function sq(value: string | number): string {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

function requireTools(tools: string[], hint: string): string {
  if (tools.length === 1) return `command -v ${tools[0]} >/dev/null 2>&1 || { echo ${sq(`identity-health: ${tools[0]} not found in this container: ${hint}`)}; exit 1; }`;
  // The hint is our own text (no $, `, " or \), safe in double quotes.
  return `for t in ${tools.join(' ')}; do command -v "$t" >/dev/null 2>&1 || { echo "identity-health: $t not found in this container: ${hint}"; exit 1; }; done`;
}

function httpGet(client: HttpClient): string {
  // $1 url, $2 bound in seconds. Both clients exit non-zero on HTTP >= 400 and on timeout, and
  // bypass any proxy. curl keeps the body of an error answer (NMI says what failed).
  return client === 'curl'
    ? `get() { curl -sS --noproxy '*' --fail-with-body --max-time "$2" -H 'Metadata: true' "$1"; }`
    // wget says nothing when timeout stops it (dash prints nothing, BusyBox sh "Terminated"):
    // name the cause. GNU timeout exits 124, BusyBox timeout 143 (TERM).
    : `get() { ( unset ${PROXY_VARS}; timeout "$2" wget -q -O - --header 'Metadata: true' "$1" ) || { rc=$?; case $rc in 124|143) echo "no answer within $2 s (wget stopped by timeout)" ;; esac; return "$rc"; }; }`;
}

function nmiFunction(s: CheckSettings): string {
  return [
    'nmi() {',
    `  [ -n "\${HOST_IP:-}" ] || { echo 'identity-health: HOST_IP is not set (add env HOST_IP from fieldRef status.hostIP)'; return 1; }`,
    `  case $HOST_IP in *:*) host="[$HOST_IP]" ;; *) host=$HOST_IP ;; esac; url="http://$host:${s.nmiPort}/healthz"`,
    `  body=$(get "$url" ${s.nmiTimeout} 2>&1) || { echo "identity-health: NMI $url unreachable: $body"; return 1; }`,
    `  [ "$body" = 'Active' ] || { echo "identity-health: NMI at $url is not active (body: $body)"; return 1; }`,
    '}',
  ].join('\n');
}

function claimChecks(t: TokenSettings): string[] {
  if (t.expectClaims.length === 0) return [];
  return [
    // Decode the JWT payload without verifying it: the point is which identity answered. v1.0
    // tokens name the client in `appid`, v2.0 tokens in `azp` (Microsoft identity platform,
    // access token claims reference): either must match.
    `  tok=\${out#*'"access_token":"'}; tok=\${tok%%'"'*}; claims_of "$tok"`,
    ...t.expectClaims.map(({ value }) =>
      `  case $claims in *${sq(`"appid":"${value}"`)}*|*${sq(`"azp":"${value}"`)}*) ;; *) echo ${sq(`identity-health: token was issued to another identity (expected client id ${value} in appid or azp): NMI and IMDS both honour client_id, so something else in the path answered (an HTTP proxy or another interceptor)`)}; return 1 ;; esac`),
  ];
}

/** Decode a JWT's payload (base64url) into $claims; the JWT is in $1. Not a verification. */
const JWT_CLAIMS = [
  'claims_of() {',
  `  p=\${1#*.}; p=\${p%%.*}; p=$(printf '%s' "$p" | tr '_-' '/+')`,
  '  case $((${#p} % 4)) in 2) p="$p==" ;; 3) p="$p=" ;; esac',
  `  claims=$(printf '%s' "$p" | base64 -d 2>/dev/null) || claims=''`,
  '}',
].join('\n');

/**
 * What a missing variable means. The webhook (azure-workload-identity pkg/webhook/webhook.go)
 * mutates only pods labelled azure.workload.identity/use: "true" (its objectSelector), with
 * failurePolicy Fail since v1.0: a pod created while it is down is rejected, never started
 * without env. It adds each variable only when its value is non-empty (addEnvironmentVariables):
 * AZURE_CLIENT_ID comes from the ServiceAccount annotation azure.workload.identity/client-id.
 * The env is fixed when the pod is created: only recreating the pod fixes any of these (exit 3).
 */
const WI_NOT_MUTATED = 'identity-health: no AZURE_* env: the workload identity webhook did not mutate this pod. The pod label azure.workload.identity/use: "true" is missing (a pod created while the webhook is down is rejected, not started: failurePolicy Fail since v1.0), or this container is listed in the annotation azure.workload.identity/skip-containers. Fix the label and recreate the pod';
/** Why each variable can be missing while the others are set (each message ends "Fix it and recreate the pod": a restart keeps the env). */
const WI_MISSING: Readonly<Record<typeof WORKLOAD_IDENTITY_ENV[number], string>> = {
  AZURE_CLIENT_ID: 'the ServiceAccount annotation azure.workload.identity/client-id is missing, empty or misspelt',
  AZURE_TENANT_ID: 'the webhook has no tenant (its AZURE_TENANT_ID setting, or the ServiceAccount annotation azure.workload.identity/tenant-id)',
  AZURE_FEDERATED_TOKEN_FILE: 'overridden in the pod spec?',
  AZURE_AUTHORITY_HOST: 'overridden in the pod spec?',
};

function workloadIdentityFunctions(w: WorkloadIdentitySettings, client: HttpClient): string {
  const out = [
    JWT_CLAIMS,
    // need NAME WHY: NAME is one of the fixed names above (never user input), so eval only reads it.
    `need() { eval "[ -n \\"\\\${$1:-}\\" ]" && return 0; echo "identity-health: $1 is not set while the other AZURE_* variables are: $2. Fix it and recreate the pod"; return 3; }`,
    'wi() {',
    `  [ -n "\${AZURE_CLIENT_ID:-}\${AZURE_TENANT_ID:-}\${AZURE_FEDERATED_TOKEN_FILE:-}\${AZURE_AUTHORITY_HOST:-}" ] || { echo ${sq(WI_NOT_MUTATED)}; return 3; }`,
    ...WORKLOAD_IDENTITY_ENV.map((name) => `  need ${name} ${sq(WI_MISSING[name])} || return`),
  ];
  if (w.expectClientId) {
    out.push(`  [ "$AZURE_CLIENT_ID" = ${sq(w.expectClientId)} ] || { echo "identity-health: AZURE_CLIENT_ID is $AZURE_CLIENT_ID, expected ${w.expectClientId}: the ServiceAccount annotation azure.workload.identity/client-id names another identity. Fix it and recreate the pod"; return 3; }`);
  }
  out.push(
    `  f=$AZURE_FEDERATED_TOKEN_FILE; [ -r "$f" ] || { echo "identity-health: federated token file $f is missing or unreadable (projected service account token volume)"; return 1; }`,
    `  jwt=''; read -r jwt < "$f" || [ -n "$jwt" ] || { echo "identity-health: federated token file $f is empty"; return 1; }`,
    `  claims_of "$jwt"; exp=\${claims#*'"exp":'}; exp=\${exp%%[!0-9]*}`,
    `  [ -n "$exp" ] || { echo "identity-health: federated token in $f has no exp claim (not a JWT?)"; return 1; }`,
    `  [ "$exp" -gt "$(date +%s)" ] || { echo "identity-health: federated token in $f expired at $exp (kubelet stopped refreshing the projected token?)"; return 1; }`,
    '}',
  );
  if (w.proxyPort) {
    // The proxy's /readyz answers "ok" once its listener is up (azure-workload-identity
    // pkg/proxy/proxy.go readyzHandler): it proves the sidecar runs, not that a token can be had.
    out.push(`proxy() { out=$(get 'http://127.0.0.1:${w.proxyPort}/readyz' 2 2>&1) || { echo "identity-health: workload identity proxy sidecar not listening on port ${w.proxyPort}: $out"; return 1; }; }`);
  }
  if (w.exchange) {
    const form = `client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&grant_type=client_credentials&scope=${encodeURIComponent(w.exchange.scope)}`;
    const post = client === 'curl'
      ? `curl -sS --fail-with-body --max-time ${w.exchange.timeout} --data "$form" "$url"`
      // As get: name the cause when timeout stops wget (it says nothing), so it counts as transient.
      : `{ timeout ${w.exchange.timeout} wget -q -O - --post-data "$form" "$url" || { rc=$?; case $rc in 124|143) echo "no answer within ${w.exchange.timeout} s (wget stopped by timeout)" ;; esac; exit "$rc"; }; }`;
    out.push(
      'token() {',
      // A custom token endpoint (webhook v1.6: AZURE_KUBERNETES_TOKEN_PROXY and its CA/SNI env):
      // the SDK exchanges through that proxy, not at AZURE_AUTHORITY_HOST, so an exchange here
      // would test another path than the app's. Skip it (env and token file are still checked).
      '  [ -z "${AZURE_KUBERNETES_TOKEN_PROXY:-}" ] || return 0',
      `  url="\${AZURE_AUTHORITY_HOST%/}/\${AZURE_TENANT_ID}/oauth2/v2.0/token"`,
      // JWTs and GUIDs are URL-safe; the constant part was encoded when the script was built.
      `  form="client_id=\${AZURE_CLIENT_ID}&client_assertion=\${jwt}&"${sq(form)}`,
      // A transient answer (429, 5xx, no answer) is not a credential problem: only a refusal gets the hint.
      `  out=$(${post} 2>&1) || { t=0; transient || t=$?; if [ "$t" = 2 ]; then echo "identity-health: token exchange at $url failed (transient): $out"; else echo "identity-health: token exchange at $url refused (federated identity credential missing, or its issuer/subject/audience wrong?): $out"; fi; return "$t"; }`,
      `  case $out in *'"access_token":"'?*) ;; *) echo 'identity-health: token exchange answered without an access_token'; return 1 ;; esac`,
      '}',
    );
  }
  return out.join('\n');
}

/**
 * `status CODE`: the client's message in $out names HTTP status CODE, read as curl says it
 * ("returned error: 429"), BusyBox wget ("HTTP/1.1 429 ...") and GNU wget ("ERROR 429"). CODE is
 * a case pattern (`5[0-9][0-9]`: any 5xx); pass it quoted.
 * `transient`: exit 2 for a transient answer (IMDS 410 while updating, 429 throttled, 5xx, curl's
 * timeout (28) or our wget timeout note), 1 for the rest (400, 403, 404: a real fault).
 */
const TRANSIENT = [
  `status() { case $out in *'error: '$1*|*' '$1' '*|*'ERROR '$1*) ;; *) return 1 ;; esac; }`,
  `transient() { case $out in *'(28)'*|*'no answer within'*) return 2 ;; esac; for c in 410 429 '5[0-9][0-9]'; do status "$c" && return 2; done; return 1; }`,
].join('\n');

/**
 * What NMI's error statuses mean (aad-pod-identity pkg/nmi/server/server.go msiHandler and
 * pkg/nmi/standard.go), what fixes each, and whether a container restart can: none can, so each
 * exits 3 (NotReady with the reason, no restart loop). Read from curl's "error: 404" or wget's
 * "HTTP/1.1 404 ..." in the client's message.
 */
const NMI_STATUS = [
  ['404', 'no identity bound to this pod matches the request (NMI 404): no AzureIdentityBinding selects this pod (label aadpodidbinding), or clientId/miResId names an identity that is not bound to it. Fix the binding or the selector; the pod then recovers by itself'],
  ['403', 'an identity matched but NMI could not get its token (NMI 403): the identity was removed from the node\'s VM scale set, or deleted and recreated with the same name. Delete the pod so MIC assigns the identity again (a container restart does not)'],
  ['500', 'NMI could not match this pod (NMI 500): NMI cannot reach or list the API server, or has not seen this pod yet. Check the NMI pod on this node (logs, API server connectivity)'],
] as const;

function tokenFunction(t: TokenSettings): string {
  return [
    'token() {',
    `  out=$(get ${sq(t.url)} ${t.timeout} 2>&1) || {`,
    ...NMI_STATUS.map(([code, why]) => `    status ${code} && { echo ${sq(`identity-health: ${why}`)}": $out"; return 3; }`),
    // Only IMDS answers 400 to this request (NMI would only for a missing resource or header).
    `    status 400 && { echo "identity-health: IMDS refused the request (400), so NMI is not intercepting token requests on this node (not running, or its rules removed); IMDS needs the identity named when the node has several, and knows only identities on the node: $out"; return 1; }`,
    `    echo "identity-health: token request failed: $out"; transient; return; }`,
    `  case $out in *'"access_token":"'?*) ;; *) echo 'identity-health: token response carries no access_token'; return 1 ;; esac`,
    ...claimChecks(t),
    '}',
  ].join('\n');
}

/**
 * `az login --identity` with `--client-id` or `--resource-id` (Azure CLI 2.69 added them; the old
 * `--username` for a managed identity was deprecated then and is gone from current releases).
 * Proxy variables unset: az talks to IMDS (through NMI).
 */
function azFunction(t: TokenSettings): string {
  const id = t.azIdentity ? ` ${t.azIdentity.flag} ${sq(t.azIdentity.value)}` : '';
  return [
    'token() {',
    `  out=$( (unset ${PROXY_VARS}; timeout ${t.timeout} az login --identity${id} --allow-no-subscriptions --output none) 2>&1) || { echo "identity-health: az login --identity failed: $out"; return 1; }`,
    '}',
  ].join('\n');
}

/** The functions a check needs, and the command that runs them all (token through `tokenCall`). */
function checkFunctions(s: CheckSettings, tokenCall: string): { text: string; call: string } {
  const parts: string[] = [];
  const client: HttpClient = s.client === 'wget' ? 'wget' : 'curl';
  const needsHttp = s.nmi || !!s.token || !!s.workloadIdentity?.exchange || !!s.workloadIdentity?.proxyPort;
  const tools = !needsHttp ? [] : s.client === 'wget' ? ['wget', 'timeout'] : s.client === 'az' ? ['az', 'timeout'] : ['curl'];
  // az logs in without showing the token, so only curl/wget checks can verify its claims.
  const verifyClaims = s.client !== 'az' && !!s.token?.expectClaims.length;
  if (s.workloadIdentity || verifyClaims) tools.push('base64');
  if (s.client === 'az' && s.nmi) tools.push('curl');
  const hint = s.client === 'az' ? 'use the azure-cli image'
    : `${needsHttp ? `pick client ${s.client === 'curl' ? 'wget' : 'curl'}, or ` : 'use '}an image with sh and ${tools.join(' and ')}`;
  if (tools.length) parts.push(requireTools(tools, hint));
  if (s.nmi || (s.token && s.client !== 'az') || s.workloadIdentity?.proxyPort) parts.push(httpGet(client));
  if (s.nmi) parts.push(nmiFunction(s));
  if (verifyClaims) parts.push(JWT_CLAIMS);
  if ((s.token && s.client !== 'az') || s.workloadIdentity?.exchange) parts.push(TRANSIENT);
  if (s.token) parts.push(s.client === 'az' ? azFunction(s.token) : tokenFunction(s.token));
  const w = s.workloadIdentity;
  if (w) parts.push(workloadIdentityFunctions(w, client));
  const steps = [
    s.nmi ? 'nmi' : '', w ? 'wi' : '', w?.proxyPort ? 'proxy' : '',
    s.token || w?.exchange ? tokenCall : '',
  ].filter(Boolean);
  if (steps.length === 0) throw new Error('a check needs the NMI check, a token request, or both');
  // One step is called by its own name; several through `check`.
  if (steps.length > 1) parts.push(`check() { ${steps.join(' && ')}; }`);
  return { text: parts.join('\n'), call: steps.length > 1 ? 'check' : steps[0] };
}

/**
 * Init-container script: try until the check passes, logging every try, and fail loudly after
 * the deadline (kubelet then restarts the init container with back-off).
 */
export function initScript(s: CheckSettings, loop: InitLoopSettings): string {
  const check = checkFunctions(s, 'token');
  return [
    'set -u',
    check.text,
    'start=$(date +%s); try=0',
    'while :; do',
    '  try=$((try + 1))',
    `  if msg=$(${check.call} 2>&1); then echo "identity-health: try $try: identity stack ready"; exit 0; fi`,
    '  msg=${msg#identity-health: }',
    '  echo "identity-health: try $try: $msg"',
    `  if [ $(($(date +%s) - start)) -ge ${loop.deadline} ]; then`,
    `    echo "identity-health: giving up after ${loop.deadline}s and $try tries; last error: $msg" >&2`,
    '    exit 1',
    '  fi',
    `  sleep ${loop.interval}`,
    'done',
  ].join('\n') + '\n';
}

/**
 * Probe script, run as `sh -c <script> identity-health <readiness|liveness|startup>`.
 * Token results are cached in STATE_DIR for tokenCacheTtl seconds (bounded IMDS load, shared by
 * readiness and liveness); the NMI signal is checked on every run. Liveness passes until the
 * first success or until startupGrace has passed, so an existing startup probe (such as the
 * tcpSocket one cdk8s-plus adds) cannot let liveness restart the container during the
 * identity-assignment window.
 */
export function probeScript(s: CheckSettings, p: ProbeScriptSettings): string {
  const token = !!(s.token || s.workloadIdentity?.exchange);
  const cached = token ? [
    'token_cached() {',
    `  case $mode in liveness) ttl=${2 * p.tokenCacheTtl} ;; *) ttl=${p.tokenCacheTtl} ;; esac`,
    `  if [ -f "$state/token" ] && read -r ts rc < "$state/token" && [ $((now - ts)) -ge 0 ] && [ $((now - ts)) -lt "$ttl" ]; then`,
    '    [ "$rc" = 0 ] && return 0',
    `    err=''; [ -f "$state/token-error" ] && read -r err < "$state/token-error"`,
    '    echo "$err (cached $((now - ts))s ago)"; return "$rc"',
    '  fi',
    '  rc=0; err=$(token) || rc=$?',
    `  printf '%s\\n' "$err" > "$state/token-error"; echo "$now $rc" > "$state/token"`,
    `  [ "$rc" = 0 ] || { printf '%s\\n' "$err"; return "$rc"; }`,
    '}',
  ] : [];
  // Exit 2 from the check means a transient token fault: liveness tolerates a streak of them.
  const transient = token ? [
    'if [ "$rc" = 2 ]; then',
    `  [ -f "$state/transient-since" ] || echo "$now" > "$state/transient-since"`,
    `  since=$now; read -r since < "$state/transient-since" || since=$now`,
    `  [ $((now - since)) -ge ${p.transientGrace} ] || { echo "identity-health: transient for $((now - since))s, liveness holds (grace ${p.transientGrace}s)"; exit 0; }`,
    `else rm -f "$state/transient-since"; fi`,
  ] : [];
  const check = checkFunctions(s, 'token_cached');
  return [
    'set -u',
    `mode=\${1:-readiness}; state=${sq(STATE_DIR)}; now=$(date +%s)`,
    `[ -f "$state/first-seen" ] || echo "$now" > "$state/first-seen"`,
    check.text,
    ...cached,
    `rc=0; msg=$(${check.call} 2>&1) || rc=$?`,
    `if [ "$rc" = 0 ]; then : > "$state/ever-ok";${token ? ` rm -f "$state/transient-since";` : ''} exit 0; fi`,
    `printf '%s\\n' "$msg"`,
    // Startup and liveness pass on a fault only a change outside the container fixes (else the
    // startup probe's 180 s would end in a restart loop); readiness keeps the pod out of service.
    ...(token || s.workloadIdentity ? [`if [ "$rc" = 3 ] && [ "$mode" != readiness ]; then echo 'identity-health: a container restart cannot fix this: liveness holds, readiness fails until it is fixed'; exit 0; fi`] : []),
    // Readiness and startup report the fault as it is; liveness may hold.
    '[ "$mode" = liveness ] || exit "$rc"',
    'if [ ! -f "$state/ever-ok" ]; then',
    `  first=$now; read -r first < "$state/first-seen" || first=$now`,
    `  [ $((now - first)) -ge ${p.startupGrace} ] || { echo 'identity-health: no success yet, liveness holds during the startup grace'; exit 0; }`,
    'fi',
    ...transient,
    // The class of fault (1 fault, 2 transient, 3 only a change outside the container fixes it).
    'exit "$rc"',
  ].join('\n') + '\n';
}

/** Keeps an otherwise idle sidecar alive and stops promptly on SIGTERM. */
export const SIDECAR_IDLE_SCRIPT = `trap 'exit 0' TERM INT\nwhile :; do sleep 3600 & wait $!; done\n`;
