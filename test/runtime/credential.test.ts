/**
 * The app's own credential as the token step (checkCredential, IdentityHealth `credential`):
 * plain stub credentials for the edge cases, then the REAL @azure/identity credentials against
 * the stand-ins: ManagedIdentityCredential (in process, through AZURE_POD_IDENTITY_AUTHORITY_HOST)
 * against the NMI/IMDS stand-in, and WorkloadIdentityCredential (in a child process that trusts
 * the AAD stand-in's certificate) against the AAD stand-in, including an SDK that holds a stale
 * federated token (AADSTS700024) which the module's own check cannot see. Also: the module's own
 * requests and @azure/identity's agree at the stand-in (selector, api-version, Metadata header).
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { ManagedIdentityCredential } from '@azure/identity';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_MI, POD_MI, startMock } from '../bed/bed';
import {
  checkCredential, checkIdentity, IdentityHealth, resourceScope, TokenCredentialLike,
} from '../../src/runtime';
import { federatedToken, selfSignedCert, startAad, tokenDir, webhookEnv, Aad, jwt, CLIENT_ID } from './aad';
import { msalStandIn, OTHER_MI as OTHER } from '../bed/msal-stand-in';

const SCOPE = 'https://management.azure.com/.default';

/** A credential whose getToken does what `impl` says, counting calls and keeping the signals it got. */
function stub(impl: (scopes: string | string[]) => unknown) {
  const calls: Array<{ scopes: string | string[]; signal?: AbortSignal }> = [];
  const credential: TokenCredentialLike = {
    getToken: (scopes, options) => { calls.push({ scopes, signal: options?.abortSignal }); return impl(scopes) as never; },
  };
  return { credential, calls };
}
const error = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name }, extra);

describe('checkCredential with stub credentials (edge cases)', () => {
  it('healthy on a non-empty token; the token never appears in the result', async () => {
    const token = jwt({ appid: CLIENT_ID });
    const { credential, calls } = stub(async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }));
    const r = await checkCredential({ credential, scopes: SCOPE });
    expect(r).toEqual({ name: 'credential', ok: true, transient: false, reason: `credential.getToken(${JSON.stringify(SCOPE)}) succeeded` });
    expect(calls).toEqual([{ scopes: SCOPE, signal: expect.any(AbortSignal) }]);
    expect(JSON.stringify(r)).not.toContain('eyJ');
  });

  it.each<[string, () => unknown, RegExp]>([
    ['null', async () => null, /returned no token/],
    ['an empty token', async () => ({ token: '' }), /returned no token/],
    ['a non-object', async () => 'token', /returned no token/],
  ])('%s -> hard fault', async (_name, impl, reason) => {
    expect(await checkCredential({ credential: stub(impl).credential, scopes: SCOPE })).toMatchObject({ ok: false, transient: false, reason: expect.stringMatching(reason) });
  });

  it('a getToken that throws synchronously is a failure, not a crash', async () => {
    const r = await checkCredential({ credential: stub(() => { throw new TypeError('boom'); }).credential, scopes: SCOPE });
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/failed: TypeError: boom: the credential could not get a token/) });
  });

  it('is bounded even when the credential ignores the abort signal (SDK retries), and aborts it', async () => {
    const { credential, calls } = stub(() => new Promise(() => undefined));
    const t0 = Date.now();
    const r = await checkCredential({ credential, scopes: SCOPE, timeoutMs: 200 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r).toMatchObject({ ok: false, transient: true, reason: expect.stringMatching(/no answer within 0.2 s \(the SDK retries/) });
    expect(calls[0].signal?.aborted).toBe(true);
  });

  // Error shapes as @azure/identity throws them: AuthenticationError {statusCode, errorResponse}, CredentialUnavailableError.
  it.each<[string, Error, 'workload-identity' | 'pod-identity', { transient: boolean; restart?: boolean }, RegExp]>([
    ['AADSTS70021 (no federated credential)', error('AuthenticationError', 'AADSTS70021: No matching federated identity record found', { statusCode: 400, errorResponse: { error: 'invalid_request' } }), 'workload-identity', { transient: false }, /no matching federated identity credential/],
    ['AADSTS700024 (stale federated token)', error('AuthenticationError', 'invalid_client: AADSTS700024: Client assertion is not within its valid time range.'), 'workload-identity', { transient: false }, /outside its valid time range \(AADSTS700024\) while the file holds a valid one: the SDK holds a stale copy .* A restart makes the app read the file again/],
    ['AAD 429', error('AuthenticationError', 'throttled', { statusCode: 429 }), 'workload-identity', { transient: true }, /AAD throttled/],
    ['AAD 503', error('AuthenticationError', 'unavailable', { statusCode: 503 }), 'workload-identity', { transient: true }, /transient fault at AAD/],
    ['NMI 403 (identity removed from the VMSS)', error('AuthenticationError', 'Identity not found', { statusCode: 403 }), 'pod-identity', { transient: false, restart: false }, /an identity matched but getting its token failed.*Delete the pod/],
    ['NMI 404 (not bound)', error('AuthenticationError', 'no azure identity found', { statusCode: 404 }), 'pod-identity', { transient: false, restart: false }, /no identity assigned to this pod matches/],
    ['NMI 500 (API server unreachable from NMI)', error('AuthenticationError', 'pod list is empty', { statusCode: 500 }), 'pod-identity', { transient: true, restart: false }, /NMI could not match this pod's IP/],
    ['NMI 404 as @azure/identity 4.x words it (status only in the message)', error('CredentialUnavailableError', 'ManagedIdentityCredential: Authentication failed. Message client_error: Description: A client error occured.\nHttp status code: 404\nHttp status message: no azure identity found for request clientID'), 'pod-identity', { transient: false, restart: false }, /no azure identity found.*no identity assigned to this pod matches/],
    ['NMI 500 as MSAL reports it (status in the cause)', Object.assign(error('CredentialUnavailableError', 'ManagedIdentityCredential: Authentication failed.'), { cause: { status: 500 } }), 'pod-identity', { transient: true, restart: false }, /NMI could not match this pod's IP/],
    ['unavailable', error('CredentialUnavailableError', 'WorkloadIdentityCredential: is unavailable. clientId is a required parameter.'), 'workload-identity', { transient: false }, /is unavailable\. clientId is a required parameter.*the credential is unavailable/],
  ])('%s -> its meaning', async (_name, e, system, flags, reason) => {
    const r = await checkCredential({ credential: stub(async () => { throw e; }).credential, scopes: SCOPE, system });
    expect(r).toMatchObject({ name: 'credential', ok: false, transient: flags.transient, reason: expect.stringMatching(reason) });
    expect(r.restart).toBe(flags.restart);
  });

  it('keeps a JWT out of the reason when an error message carries one', async () => {
    const r = await checkCredential({ credential: stub(async () => { throw new Error(`bad assertion ${federatedToken()}`); }).credential, scopes: SCOPE });
    expect(r.reason).toContain('<redacted>');
    expect(r.reason).not.toMatch(/eyJ/);
  });

  it('checks the claims: appid (v1.0) or azp (v2.0) against clientId, oid against objectId', async () => {
    const of = (claims: Record<string, unknown>) => stub(async () => ({ token: jwt(claims) })).credential;
    expect((await checkCredential({ credential: of({ azp: CLIENT_ID }), scopes: SCOPE, clientId: CLIENT_ID })).ok).toBe(true);
    expect(await checkCredential({ credential: of({ appid: OTHER.clientId }), scopes: SCOPE, clientId: CLIENT_ID })).toMatchObject({ ok: false, reason: expect.stringMatching(/another identity \(appid 5555.*configured for another identity/) });
    expect(await checkCredential({ credential: of({ appid: CLIENT_ID, oid: OTHER.objectId }), scopes: SCOPE, clientId: CLIENT_ID, objectId: POD_MI.objectId })).toMatchObject({ ok: false, reason: expect.stringMatching(/oid 6666/) });
  });

  it('resourceScope maps a resource to its .default scope', () => {
    expect(resourceScope()).toBe('https://management.azure.com/.default');
    expect(resourceScope('https://vault.azure.net')).toBe('https://vault.azure.net/.default');
  });
});

describe('IdentityHealth with a credential (stubs, fake clock)', () => {
  let files: ReturnType<typeof tokenDir>;
  beforeAll(() => { files = tokenDir(); });
  afterAll(() => files.cleanup());
  const wiEnv = () => ({ AZURE_CLIENT_ID: CLIENT_ID, AZURE_TENANT_ID: '33333333-3333-3333-3333-333333333333', AZURE_FEDERATED_TOKEN_FILE: files.write(federatedToken()), AZURE_AUTHORITY_HOST: 'https://login.example/' });

  it('workload identity: the file first, then the credential instead of the own exchange, once per TTL, shared by concurrent callers', async () => {
    let t = 1_000_000;
    const { credential, calls } = stub(async () => ({ token: jwt({ appid: CLIENT_ID }) }));
    const h = new IdentityHealth({ check: 'workload-identity', workloadIdentity: { env: wiEnv(), scope: 'https://vault.azure.net/.default' }, credential, tokenCacheTtlMs: 20_000, now: () => t });
    expect(h.boundMs).toBe(5000);
    const rs = await Promise.all([h.readiness(), h.liveness(), h.readiness()]);
    expect(rs.every((r) => r.ok)).toBe(true);
    expect(rs[0].checks.map((c) => c.name)).toEqual(['workload-identity', 'credential']);
    expect(calls.map((c) => c.scopes)).toEqual(['https://vault.azure.net/.default']);
    t += 20_000;
    await h.readiness();
    expect(calls).toHaveLength(2);
    // No credential call while the webhook env is missing: that reason is the one to act on.
    const bare = new IdentityHealth({ check: 'workload-identity', workloadIdentity: { env: {} }, credential, now: () => t });
    expect((await bare.readiness()).checks.map((c) => c.name)).toEqual(['workload-identity']);
    expect(calls).toHaveLength(2);
  });

  it('stale federated token in the SDK (AADSTS700024) after a success: NotReady and liveness fails (a restart re-reads the file)', async () => {
    let t = 1_000_000;
    let fail = false;
    const { credential } = stub(async () => { if (fail) throw error('AuthenticationError', 'AADSTS700024: Client assertion is not within its valid time range.', { statusCode: 400 }); return { token: 'x' }; });
    const h = new IdentityHealth({ check: 'workload-identity', workloadIdentity: { env: wiEnv() }, credential, tokenCacheTtlMs: 0, now: () => t });
    expect((await h.liveness()).ok).toBe(true);
    fail = true;
    t += 1;
    expect(await h.readiness()).toMatchObject({ ok: false, reason: expect.stringMatching(/AADSTS700024/) });
    expect(await h.liveness()).toMatchObject({ ok: false, reason: expect.stringMatching(/SDK holds a stale copy/) });
  });

  it('pod identity: NMI first (no credential call while it is not Active), then the credential with the resource\'s scope', async () => {
    const mock = await startMock({ nmi: '127.0.0.1:0', imds: '127.0.0.1:0' });
    try {
      const { credential, calls } = stub(async () => ({ token: jwt({ appid: POD_MI.clientId }) }));
      const h = new IdentityHealth({ nmi: { hostIp: '127.0.0.1', port: mock.nmiPort }, identity: { resource: 'https://vault.azure.net', clientId: POD_MI.clientId }, credential, tokenCacheTtlMs: 0 });
      expect(await h.readiness()).toMatchObject({ ok: true, checks: [{ name: 'nmi', ok: true }, { name: 'credential', ok: true }] });
      expect(calls.map((c) => c.scopes)).toEqual(['https://vault.azure.net/.default']);
      await mock.set({ nmi: 'not-active' });
      expect((await h.readiness()).checks.map((c) => c.name)).toEqual(['nmi']);
      expect(calls).toHaveLength(1);
      expect((await mock.requests()).filter((r) => r.kind === 'token')).toHaveLength(0); // the module made no request of its own
    } finally {
      await mock.stop();
    }
  });
});

describe('@azure/identity credentials are TokenCredentialLike (type check, no import in src/runtime)', () => {
  it('ManagedIdentityCredential, WorkloadIdentityCredential and DefaultAzureCredential type-check as `credential`', () => {
    const root = path.join(__dirname, '..', '..');
    const file = path.join(root, 'test', 'runtime', '__credential-types.ts');
    const badFile = path.join(root, 'test', 'runtime', '__credential-types-bad.ts');
    const source = `
      import { DefaultAzureCredential, ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';
      import { createHealthHandlers, IdentityHealth, TokenCredentialLike } from './../../src/runtime';
      const a: TokenCredentialLike = new ManagedIdentityCredential({ clientId: 'x' });
      const b: TokenCredentialLike = new WorkloadIdentityCredential();
      new IdentityHealth({ credential: new DefaultAzureCredential() });
      createHealthHandlers({ check: 'workload-identity', credential: b });
      export { a };`;
    const bad = `import { TokenCredentialLike } from './../../src/runtime';\nconst c: TokenCredentialLike = { getToken: (s: number) => s };\nexport { c };`;
    // One program for both snippets (in memory, never written): loading the libraries is the slow part.
    const diagnostics = (texts: Record<string, string>) => {
      const host = ts.createCompilerHost({});
      const read = host.readFile;
      const exists = host.fileExists;
      host.readFile = (f) => texts[path.resolve(f)] ?? read(f);
      host.fileExists = (f) => path.resolve(f) in texts || exists(f);
      const program = ts.createProgram(Object.keys(texts), { strict: true, noEmit: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2022, esModuleInterop: true, skipLibCheck: true, types: ['node'] }, host);
      return Object.keys(texts).map((f) => ts.getPreEmitDiagnostics(program, program.getSourceFile(f)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')));
    };
    const [good, wrong] = diagnostics({ [file]: source, [badFile]: bad });
    expect(good).toEqual([]);
    expect(wrong.join('\n')).toMatch(/is not assignable to type/); // the check can fail
  }, 60_000);
});

describe('ManagedIdentityCredential (@azure/identity) against the NMI/IMDS stand-in', () => {
  const mock = msalStandIn({ nmi: 'active', nmiMode: 'managed', podIdentities: [POD_MI, OTHER], nodeIdentities: [NODE_MI, POD_MI, OTHER], podInCache: true, token: 'ok', identity: null });
  // MSAL caches managed identity tokens process-wide: a fresh resource per test reaches the stand-in.
  let n = 0;
  const resource = () => `https://r${++n}.vault.azure.net`;
  const tokens = async () => (await mock.requests()).filter((r) => r.kind === 'token');

  it.each<[string, { clientId?: string; resourceId?: string }, { clientId?: string; miResId?: string }]>([
    ['client id', { clientId: OTHER.clientId }, { clientId: OTHER.clientId }],
    ['ARM resource id', { resourceId: OTHER.resourceId }, { miResId: OTHER.resourceId }],
  ])('selected by %s, the module\'s own request and the credential\'s agree (path, api-version, resource, selector, Metadata)', async (_name, sdk, own) => {
    const res = resource();
    expect(await checkIdentity({ imdsEndpoint: `http://127.0.0.1:${mock.imdsPort}`, resource: res, ...own, timeoutMs: 2000 })).toMatchObject({ ok: true });
    const h = new IdentityHealth({ checkNmi: false, identity: { resource: res, ...own }, credential: new ManagedIdentityCredential(sdk as never) });
    expect(await h.readiness()).toMatchObject({ ok: true, checks: [{ name: 'credential', ok: true }] });
    const [mine, theirs] = await tokens();
    const q = (query: string) => Object.fromEntries([...new URLSearchParams(query)].sort());
    expect(q(mine.query)).toEqual(q(theirs.query));
    expect(q(mine.query)).toMatchObject({ 'api-version': '2018-02-01', resource: res, ...(own.clientId ? { client_id: own.clientId } : { msi_res_id: own.miResId }) });
    expect([mine.metadata, theirs.metadata]).toEqual(['true', 'true']);
    expect(mine.path).toBe(theirs.path.replace(/\/$/, '')); // MSAL appends a slash; NMI routes on the prefix
    expect([mine.by, theirs.by, mine.status, theirs.status]).toEqual(['nmi', 'nmi', 200, 200]);
  });

  it('identity removed from the VMSS: the credential path reports NMI\'s 403 meaning; NotReady, liveness holds', async () => {
    await mock.set({ nodeIdentities: [NODE_MI] });
    const h = new IdentityHealth({ checkNmi: false, identity: { resource: resource(), clientId: POD_MI.clientId, timeoutMs: 15_000 }, credential: new ManagedIdentityCredential({ clientId: POD_MI.clientId }), startupGraceMs: 0 });
    const r = await h.readiness();
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/credential.getToken.* failed: .*Identity not found.*: an identity matched but getting its token failed/) });
    expect((await tokens()).map((x) => x.status)).toEqual([403]);
    expect(await h.liveness()).toMatchObject({ ok: true, reason: expect.stringMatching(/^a restart cannot fix this/) });
  }, 30_000);
});

/** The child app (credential-child.cjs): one credential for the app and the health check. */
function startChild(env: Record<string, string>): { send(cmd: object): Promise<any>; stop(): void } {
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'credential-child.cjs')], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const answers = readline.createInterface({ input: child.stdout! });
  const waiting: Array<(x: unknown) => void> = [];
  answers.on('line', (l) => waiting.shift()?.(JSON.parse(l)));
  return {
    send(cmd) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child did not answer ${JSON.stringify(cmd)} within 30 s: ${err}`)), 30_000);
        waiting.push((x) => { clearTimeout(timer); resolve(x); });
        child.stdin!.write(`${JSON.stringify(cmd)}\n`);
      });
    },
    stop() { child.kill(); },
  };
}

describe('WorkloadIdentityCredential (@azure/identity) as the health check\'s credential, against the AAD stand-in', () => {
  let aad: Aad;
  let files: ReturnType<typeof tokenDir>;
  let certFile: string;
  beforeAll(async () => {
    files = tokenDir();
    const cert = selfSignedCert(files.dir);
    certFile = cert.certFile;
    aad = await startAad({ tls: cert });
  });
  afterAll(async () => { await aad?.stop(); files?.cleanup(); });
  const env = (extra: Record<string, string> = {}) => ({ ...webhookEnv(aad, files.file), NODE_EXTRA_CA_CERTS: certFile, ...extra });

  it('healthy: the credential exchanges the file\'s token at the stand-in, as the app does', async () => {
    aad.reset();
    files.write(federatedToken());
    const app = startChild(env());
    try {
      const r = await app.send({ op: 'readiness', via: 'credential' });
      expect(r).toMatchObject({ ok: true, checks: [{ name: 'workload-identity', ok: true }, { name: 'credential', ok: true }] });
      expect(aad.requests().filter((x) => x.method === 'POST').map((x) => x.form.scope)).toEqual([SCOPE]);
      // The SDK answers from its token cache until the access token nears expiry: with no TTL of
      // its own (0 here), the check still makes one exchange per access-token lifetime, as the app does.
      for (let i = 0; i < 5; i++) expect((await app.send({ op: 'readiness', via: 'credential' })).ok).toBe(true);
      expect(aad.requests().filter((x) => x.method === 'POST')).toHaveLength(1);
    } finally {
      app.stop();
    }
  });

  it('the module\'s own exchange and WorkloadIdentityCredential\'s send the same request (path, content type, form)', async () => {
    aad.reset();
    files.write(federatedToken());
    const app = startChild(env());
    try {
      expect(await app.send({ op: 'readiness', via: 'own' })).toMatchObject({ ok: true });
      expect(await app.send({ op: 'readiness', via: 'credential' })).toMatchObject({ ok: true });
    } finally {
      app.stop();
    }
    const [mine, theirs] = aad.requests().filter((x) => x.method === 'POST');
    expect(mine.path).toBe(theirs.path);
    expect([mine.contentType, theirs.contentType].map((c) => c?.split(';')[0])).toEqual(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded']);
    // Every field the module sends, the SDK sends with the same value (MSAL adds its own, e.g. client_info).
    expect(Object.keys(mine.form).sort()).toEqual(['client_assertion', 'client_assertion_type', 'client_id', 'grant_type', 'scope']);
    for (const [k, v] of Object.entries(mine.form)) expect(theirs.form[k], k).toBe(v);
  });

  it('stale federated token held by the SDK: AADSTS700024 through the credential while the own check passes; liveness fails, a restarted app is healthy', async () => {
    aad.reset();
    files.write(federatedToken(3)); // valid for 3 s
    const app = startChild(env({ STARTUP_GRACE_MS: '0' }));
    try {
      // The app authenticates once: @azure/identity keeps the assertion (the file's content) for 5 minutes.
      expect(await app.send({ op: 'app', scope: 'https://vault.azure.net/.default' })).toEqual({ ok: true });
      await new Promise((r) => setTimeout(r, 3500));
      files.write(federatedToken()); // kubelet has rotated the file; the SDK still holds the expired copy
      const viaCredential = await app.send({ op: 'readiness', via: 'credential' });
      expect(viaCredential).toMatchObject({ ok: false, checks: [{ name: 'workload-identity', ok: true }, { name: 'credential', ok: false }] });
      expect(viaCredential.reason).toMatch(/AADSTS700024.*the SDK holds a stale copy/);
      expect(await app.send({ op: 'liveness', via: 'credential' })).toMatchObject({ ok: false, reason: expect.stringMatching(/AADSTS700024/) });
      // The module's own exchange reads the file fresh and sees nothing wrong: only the app's path shows it.
      expect(await app.send({ op: 'readiness', via: 'own' })).toMatchObject({ ok: true });
    } finally {
      app.stop();
    }
    const restarted = startChild(env({ STARTUP_GRACE_MS: '0' }));
    try {
      expect(await restarted.send({ op: 'readiness', via: 'credential' })).toMatchObject({ ok: true });
    } finally {
      restarted.stop();
    }
  }, 60_000);
});
