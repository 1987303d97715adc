/**
 * A small kubelet stand-in for one pod with one app container, enough to observe what the
 * generated checks do over time. It is a test harness, not a cluster. Rules it applies (as
 * kubelet's prober and restart logic do):
 * - init containers run in order, each to completion; a failed one is run again after the
 *   crash back-off (0 s for the first restart, then 10, 20, 40 ... s, capped at 300 s);
 * - then the app container starts; the startup probe gates readiness and liveness (they do not
 *   run until it has succeeded); without a startup probe the container counts as started;
 * - each probe runs every periodSeconds on a grid from the container start (the first run at
 *   the start), is skipped until initialDelaySeconds have passed, and an exec or HTTP call is
 *   killed after timeoutSeconds and counts as a failure; a result flips after
 *   successThreshold / failureThreshold equal results in a row; readiness starts as failed,
 *   liveness as passed;
 * - a failed startup or liveness probe kills the container; it restarts after the back-off,
 *   with fresh probe state, without the init containers, and with the pod's emptyDir kept;
 * - the pod is Ready when the container has started and readiness passes (or has no probe).
 *
 * Clock: virtual. While a command runs, virtual time advances with real time; when nothing
 * runs, it jumps to the next scheduled event. Scripts read it through a `date` shim and wait
 * through a `sleep` shim (both first on PATH) that ask the runner; the app process of
 * strategies 3/6 reads it through a Date.now preload (virtual-clock.cjs). So the commands
 * really run, with their real timeouts, while idle minutes cost nothing.
 *
 * Exec commands run as kubelet would run them in the container: the exact argv from the
 * manifest (with `/bin/sh` taken from the image stand-in), only the container's env (HOST_IP
 * from status.hostIP) plus PATH, inside the bed's network namespace and a private mount
 * namespace where the container's volumes are bound on their mount paths: the pod's own
 * emptyDir dir, and for a downwardAPI volume a dir holding each item's pod annotation as a file,
 * written before the containers start, as kubelet does (an absent annotation projects as an empty
 * file, pkg/fieldpath/fieldpath.go), read-only where the mount says so.
 *
 * Azure AD Workload Identity pods (option `workloadIdentity`): the webhook adds AZURE_CLIENT_ID,
 * AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST to every container (init
 * containers and the app process included) and projects the service account token into a file;
 * the runner does the same, with the file in the pod's own directory (whose content the scenario
 * steps change, as kubelet's projected volume would: valid, expiring, missing, empty, refreshed,
 * replaced atomically by a rename) and AZURE_AUTHORITY_HOST pointing at the mock AAD in the
 * namespace. With `webhook: false` the pod was created while the webhook was down: none of it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { projectedScript } from '../../src/pod-template/pieces';
import type { Container, EnvVar, PodSpec, Probe } from '../../src/pod-template/types';
import { AAD_AUTHORITY_HOST, Bed, HOST_IP, MockState, NODE_MI, POD_MI, RequestKind } from './bed';
import { binDir, Image } from './images';

export type ProbeName = 'startup' | 'readiness' | 'liveness';

/** What happened, at virtual seconds since the pod was created. */
export type TimelineEvent =
  | { t: number; type: 'fault'; label: string; state: MockState; tokenFile?: TokenFile }
  | { t: number; type: 'init'; container: string; ok: boolean; output: string }
  | { t: number; type: 'start' }
  | { t: number; type: 'probe'; probe: ProbeName; ok: boolean; timedOut: boolean; output: string; ms: number }
  | { t: number; type: 'ready' | 'notready' }
  | { t: number; type: 'restart'; probe: ProbeName }
  | { t: number; type: 'request'; kind: RequestKind }
  /** The federated token in the file passed its exp (whole seconds, so at or up to 1 s after the step's expiresAt). */
  | { t: number; type: 'token-expired' };

/**
 * The projected federated token file of a workload identity pod: a token whose `exp` is at
 * `expiresAt` virtual seconds since pod creation (negative: expired before the pod started),
 * no file at all, or an empty file.
 */
export type TokenFile = { readonly expiresAt: number } | 'missing' | 'empty';

export interface Step {
  /** Virtual seconds since pod creation. */
  readonly at: number;
  readonly label: string;
  readonly state: MockState;
  /** Workload identity pods: what the projected token file holds from this step on. */
  readonly tokenFile?: TokenFile;
}

/** What the workload identity webhook did to the pod. */
export interface WorkloadIdentityPod {
  /**
   * false: the webhook did not mutate the pod (no env, no token file). Since webhook v1.0
   * (failurePolicy Fail) that means the pod label azure.workload.identity/use was missing: a pod
   * created while the webhook is down is rejected, not started.
   */
  readonly webhook: boolean;
  /** false: the ServiceAccount has no azure.workload.identity/client-id annotation, so the webhook adds no AZURE_CLIENT_ID. @default true */
  readonly clientIdAnnotation?: boolean;
}

export const WI_TENANT_ID = '33333333-3333-3333-3333-333333333333';
export const WI_CLIENT_ID = '44444444-4444-4444-4444-444444444444';
/** kubelet's projected token lifetime for the webhook's volume (expirationSeconds 3600). */
const PROJECTED_TTL_S = 3600;

/** The app container's process, for httpGet probes (strategies 3 and 6). */
export interface AppCommand {
  /** argv of the app (run inside the namespace with the container's env). */
  readonly argv: string[];
  /** Extra env the container would have (PORT, HOST ...). */
  readonly env: Record<string, string>;
}

export interface RunOptions {
  readonly bed: Bed;
  readonly spec: PodSpec;
  /** The pod template's annotations (what downwardAPI volumes project). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Image stand-in for init containers and exec probes. */
  readonly image: Image;
  readonly steps: readonly Step[];
  /** Virtual seconds to run. */
  readonly duration: number;
  readonly app?: AppCommand;
  /** Leave HOST_IP out of the env (to see the check's message). */
  readonly withoutHostIp?: boolean;
  /** An Azure AD Workload Identity pod (see the header). */
  readonly workloadIdentity?: WorkloadIdentityPod;
  /** Env every container gets, as AKS's HTTP proxy feature injects http_proxy / HTTPS_PROXY / NO_PROXY into pods. */
  readonly podEnv?: Record<string, string>;
}

export interface RunResult {
  readonly timeline: TimelineEvent[];
  readonly duration: number;
}

/** Binds each `source target ro|rw` triple before `--`, then runs the rest (in a private mount namespace). */
const BIND_MOUNTS = 'while [ "$1" != -- ]; do mkdir -p "$2" && mount --bind "$1" "$2" || exit 1; '
  + 'if [ "$3" = ro ]; then mount -o remount,bind,ro "$2" || exit 1; fi; shift 3; done; shift; exec "$@"';
const BACKOFF_S = [0, 10, 20, 40, 80, 160, 300];
const CURL = '/usr/bin/curl';
const VCLOCK = path.join(__dirname, 'virtual-clock.cjs');

interface Exec { proc: ChildProcess }
interface Bind { source: string; target: string; readOnly: boolean }

/** Timers on the virtual clock, and the count of commands running (time only jumps when 0). */
class Sim {
  private offset = 0;
  readonly offsets: Array<{ real: number; offset: number }> = [{ real: Date.now(), offset: 0 }];
  // A timer may return a promise (a mock state change): later timers wait for it, so a command
  // due at the same moment never sees the state from before the change.
  private timers: Array<{ at: number; seq: number; fn: () => void | Promise<void> }> = [];
  private seq = 0;
  private wake: () => void = () => {};
  active = 0;
  readonly running = new Set<Exec>();
  constructor(private readonly offsetFile: string) { fs.writeFileSync(offsetFile, '0\n'); }

  now(): number { return Date.now() + this.offset; }
  at(at: number, fn: () => void | Promise<void>): void { this.timers.push({ at, seq: this.seq++, fn }); this.wake(); }
  /** Count an async operation as activity, so time does not jump while it runs. */
  begin(): () => void {
    this.active++;
    let done = false;
    return () => { if (!done) { done = true; this.active--; this.wake(); } };
  }
  /** The caller goes idle (a `sleep`): time may jump; call the result when it runs again. */
  pause(): () => void {
    this.active--;
    this.wake();
    let resumed = false;
    return () => { if (!resumed) { resumed = true; this.active++; } };
  }
  private jump(to: number): void {
    const d = to - this.now();
    if (d <= 0) return;
    this.offset += d;
    this.offsets.push({ real: Date.now(), offset: this.offset });
    fs.writeFileSync(this.offsetFile, `${this.offset}\n`);
  }
  /** Virtual time of a real epoch-ms instant. */
  virtualOf(real: number): number {
    let o = 0;
    for (const e of this.offsets) if (e.real <= real) o = e.offset;
    return real + o;
  }

  async loop(end: number): Promise<void> {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      const now = this.now();
      if (next && next.at <= now && next.at < end) { this.timers.shift(); await next.fn(); continue; }
      if (now >= end) break;
      if (this.active === 0) { this.jump(Math.min(next?.at ?? end, end)); continue; }
      const wait = Math.min(next?.at ?? end, end) - now;
      await new Promise<void>((r) => { const h = setTimeout(r, wait); this.wake = () => { clearTimeout(h); r(); }; });
      this.wake = () => {};
    }
    for (const e of this.running) killGroup(e.proc);
  }
}

function killGroup(p: ChildProcess): void {
  try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* gone */ }
}

/** The env kubelet gives a container from its spec (values, and status.hostIP). */
function containerEnv(c: Container, withoutHostIp: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of (c.env ?? []) as EnvVar[]) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if ((e.valueFrom as any)?.fieldRef?.fieldPath === 'status.hostIP' && !withoutHostIp) env[e.name] = HOST_IP;
  }
  return env;
}

export async function runPod(o: RunOptions): Promise<RunResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-pod-'));
  const sock = path.join(dir, 'runner.sock');
  const shims = path.join(dir, 'shims');
  fs.mkdirSync(shims);
  const sim = new Sim(path.join(dir, 'offset'));
  // Shims read the runner's clock; they are tools of the harness, so they use host binaries.
  fs.writeFileSync(path.join(shims, 'date'), [
    '#!/bin/sh',
    `[ "$*" = +%s ] || { echo "date shim: only +%s is supported" >&2; exit 2; }`,
    `read -r off < '${dir}/offset'`,
    'ms=$(/bin/date +%s%3N)',
    'echo $(( (ms + off) / 1000 ))', ''].join('\n'), { mode: 0o755 });
  fs.writeFileSync(path.join(shims, 'sleep'), `#!/bin/sh\nexec ${CURL} -sf --unix-socket '${sock}' "http://runner/sleep?s=$1" >/dev/null\n`, { mode: 0o755 });

  // sleep: the caller is idle until virtual now + s, so time may jump over it.
  const server = http.createServer((req, res) => {
    const s = Number(new URL(req.url!, 'http://x').searchParams.get('s'));
    if (!(s >= 0)) { res.writeHead(400); res.end(); return; }
    const resume = sim.pause();
    res.on('close', resume); // killed while asleep: count it as running again, its exit ends it
    sim.at(sim.now() + s * 1000, () => { resume(); res.end(); });
  });
  await new Promise<void>((r) => server.listen(sock, r));

  const t0 = sim.now();
  const timeline: TimelineEvent[] = [];
  const rel = (ms = sim.now()) => Math.round(ms - t0) / 1000;
  const log = (e: any) => timeline.push({ t: rel(), ...e });
  let over = false; // results of commands killed at the end are not part of the run
  const bin = binDir(o.image, dir);
  const PATH = `${shims}:${bin}`;

  /** Run argv in the namespace, in a private mount namespace with the container's volumes bound, killed after timeoutS. */
  const exec = (argv: string[], env: Record<string, string>, mounts: readonly Bind[], timeoutS: number | undefined,
    done: (r: { ok: boolean; timedOut: boolean; output: string; ms: number }) => void) => {
    const end = sim.begin();
    const started = Date.now();
    const envArgs = Object.entries({ ...env, PATH }).map(([k, v]) => `${k}=${v}`);
    const inner = mounts.length
      ? ['unshare', '-m', 'sh', '-c', BIND_MOUNTS, 'bind', ...mounts.flatMap((m) => [m.source, m.target, m.readOnly ? 'ro' : 'rw']), '--']
      : [];
    const proc = spawn('ip', ['netns', 'exec', o.bed.netns, ...inner, 'env', '-i', ...envArgs, ...argv],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const e: Exec = { proc };
    sim.running.add(e);
    let output = '';
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    let timedOut = false;
    const timer = timeoutS !== undefined ? setTimeout(() => { timedOut = true; killGroup(proc); }, timeoutS * 1000) : undefined;
    proc.on('close', (code) => {
      clearTimeout(timer);
      sim.running.delete(e);
      if (!over) done({ ok: code === 0 && !timedOut, timedOut, output: output.trim(), ms: Date.now() - started });
      end();
    });
  };

  // ---- workload identity: the webhook's env and the projected token file ----
  const tokenPath = path.join(dir, 'azure-tokens', 'azure-identity-token');
  const wiEnv: Record<string, string> = { ...o.podEnv, ...(o.workloadIdentity?.webhook ? {
    ...(o.workloadIdentity.clientIdAnnotation === false ? {} : { AZURE_CLIENT_ID: WI_CLIENT_ID }),
    AZURE_TENANT_ID: WI_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE: tokenPath, AZURE_AUTHORITY_HOST: AAD_AUTHORITY_HOST,
  } : {}) };
  const b64 = (x: object) => Buffer.from(JSON.stringify(x)).toString('base64url');
  let tokenGen = 0;
  const writeTokenFile = (f: TokenFile) => {
    if (!o.workloadIdentity?.webhook) return;
    const g = ++tokenGen;
    fs.mkdirSync(path.dirname(tokenPath), { recursive: true });
    if (f === 'missing') { fs.rmSync(tokenPath, { force: true }); return; }
    const exp = Math.ceil((t0 + (f === 'empty' ? 0 : f.expiresAt) * 1000) / 1000);
    if (f !== 'empty') sim.at(exp * 1000, () => { if (g === tokenGen) log({ type: 'token-expired' }); });
    const jwt = `${b64({ alg: 'RS256', kid: 'k1' })}.${b64({
      aud: ['api://AzureADTokenExchange'], iss: 'https://oidc.example/', sub: 'system:serviceaccount:default:app', iat: exp - PROJECTED_TTL_S, nbf: exp - PROJECTED_TTL_S, exp,
    })}.c2lnbmF0dXJl`;
    // As kubelet's atomic writer: the new content appears at once, never half written.
    fs.writeFileSync(`${tokenPath}.tmp`, f === 'empty' ? '' : jwt);
    fs.renameSync(`${tokenPath}.tmp`, tokenPath);
  };

  const app = o.spec.containers[0];
  // Volumes as kubelet sets them up before the containers start: one dir each, shared by the containers.
  const volumeDirs = new Map<string, string>();
  for (const v of o.spec.volumes ?? []) {
    const d = path.join(dir, 'volumes', v.name);
    if ('emptyDir' in v) volumeDirs.set(v.name, d);
    const items = (v.downwardAPI as { items?: Array<{ path: string; fieldRef?: { fieldPath: string } }> } | undefined)?.items;
    if (!items) continue;
    for (const it of items) {
      const key = /^metadata\.annotations\['(.+)'\]$/.exec(it.fieldRef?.fieldPath ?? '')?.[1];
      if (key === undefined) throw new Error(`volume ${v.name}: only annotation items are modelled, got ${it.fieldRef?.fieldPath}`);
      fs.mkdirSync(path.dirname(path.join(d, it.path)), { recursive: true });
      fs.writeFileSync(path.join(d, it.path), o.annotations?.[key] ?? '', { mode: 0o644 });
    }
    volumeDirs.set(v.name, d);
  }
  for (const d of volumeDirs.values()) fs.mkdirSync(d, { recursive: true });
  const mountsOf = (c: Container): Bind[] => (c.volumeMounts ?? []).flatMap((m) => {
    const source = volumeDirs.get(m.name);
    return source ? [{ source, target: m.mountPath, readOnly: !!m.readOnly }] : [];
  });
  const shArgv = (cmd: string[]) => {
    if (cmd[0] !== '/bin/sh') throw new Error(`expected a /bin/sh command, got ${cmd[0]}`);
    return [path.join(bin, 'sh'), ...cmd.slice(1)];
  };
  const appEnv = { ...containerEnv(app, !!o.withoutHostIp), ...wiEnv };

  // ---- the app process (strategies 3/6), started with the container ----
  let appProc: ChildProcess | undefined;
  const httpPort = (p: Probe) => Number((p.httpGet as any).port);
  const httpCall = (p: Probe, done: Parameters<typeof exec>[4]) => {
    const g = p.httpGet as { path: string; port: number };
    // From inside the namespace, as kubelet calls the pod IP; 200-399 passes.
    exec(['/bin/sh', '-c', `code=$(${CURL} -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${httpPort(p)}${g.path}); echo "HTTP $code"; [ "$code" -ge 200 ] && [ "$code" -lt 400 ]`],
      {}, [], p.timeoutSeconds as number ?? 1, done);
  };
  const startApp = (then: () => void) => {
    if (!o.app) return then();
    const end = sim.begin();
    const env = { ...appEnv, ...o.app.env, PATH: process.env.PATH!, NODE_OPTIONS: `--require ${VCLOCK}`, IH_VIRTUAL_CLOCK_FILE: path.join(dir, 'offset') };
    appProc = spawn('ip', ['netns', 'exec', o.bed.netns, 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...o.app.argv],
      { detached: true, stdio: ['ignore', 'ignore', 'inherit'] });
    const entry: Exec = { proc: appProc };
    sim.running.add(entry);
    appProc.on('exit', () => sim.running.delete(entry)); // never signal a process group that is gone
    // Booting takes real time: wait (bounded) until the app answers at all.
    const port = o.app.env.PORT;
    // Any HTTP answer on / means listening (curl without --fail exits 0); / runs no check.
    const poll = (n: number) => exec(['/bin/sh', '-c', `${CURL} -s -o /dev/null --max-time 1 http://127.0.0.1:${port}/`], {}, [], 2, (r) => {
      if (r.ok || n >= 100) { end(); then(); } else setTimeout(() => poll(n + 1), 50);
    });
    poll(0);
  };
  const stopApp = () => { if (appProc) { killGroup(appProc); appProc = undefined; } };

  // ---- pod state ----
  let gen = 0; // container instance; a probe result of an older instance is ignored
  let started = false;
  let ready = false;
  let restarts = 0;
  const probeState: Record<ProbeName, { result: boolean; run: number; last?: boolean }> = {} as any;
  const probes: Array<[ProbeName, Probe]> = (['startup', 'readiness', 'liveness'] as const)
    .filter((n) => app[`${n}Probe`]).map((n) => [n, app[`${n}Probe`]!]);

  const setReady = () => {
    const r = started && (!app.readinessProbe || probeState.readiness.result);
    if (r !== ready) { ready = r; log({ type: r ? 'ready' : 'notready' }); }
  };
  const backoff = (n: number) => BACKOFF_S[Math.min(n, BACKOFF_S.length - 1)] * 1000;

  const startContainer = () => {
    const g = ++gen;
    startApp(() => {
      if (g !== gen) return;
      const startT = sim.now();
      log({ type: 'start' });
      started = !app.startupProbe;
      probeState.startup = { result: false, run: 0 };
      probeState.readiness = { result: false, run: 0 };
      probeState.liveness = { result: true, run: 0 };
      for (const [name, p] of probes) tick(name, p, g, startT, 0);
      setReady();
    });
  };

  const kill = (probe: ProbeName) => {
    gen++;
    log({ type: 'restart', probe });
    stopApp();
    started = false;
    setReady();
    sim.at(sim.now() + backoff(restarts++), startContainer);
  };

  const tick = (name: ProbeName, p: Probe, g: number, startT: number, k: number): void => {
    if (g !== gen) return;
    const next = (): void => sim.at(Math.max(startT + (k + 1) * (p.periodSeconds as number) * 1000, sim.now()), () => tick(name, p, g, startT, k + 1));
    if (name === 'startup' && started) return; // done for this container
    if ((name !== 'startup' && !started) || sim.now() - startT < ((p.initialDelaySeconds as number) ?? 0) * 1000) return next();
    const handle = (r: { ok: boolean; timedOut: boolean; output: string; ms: number }) => {
      if (g !== gen) return;
      log({ type: 'probe', probe: name, ...r });
      const s = probeState[name];
      s.run = s.last === r.ok ? s.run + 1 : 1;
      s.last = r.ok;
      const threshold = r.ok ? (p.successThreshold as number ?? 1) : (p.failureThreshold as number ?? 3);
      if (s.run >= threshold) {
        s.result = r.ok;
        if (name === 'startup' && r.ok) started = true;
        if (name !== 'readiness' && !r.ok) return kill(name);
        setReady();
      }
      next();
    };
    if (p.exec) exec(shArgv(p.exec.command), appEnv, mountsOf(app), (p.timeoutSeconds as number) ?? 1, handle);
    else if (p.httpGet) httpCall(p, handle);
    else throw new Error(`probe ${name}: only exec and httpGet are supported`);
  };

  const inits = o.spec.initContainers ?? [];
  let initFailures = 0;
  const runInit = (i: number) => {
    if (i === inits.length) return startContainer();
    const c = inits[i];
    exec(shArgv(c.command!), { ...containerEnv(c, !!o.withoutHostIp), ...wiEnv }, mountsOf(c), undefined, (r) => {
      log({ type: 'init', container: c.name, ok: r.ok, output: r.output });
      if (r.ok) runInit(i + 1);
      else sim.at(sim.now() + backoff(initFailures++), () => runInit(i));
    });
  };

  // ---- scenario steps change the mock on the virtual clock ----
  await o.bed.mock.set(RESET_STATE);
  await o.bed.mock.reset();
  writeTokenFile({ expiresAt: PROJECTED_TTL_S });
  for (const s of o.steps) {
    sim.at(t0 + s.at * 1000, async () => {
      log({ type: 'fault', label: s.label, state: s.state, ...(s.tokenFile ? { tokenFile: s.tokenFile } : {}) });
      if (s.tokenFile) writeTokenFile(s.tokenFile);
      await o.bed.mock.set(s.state);
    });
  }
  sim.at(t0, () => runInit(0));
  const realStart = Date.now();
  try {
    await sim.loop(t0 + o.duration * 1000);
  } finally {
    over = true;
    stopApp();
    for (const e of sim.running) killGroup(e.proc);
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const r of await o.bed.mock.requests()) {
    if (r.at >= realStart) timeline.push({ t: rel(sim.virtualOf(r.at)), type: 'request', kind: r.kind });
  }
  timeline.sort((a, b) => a.t - b.t);
  return { timeline, duration: o.duration };
}

/**
 * A probe's argv runnable outside a pod (the slow suites run checks on the host): each argument
 * naming a script file that a downwardAPI volume projects from a pod annotation is replaced by a
 * file in `dir` holding that annotation, as kubelet would project it.
 */
export function hostProbeArgv(template: { metadata?: { annotations?: Record<string, string> }; spec: PodSpec }, c: Container, argv: readonly string[], dir: string): string[] {
  return argv.map((a, i) => {
    const r = i > 0 ? projectedScript(a, c.volumeMounts, template.spec.volumes, template.metadata?.annotations) : undefined;
    if (!r) return a;
    if (!('script' in r)) throw new Error(r.problem);
    const file = path.join(dir, `probe-${i}.sh`);
    fs.writeFileSync(file, r.script);
    return file;
  });
}

/** The stand-in's defaults, restored before every run: NMI Active and intercepting (standard mode), the pod bound to POD_MI, the VMSS holding NODE_MI and POD_MI. */
export const RESET_STATE: MockState = {
  nmi: 'active', nmiDelayMs: 0, nmiVersion: '1.8.17', nmiMode: 'standard', nmiRetryMs: 80_000, intercept: 'auto',
  podIdentities: [POD_MI], nodeIdentities: [NODE_MI, POD_MI], podInCache: true, imds: 'ok', imdsRetryMs: 112_000, pod: 'default/app',
  token: 'ok', tokenDelayMs: 0, tokenVersion: '1.0', identity: null, aad: 'ok',
};
