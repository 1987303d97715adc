/** `recommend`: pick a strategy (or a combination) from a few facts about the app, with the reasons. */
import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import type { GlobalArgs } from '../inputs';

export interface Answers {
  /** The app serves a health endpoint and can adopt the runtime module (or equivalent code). */
  appHasHealthEndpoint: boolean;
  imageHasShell: boolean;
  /** The image has curl (or BusyBox wget). */
  imageHasCurl: boolean;
  /** A fault at runtime (NMI evicted on scale-down) must stop traffic and restart the app. */
  needRuntimeDetection: boolean;
  /** Identity faults besides NMI (binding missing, identity deleted) must be caught. */
  needIdentityCheck: boolean;
  /** NMI v1.5 or later (older NMI cannot serve token requests from init containers). */
  nmiV15: boolean;
  podsPerNode: number;
  /** pod: AAD Pod Identity (NMI); workload: Azure AD Workload Identity. */
  identity?: 'pod' | 'workload';
}

export interface Recommendation { strategies: string[]; why: string[]; flags: string[] }

type Question = [keyof Answers, string, boolean, string?];

/** [answer, question, default, the question for workload identity (absent: pod identity only)]. */
const QUESTIONS: Question[] = [
  ['needRuntimeDetection', 'Must a fault at runtime (e.g. NMI evicted on scale-down) stop traffic and restart the app?', true,
    'Must a fault at runtime (e.g. the projected token no longer refreshed) stop traffic and restart the app?'],
  ['needIdentityCheck', 'Must it catch identity faults besides NMI (binding missing, identity deleted)?', true,
    'Must it catch a missing federated identity credential (only a token exchange at AAD sees it)?'],
  ['appHasHealthEndpoint', "Does the app serve a health endpoint you can extend (Node runtime module or equivalent code)?", false,
    "Does the app serve a health endpoint you can extend (Node runtime module or equivalent code)?"],
  ['imageHasShell', 'Does the app image have a shell (sh)? (distroless images do not)', true, 'Does the app image have a shell (sh)? (distroless images do not)'],
  ['imageHasCurl', 'Does the app image have curl or BusyBox wget?', true, 'Does the app image have curl or BusyBox wget?'],
  ['nmiV15', 'Is NMI (aad-pod-identity) v1.5 or later?', true],
];

/** The decision, as a pure function: the same reasoning as the trade-offs in `explain`. */
export function recommendFor(x: Answers): Recommendation {
  const { getStrategy } = require('../../../strategies') as typeof import('../../../strategies');
  const { flagWording } = require('../strategy-flags') as typeof import('../strategy-flags');
  const cite = (id: string, i: number) => `${id}: ${flagWording(getStrategy(id).tradeOffs[i])}`;
  const why: string[] = [];
  const flags: string[] = [];
  if (x.identity === 'workload') return recommendWorkloadIdentity(x, cite);
  if (!x.needRuntimeDetection) {
    if (x.needIdentityCheck && x.nmiV15) return { strategies: ['identity-init'], why: [cite('identity-init', 0), cite('identity-init', 1), cite('identity-init', 3)], flags: ['--client curl'] };
    if (x.needIdentityCheck) why.push('identity-init needs NMI v1.5 or later (older NMI cannot serve init containers): the identity itself can only be checked at runtime (identity-probes / identity-app-check)');
    return { strategies: ['nmi-init'], why: [...why, cite('nmi-init', 0), cite('nmi-init', 1)], flags };
  }
  if (x.appHasHealthEndpoint) {
    const id = x.needIdentityCheck ? 'identity-app-check' : 'nmi-app-check';
    return { strategies: [id], why: [cite(id, 0), cite(id, x.needIdentityCheck ? 1 : 2), `${id}: kubelet calls the app's endpoint (httpGet), no shell or HTTP client needed in the image`], flags: ['--port <health port>'] };
  }
  if (x.imageHasShell && x.imageHasCurl) {
    if (x.needIdentityCheck) {
      const probesLoad = x.podsPerNode / 20; // default token cache TTL 20 s
      if (probesLoad > 20) {
        return {
          strategies: ['identity-init', 'nmi-probes'],
          why: [`identity-probes at ${x.podsPerNode} pods per node asks IMDS for ~${probesLoad} tokens/s, above its ~20/s per VM limit`, cite('identity-init', 0), cite('nmi-probes', 0), 'together: the token is checked once at start, NMI (no IMDS load) at runtime'],
          flags: [],
        };
      }
      return { strategies: ['identity-probes'], why: [cite('identity-probes', 0), cite('identity-probes', 1), cite('identity-probes', 2)], flags: ['--client-id <guid> (if the pod has several identities)'] };
    }
    return { strategies: ['nmi-probes'], why: [cite('nmi-probes', 0), cite('nmi-probes', 1), cite('nmi-probes', 2)], flags: [] };
  }
  // No shell or client in the image and no health endpoint: nothing can run a check inside the
  // app container, so gate the start and say what runtime detection would need.
  const init = x.needIdentityCheck && x.nmiV15 ? 'identity-init' : 'nmi-init';
  return {
    strategies: [init],
    why: [
      `the app image cannot run an exec probe (${x.imageHasShell ? 'no curl or wget' : 'no shell'}) and the app has no health endpoint to extend, so no check can run at runtime without a change`,
      cite(init, 0), cite(init, 1),
      'for runtime detection: add the runtime module to the app (identity-app-check), or where the app already has probes use identity-probes with --on-conflict sidecar (the check runs in its own container)',
    ],
    flags: [],
  };
}

/**
 * Workload identity: no NMI, no IMDS load. "Other faults" here means a missing federated
 * credential, which only the AAD exchange sees (init by default, probes with --exchange).
 */
function recommendWorkloadIdentity(x: Answers, cite: (id: string, i: number) => string): Recommendation {
  if (!x.needRuntimeDetection) {
    return { strategies: ['workload-identity-init'], why: [cite('workload-identity-init', 0), cite('workload-identity-init', 1), cite('workload-identity-init', 2)], flags: ['--client-id <guid>'] };
  }
  if (x.appHasHealthEndpoint) {
    return {
      strategies: ['workload-identity-app-check'],
      why: [cite('workload-identity-app-check', 0), cite('workload-identity-app-check', 1), ...(x.needIdentityCheck ? [cite('workload-identity-app-check', 2)] : [])],
      flags: ['--port <health port>', ...(x.needIdentityCheck ? ['--exchange'] : [])],
    };
  }
  if (x.imageHasShell && (x.imageHasCurl || !x.needIdentityCheck)) {
    return {
      strategies: ['workload-identity-probes'],
      why: [cite('workload-identity-probes', 0), ...(x.needIdentityCheck ? [cite('workload-identity-probes', 1)] : ['without --exchange the probes need only sh and base64, no HTTP client']), cite('workload-identity-probes', 2)],
      flags: x.needIdentityCheck ? ['--exchange'] : [],
    };
  }
  if (x.imageHasShell) {
    return {
      strategies: ['workload-identity-init', 'workload-identity-probes'],
      why: ['the image has no curl or wget, so its probes cannot make the exchange', cite('workload-identity-init', 1), 'workload-identity-probes without --exchange watches the env and token file at runtime (sh and base64 only)'],
      flags: [],
    };
  }
  return {
    strategies: ['workload-identity-init'],
    why: ['the app image has no shell and the app has no health endpoint to extend, so no check can run inside the app container', cite('workload-identity-init', 0), cite('workload-identity-init', 1),
      'for runtime detection: workload-identity-probes with --on-conflict sidecar (the check runs in its own container), or the runtime module (workload-identity-app-check)'],
    flags: [],
  };
}

interface Args extends GlobalArgs { [k: string]: unknown }

const flagOf = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export const command = 'recommend';
export const describe = 'Pick a strategy from a few facts about your app (flags, or questions on a terminal)';

export function builder(y: Argv): Argv<Args> {
  for (const [k, q, d] of QUESTIONS) y = y.option(flagOf(k), { type: 'boolean', describe: `${q} [default: ${d ? 'yes' : 'no'}]` });
  return y
    .option('identity', { type: 'string', choices: ['pod', 'workload'], describe: 'AAD Pod Identity (NMI) or Azure AD Workload Identity; asked first when interactive [default: pod]' })
    .option('pods-per-node', { type: 'number', default: 30, describe: 'pods with the check per node (IMDS load)' })
    .option('interactive', { type: 'boolean', describe: 'ask the questions (default on a terminal when no flag is given)' })
    .example('$0 recommend', 'answer the questions')
    .example('$0 recommend --no-image-has-shell --app-has-health-endpoint', 'distroless app with a health endpoint')
    .example('$0 recommend --no-need-runtime-detection', 'start gating only')
    .example('$0 recommend --identity workload --no-image-has-curl', 'Azure AD Workload Identity') as Argv<Args>;
}

/**
 * Asks on stderr, reads answers line by line from stdin: which identity first (unless --identity
 * says it), then only the questions that matter for it and for the answers so far. Lines are
 * queued as they arrive (piped input arrives all at once); an empty line takes the default; end of
 * input (Ctrl-D) before the last answer aborts, so a closed terminal never passes for defaults.
 */
async function ask(identityFlag: 'pod' | 'workload' | undefined): Promise<Partial<Answers>> {
  const rl = require('node:readline').createInterface({ input: process.stdin, terminal: false });
  const lines: string[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  rl.on('line', (l: string) => { lines.push(l); wake?.(); });
  rl.on('close', () => { closed = true; wake?.(); });
  const next = async (): Promise<string> => {
    while (!lines.length && !closed) await new Promise<void>((r) => { wake = r; });
    if (!lines.length) {
      process.stderr.write('\n');
      throw new UsageError('recommend: aborted (end of input before every question was answered); nothing recommended');
    }
    return lines.shift()!.trim().toLowerCase();
  };
  const choose = async <T extends string | boolean>(q: string, answers: Record<string, T>, d: T): Promise<T> => {
    for (;;) {
      process.stderr.write(`${q} `);
      const a = await next();
      if (a === '') return d;
      if (a in answers) return answers[a];
      process.stderr.write(`please answer ${Object.keys(answers).join(', ')} (or Enter for ${d})\n`);
    }
  };
  const out: Partial<Answers> = {};
  try {
    out.identity = identityFlag ?? await choose('Which identity do the pods use: pod identity (AAD Pod Identity, NMI) or workload identity (Azure AD Workload Identity)? [pod/workload]',
      { pod: 'pod', p: 'pod', workload: 'workload', w: 'workload' } as Record<string, 'pod' | 'workload'>, 'pod');
    for (const [k, q, d, wq] of QUESTIONS) {
      const text = out.identity === 'workload' ? wq : q;
      if (text === undefined) continue;
      if (k === 'imageHasCurl' && out.imageHasShell === false) continue;
      if ((k === 'imageHasShell' || k === 'imageHasCurl') && out.appHasHealthEndpoint) continue;
      // Without runtime detection only the init strategies remain: the app's endpoint and image do
      // not matter, and for workload identity neither does the exchange (its init check makes it).
      if (k === 'needIdentityCheck' && out.identity === 'workload' && out.needRuntimeDetection === false) continue;
      // Without runtime detection only the init strategies remain: the app's endpoint and image do not matter.
      if ((k === 'appHasHealthEndpoint' || k === 'imageHasShell' || k === 'imageHasCurl') && out.needRuntimeDetection === false) continue;
      (out as any)[k] = await choose(`${text} ${d ? '[Y/n]' : '[y/N]'}`, { y: true, yes: true, n: false, no: false }, d);
    }
  } finally { rl.close(); }
  return out;
}

export async function handler(a: Args): Promise<void> {
  const given = QUESTIONS.some(([k]) => a[flagOf(k)] !== undefined);
  const interactive = a.interactive ?? (!given && !!process.stdin.isTTY && !!process.stdout.isTTY);
  const answers: Partial<Answers> = interactive ? await ask(a.identity as 'pod' | 'workload' | undefined) : {};
  const identity = answers.identity ?? (a.identity === 'workload' ? 'workload' : 'pod');
  const ppn = a['pods-per-node'] as number;
  if (!Number.isInteger(ppn) || ppn < 1 || ppn > 1000) throw new UsageError('invalid --pods-per-node: expected an integer from 1 to 1000');
  const x = Object.fromEntries(QUESTIONS.map(([k, , d]) => [k, answers[k] ?? (a[flagOf(k)] as boolean | undefined) ?? d])) as unknown as Answers;
  x.podsPerNode = ppn;
  x.identity = identity;
  const r = recommendFor(x);
  if (a.output === 'json') { process.stdout.write(JSON.stringify({ answers: x, ...r }, null, 2) + '\n'); return; }
  const { styleFor } = require('../style') as typeof import('../style');
  const s = styleFor(process.stdout, a.color);
  const next = r.strategies.map((id) => `  identity-health apply --strategy ${id}${r.flags.length && r.strategies.length === 1 ? ' ' + r.flags.join(' ') : ''} <files|dirs|-> --diff`);
  process.stdout.write([
    `${s.bold('Recommended')}: ${r.strategies.join(' + ')}`,
    'Why:', ...r.why.map((w) => `  - ${w}`),
    `Details: ${r.strategies.map((id) => `identity-health explain ${id}`).join('; ')}`,
    'Next:', ...next,
  ].join('\n') + '\n');
}
