/**
 * Stand-ins for container images: a directory of symlinks per image, so that PATH holds only
 * what that image would have (its shell as `sh`, its HTTP client, its small tools). The
 * generated command's `/bin/sh` is run as `<dir>/sh`: BusyBox picks its applet from argv[0].
 * `date` and `sleep` are never linked here: the runner puts its virtual-clock shims first on PATH.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type Shell = 'busybox' | 'dash';
export type Client = 'curl' | 'wget';

export interface Image {
  /** e.g. 'busybox-wget': shell, then the client (or 'none'). */
  readonly id: string;
  readonly shell: Shell;
  readonly client: Client | 'none';
  /** What real image this stands for. */
  readonly standsFor: string;
}

const found = new Map<string, string>();
const which = (bin: string): string => {
  if (!found.has(bin)) found.set(bin, execFileSync('sh', ['-c', `command -v ${bin}`]).toString().trim());
  return found.get(bin)!;
};

/** Tools the scripts call besides sh builtins and the client; for dash images they come from coreutils. */
const SMALL_TOOLS = ['cat', 'tr', 'base64', 'timeout', 'mkdir', 'rm', 'ls'];

const STANDS_FOR: Record<string, string> = {
  'busybox-wget': 'busybox image (BusyBox sh and wget, no curl)',
  'busybox-curl': 'curlimages/curl (Alpine: BusyBox sh + curl)',
  'dash-curl': 'Debian-based app image with curl (dash as sh)',
  'dash-wget': 'Debian-based image with BusyBox wget (dash as sh)',
};

export function image(shell: Shell, client: Client | 'none'): Image {
  const id = `${shell}-${client}`;
  return { id, shell, client, standsFor: STANDS_FOR[id] ?? `${shell} without an HTTP client` };
}

/** The four shell x client combinations: every one a strategy supports must pass. */
export const IMAGES: readonly Image[] = [image('busybox', 'wget'), image('busybox', 'curl'), image('dash', 'curl'), image('dash', 'wget')];

/** The image the strategy's default client implies (curl: curlimages/curl, wget: busybox). */
export const defaultImage = (client: Client): Image => image('busybox', client);

/**
 * Create the bin dir of an image inside `parent` (the runner's per-pod dir, removed with it) and
 * return its path. A few hundred symlinks: cheap, and nothing outlives the run.
 */
export function binDir(img: Image, parent: string): string {
  const dir = path.join(parent, `bin-${img.id}`);
  if (fs.existsSync(dir)) return dir;
  if (img.shell === 'busybox' || img.client === 'wget') requireNonStandaloneBusybox();
  fs.mkdirSync(dir);
  const link = (name: string, target: string) => fs.symlinkSync(target, path.join(dir, name));
  const busybox = which('busybox');
  const skip = new Set(['date', 'sleep', 'sh', 'ash', 'wget', 'curl']);
  if (img.shell === 'busybox') {
    // Every applet, as in the busybox image and Alpine; wget only where the image has it.
    for (const a of applets(busybox)) if (!skip.has(a)) link(a, busybox);
    link('sh', busybox);
  } else {
    for (const t of SMALL_TOOLS) link(t, which(t));
    link('sh', which('dash'));
  }
  if (img.client === 'curl') link('curl', which('curl'));
  if (img.client === 'wget') link('wget', busybox);
  return dir;
}

/**
 * The bed needs a BusyBox whose sh runs commands from PATH: the standalone build (Debian's
 * busybox-static, FEATURE_SH_STANDALONE) runs its own `date` and `sleep` applets and never the
 * runner's virtual-clock shims, so every busybox image would see real time (a token cache that
 * never expires, say) and the observed table would be wrong. Fail loudly instead.
 */
export function requireNonStandaloneBusybox(): void {
  const busybox = which('busybox');
  const out = execFileSync(busybox, ['sh', '-c', 'command -v date || echo none'], { env: { PATH: '/nonexistent' } }).toString().trim();
  if (out !== 'none') {
    throw new Error(`${busybox} is a standalone BusyBox (its sh runs its own date/sleep, not the bed's virtual-clock shims): install the Debian package busybox (not busybox-static), or put a non-standalone busybox first on PATH`);
  }
}

let appletList: string[] | undefined;
const applets = (busybox: string) => (appletList ??= execFileSync(busybox, ['--list']).toString().split('\n').filter(Boolean));
