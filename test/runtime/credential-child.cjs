/**
 * A workload identity app in a child process (it must trust the AAD stand-in's self-signed
 * certificate: NODE_EXTRA_CA_CERTS is read at process start): one @azure/identity
 * WorkloadIdentityCredential from the webhook env, used both by "the app" and by the runtime's
 * health check (IdentityHealth with `credential`), plus a second IdentityHealth that makes the
 * runtime's own exchange. Reads JSON commands from stdin, one per line, and answers one JSON line:
 *   {"op":"app","scope":"..."}   the app's own getToken -> {ok, message?}
 *   {"op":"readiness"|"liveness","via":"credential"|"own"}  -> the HealthReport
 * Uses the built runtime (lib/src/runtime): `npm test` builds first.
 */
const readline = require('node:readline');
const { WorkloadIdentityCredential } = require('@azure/identity');
const { IdentityHealth } = require('../../lib/src/runtime');

// disableInstanceDiscovery: MSAL must not ask login.microsoftonline.com about the stand-in's authority.
const credential = new WorkloadIdentityCredential({ disableInstanceDiscovery: true });
const common = { check: 'workload-identity', startupGraceMs: Number(process.env.STARTUP_GRACE_MS ?? 180000), tokenCacheTtlMs: 0 };
const health = {
  credential: new IdentityHealth({ ...common, credential, workloadIdentity: { env: process.env, timeoutMs: 10000 } }),
  own: new IdentityHealth({ ...common, workloadIdentity: { env: process.env, exchange: true, timeoutMs: 10000 } }),
};

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const cmd = JSON.parse(line);
  let out;
  try {
    if (cmd.op === 'app') {
      const t = await credential.getToken(cmd.scope, { abortSignal: AbortSignal.timeout(10000) });
      out = { ok: typeof t?.token === 'string' && t.token.length > 0 };
    } else {
      out = await health[cmd.via][cmd.op]();
    }
  } catch (e) {
    out = { ok: false, message: String(e && e.message) };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
});
lines.on('close', () => process.exit(0));
