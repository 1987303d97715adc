/** Bad input: a clear message on stderr, exit 2, nothing written (files keep their bytes). */
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { CLI, run, runShell, tempCorpus, tempFiles } from './helpers';

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: example/api:1
`;

const tmp = (files: Record<string, string>): string => tempFiles(files, 'ih-bad-');

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p); else out[path.relative(dir, p)] = fs.readFileSync(p, 'latin1');
  });
  walk(dir);
  return out;
}

/** Runs apply --in-place and checks exit 2, the message, and that no file changed. */
function rejects(dir: string, args: string[], message: RegExp, o: { uid?: number; input?: string } = {}): void {
  const before = snapshot(dir);
  const r = run(['apply', ...args], { cwd: dir, ...o });
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|    at /);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(snapshot(dir)).toEqual(before);
}

describe('bad input', () => {
  it('invalid YAML names file:line:column; the valid file beside it is not written', () => {
    const dir = tmp({ 'a.yaml': DEPLOY, 'b.yaml': DEPLOY.replace('  name: api\n', '  name: api\n  name: twice\n') });
    rejects(dir, ['-s', 'nmi-init', '-i', 'a.yaml', 'b.yaml'], /^identity-health: b\.yaml:5:3: invalid YAML: Map keys must be unique/m);
  });

  it('invalid YAML on stdin names <stdin>:line', () => {
    const r = run(['apply', '-s', 'nmi-init', '-'], { input: 'a: 1\nb: [\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/<stdin>:\d+:\d+: invalid YAML/);
  });

  it('unknown strategy lists the known ones', () => {
    const dir = tmp({ 'a.yaml': DEPLOY });
    rejects(dir, ['-s', 'nmi-magic', '-i', 'a.yaml'], /unknown strategy "nmi-magic": expected one of nmi-init, nmi-probes, nmi-app-check, identity-init, identity-probes, identity-app-check/);
  });

  it('unknown container names the workload and its containers', () => {
    const dir = tmp({ 'a.yaml': DEPLOY });
    rejects(dir, ['-s', 'nmi-probes', '--containers', 'nope', '-i', 'a.yaml'], /a\.yaml:1: Deployment api: no container named "nope" \(containers: api\)/);
  });

  it('a directory with no manifests', () => {
    const dir = tmp({ 'empty/README.md': 'hi' });
    rejects(dir, ['-s', 'nmi-init', '-i', 'empty'], /empty: directory has no manifests \(\*\.yaml or \*\.yml, searched recursively\)/);
  });

  it('a missing file', () => {
    const dir = tmp({ 'a.yaml': DEPLOY });
    rejects(dir, ['-s', 'nmi-init', '-i', 'a.yaml', 'missing.yaml'], /missing\.yaml: cannot read: no such file or directory/);
  });

  it('an unreadable file (run as an unprivileged user where the tests run as root)', () => {
    const dir = tmp({ 'a.yaml': DEPLOY, 'secret.yaml': DEPLOY });
    fs.chmodSync(path.join(dir, 'secret.yaml'), 0o000);
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    rejects(dir, ['-s', 'nmi-init', 'a.yaml', 'secret.yaml'], /secret\.yaml: cannot read: permission denied/, { uid });
  });

  it.each([
    [['-s', 'identity-probes', '--resource', "x' ; touch /tmp/pwned ; '"], /invalid --resource "x' ; touch \/tmp\/pwned ; '": expected an https:\/\/ resource URI/],
    [['-s', 'nmi-probes', '--nmi-port', '80; id'], /invalid --nmi-port "80; id": expected an integer port from 1 to 65535/],
    [['-s', 'identity-init', '--client-id', '$(id)'], /invalid --client-id "\$\(id\)": expected a GUID/],
    [['-s', 'nmi-init', '--image', 'busybox;reboot'], /invalid --image "busybox;reboot"/],
    [['-s', 'nmi-app-check', '--readiness-path', '/x`id`'], /invalid --readiness-path/],
    [['-s', 'nmi-probes', '--readiness-period', '1e3'], /invalid --readiness-period "1e3": expected whole seconds/],
    [['-s', 'nmi-probes', '--client-id', '6e1e2d3c-0000-4000-8000-00000000abcd'], /--client-id does not apply to strategy nmi-probes; it takes: --nmi-port/],
  ])('hostile or invalid option %j', (args, message) => {
    const dir = tmp({ 'a.yaml': DEPLOY });
    rejects(dir, [...args, '-i', 'a.yaml'], message);
    expect(fs.existsSync('/tmp/pwned')).toBe(false);
  });

  it('an input above --max-input-mb fails fast with the limit, not a crash', () => {
    const dir = tmp({});
    const one = `---\n${DEPLOY}`;
    fs.writeFileSync(path.join(dir, 'big.yaml'), one.repeat(Math.ceil(5 * 2 ** 20 / one.length)));
    rejects(dir, ['-s', 'nmi-init', '-i', '--max-input-mb', '4', 'big.yaml'], /big\.yaml: input is 5\.0 MB, above the limit of 4 MB \(raise it with --max-input-mb\)/);
    // Through a pipe, as users do (the CLI stops reading at the limit; the writer gets EPIPE).
    const r = runShell(`cat big.yaml | node ${CLI} apply -s nmi-init --max-input-mb 4 -`, dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/<stdin>: input is more than 4 MB, above the limit of 4 MB/);
  });

  it('--in-place with stdin, and filters that match nothing, are usage errors', () => {
    const dir = tmp({ 'a.yaml': DEPLOY });
    rejects(dir, ['-s', 'nmi-init', '-i', '-'], /--in-place cannot write to stdin/, { input: DEPLOY });
    rejects(dir, ['-s', 'nmi-init', '-i', '--name', 'nomatch', 'a.yaml'], /no workload matches --kind\/--name\/--selector/);
    rejects(dir, ['-s', 'nmi-init', '-i', '-l', 'a==b==c', 'a.yaml'], /invalid --selector/);
  });

  it('a missing required flag or unknown flag is a usage error (exit 2)', () => {
    const r = run(['apply', 'a.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Missing required argument: strategy/);
    const u = run(['apply', '-s', 'nmi-init', '--bogus', 'a.yaml']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/unknown argument: --bogus/);
  });

  it('in-place on a corpus copy that conflicts leaves every file as it was', () => {
    const dir = tempCorpus();
    rejects(dir, ['-s', 'identity-probes', '-i', '.'], /could not take identity-probes; nothing written/);
  });
});
