/**
 * Bad input never crashes, hangs or silently changes what it should not: wrong types anywhere in
 * a manifest, alias bombs, FIFOs and devices, symlinks, UTF-16 and Latin-1, unwritable
 * directories, stale temp files, concurrent --in-place runs, the input limit, kind: List.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { auditWorkload } from '../../src/audit';
import { planFor } from '../../src/transform';
import { CLI, docs, run, tempFiles } from './helpers';

const DEPLOY = `# the web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: example/web:1   # pinned
`;

const tmp = (files: Record<string, string | Buffer>): string => tempFiles(files, 'ih-robust-');

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out[e.name] = e.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : e.isDirectory() ? '<dir>' : fs.readFileSync(p, 'latin1');
  }
  return out;
}

const noCrash = (stderr: string) => expect(stderr).not.toMatch(/internal error|    at |TypeError|ReferenceError|RangeError/);

/** A Deployment whose pod template has `mutate` applied (to the parsed object). */
function deployWith(mutate: (d: any) => void): string {
  const d = YAML.parse(DEPLOY);
  mutate(d);
  return YAML.stringify(d);
}

const WRONG_TYPES: Array<[string, (d: any) => void, RegExp]> = [
  ['env as a map', (d) => { d.spec.template.spec.containers[0].env = { A: '1' }; }, /spec\.template\.spec\.containers\[0\]\.env: expected a list, got a map/],
  ['env as a string', (d) => { d.spec.template.spec.containers[0].env = 'A=1'; }, /containers\[0\]\.env: expected a list, got a string/],
  ['a null env item', (d) => { d.spec.template.spec.containers[0].env = [null]; }, /containers\[0\]\.env\[0\]: expected a map, got null/],
  ['a null container', (d) => { d.spec.template.spec.containers = [null]; }, /containers\[0\]: expected a map, got null/],
  ['a container that is a string', (d) => { d.spec.template.spec.containers = ['web']; }, /containers\[0\]: expected a map, got a string/],
  ['annotations as a string', (d) => { d.spec.template.metadata.annotations = 'x'; }, /spec\.template\.metadata\.annotations: expected a map, got a string/],
  ['volumes as a map', (d) => { d.spec.template.spec.volumes = { a: {} }; }, /spec\.template\.spec\.volumes: expected a list, got a map/],
  ['volumeMounts as a string', (d) => { d.spec.template.spec.containers[0].volumeMounts = '/data'; }, /containers\[0\]\.volumeMounts: expected a list, got a string/],
  ['initContainers: x', (d) => { d.spec.template.spec.initContainers = 'x'; }, /spec\.template\.spec\.initContainers: expected a list, got a string/],
  ['spec as a string', (d) => { d.spec = 'x'; }, /spec: expected a map, got a string/],
  ['no spec', (d) => { delete d.spec; }, /spec: missing/],
  ['containers as a map', (d) => { d.spec.template.spec.containers = { web: { image: 'x' } }; }, /spec\.template\.spec\.containers: expected a list, got a map/],
  ['containers: []', (d) => { d.spec.template.spec.containers = []; }, /spec\.template\.spec\.containers: empty/],
  ['a CronJob without jobTemplate', (d) => { d.kind = 'CronJob'; d.spec = { schedule: '* * * * *' }; }, /spec\.jobTemplate: missing/],
  ['a list-shaped template.metadata', (d) => { d.spec.template.metadata = [{ labels: { app: 'web' } }]; }, /spec\.template\.metadata: expected a map, got a list/],
  ['labels as a list', (d) => { d.metadata.labels = ['a']; }, /metadata\.labels: expected a map, got a list/],
  ['a probe command as a string', (d) => { d.spec.template.spec.containers[0].readinessProbe = { exec: { command: 'true' } }; }, /readinessProbe\.exec\.command: expected a list, got a string/],
];

describe('wrong types in a manifest: exit 2 naming file, line and field; nothing written; never a TypeError', () => {
  it.each(WRONG_TYPES)('%s', (_name, mutate, message) => {
    const text = `---\n${DEPLOY}---\n${deployWith(mutate)}`;
    const dir = tmp({ 'w.yaml': text, 'ok.yaml': DEPLOY });
    const before = snapshot(dir);
    const r = run(['apply', '-s', 'identity-probes', '-i', 'ok.yaml', 'w.yaml'], { cwd: dir });
    noCrash(r.stderr);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/w\.yaml:\d+: /);
    expect(r.stderr).toMatch(message);
    expect(snapshot(dir)).toEqual(before);
    const a = run(['audit', 'w.yaml'], { cwd: dir });
    noCrash(a.stderr);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(message);
  });

  it('the line given is the workload\'s line in the file', () => {
    const dir = tmp({ 'w.yaml': `---\n${DEPLOY}---\n${deployWith((d) => { d.spec.template.spec.containers[0].env = 'x'; })}` });
    const r = run(['apply', '-s', 'nmi-init', 'w.yaml'], { cwd: dir });
    const line = `---\n${DEPLOY}---\n`.split('\n').length;
    expect(r.stderr).toMatch(new RegExp(`w\\.yaml:${line}: Deployment web: `));
  });

  it('null is absent, as Kubernetes reads it (annotations: with nothing after it); comments are not doubled', () => {
    const text = `# top\n${DEPLOY.replace('# the web tier\n', '').replace('      labels:\n', '      annotations:\n      labels:\n')}`;
    const dir = tmp({ 'n.yaml': text });
    const r = run(['apply', '-s', 'nmi-init', 'n.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('# top\napiVersion: apps/v1\n')).toBe(true);
    expect(docs(r.stdout)[0].spec.template.metadata.annotations).toEqual({ 'identity-health.io/strategies': 'nmi-init' });
  });

  it('the library names the field too (no TypeError from the transform or the audit)', () => {
    const d = YAML.parse(deployWith((x) => { x.spec.template.spec.containers[0].env = { A: 1 }; }));
    expect(() => auditWorkload(d)).toThrow(/containers\[0\]\.env: expected a list/);
  });
});

describe('hostile YAML and special files', () => {
  it('an alias bomb is an input error naming the file (apply and audit)', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`), 'kind: Deployment'].join('\n') + '\n';
    const dir = tmp({ 'bomb.yaml': bomb });
    for (const args of [['apply', '-s', 'nmi-init', '-i', 'bomb.yaml'], ['audit', 'bomb.yaml']]) {
      const r = run(args, { cwd: dir });
      noCrash(r.stderr);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/bomb\.yaml:1: invalid YAML: too many alias expansions/);
    }
    expect(fs.readFileSync(path.join(dir, 'bomb.yaml'), 'utf8')).toBe(bomb);
  });

  it('a FIFO or a device given as a file is refused at once (no hang)', () => {
    const dir = tmp({});
    const fifo = path.join(dir, 'f.yaml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    for (const [p, kind] of [[fifo, /a FIFO/], ['/dev/zero', /a character device/]] as const) {
      const r = spawnSync(process.execPath, [CLI, 'audit', p], { encoding: 'utf8', timeout: 60_000, input: '' });
      expect(r.signal).toBe(null);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(kind);
    }
  });

  it('UTF-16 (with a byte-order mark) is refused clearly, not read as "no workloads"', () => {
    const dir = tmp({ 'u16.yaml': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(DEPLOY, 'utf16le')]) });
    for (const args of [['audit', 'u16.yaml'], ['apply', '-s', 'nmi-init', '-i', 'u16.yaml']]) {
      const r = run(args, { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/u16\.yaml: the text is UTF-16 or UTF-32 .*convert it \(iconv -f UTF-16 -t UTF-8/);
    }
  });

  it('Latin-1 bytes outside the edited nodes survive --in-place byte for byte', () => {
    const latin = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from(' \u00a0\n'.replace('\u00a0', ''), 'latin1'), Buffer.from(DEPLOY.replace('# pinned', '# r\u00e9sum\u00e9'), 'latin1')]);
    const dir = tmp({ 'l.yaml': latin });
    const r = run(['apply', '-s', 'nmi-init', '-i', 'l.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/l\.yaml: not UTF-8: read as Latin-1/);
    const after = fs.readFileSync(path.join(dir, 'l.yaml'));
    // Every original line is still there, byte for byte.
    for (const line of latin.toString('latin1').split('\n')) expect(after.toString('latin1')).toContain(line);
    expect(after.includes(Buffer.from([0xef, 0xbf, 0xbd]))).toBe(false); // no U+FFFD
    expect(after.toString('latin1')).toMatch(/identity-health-nmi-init/);
  });

  it('a symlinked *.yaml inside a directory is followed; a dangling one is reported', () => {
    const dir = tmp({ 'real/a.yaml': DEPLOY, 'k8s/b.yaml': DEPLOY.replace(/web/g, 'api') });
    fs.symlinkSync('../real/a.yaml', path.join(dir, 'k8s/a.yaml'));
    const r = run(['audit', 'k8s', '--output', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).workloads.map((w: any) => w.name).sort()).toEqual(['api', 'web']);
    fs.symlinkSync('../real/missing.yaml', path.join(dir, 'k8s/c.yaml'));
    const d = run(['audit', 'k8s'], { cwd: dir });
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/k8s\/c\.yaml: cannot read: symbolic link to \.\.\/real\/missing\.yaml: target does not exist/);
  });
});

describe('--in-place', () => {
  it('writes through a symlink to its target; the link stays a link', () => {
    const dir = tmp({ 'real.yaml': DEPLOY });
    fs.symlinkSync('real.yaml', path.join(dir, 'link.yaml'));
    const r = run(['apply', '-s', 'nmi-init', '-i', 'link.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(fs.lstatSync(path.join(dir, 'link.yaml')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'real.yaml'), 'utf8')).toMatch(/identity-health-nmi-init/);
    expect(fs.readFileSync(path.join(dir, 'real.yaml'), 'utf8').startsWith(DEPLOY.slice(0, DEPLOY.indexOf('spec:')))).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['link.yaml', 'real.yaml']);
  });

  it('a directory it cannot write: exit 2 naming it, nothing written (unprivileged user)', () => {
    const dir = tmp({ 'ro/w.yaml': DEPLOY, 'rw/v.yaml': DEPLOY });
    fs.chmodSync(path.join(dir, 'ro/w.yaml'), 0o666);
    fs.chmodSync(path.join(dir, 'ro'), 0o555);
    fs.chmodSync(path.join(dir, 'rw'), 0o777);
    fs.chmodSync(path.join(dir, 'rw/v.yaml'), 0o666);
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const r = run(['apply', '-s', 'nmi-init', '-i', 'rw/v.yaml', 'ro/w.yaml'], { cwd: dir, uid });
    noCrash(r.stderr);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ro\/w\.yaml: cannot write in .*ro: permission denied; nothing written/);
    expect(fs.readFileSync(path.join(dir, 'ro/w.yaml'), 'utf8')).toBe(DEPLOY);
    expect(fs.readFileSync(path.join(dir, 'rw/v.yaml'), 'utf8')).toBe(DEPLOY);
    expect(fs.readdirSync(path.join(dir, 'rw'))).toEqual(['v.yaml']);
  });

  it('removes temp files and a lock left by a killed run', () => {
    const dir = tmp({ 'w.yaml': DEPLOY, '.w.yaml.99999999.tmp': 'half', '.w.yaml.99999998.identity-health.tmp': 'half', '.other.yaml.99999999.tmp': 'not ours' });
    fs.writeFileSync(path.join(dir, '.w.yaml.identity-health.lock'), '99999999');
    const r = run(['apply', '-s', 'nmi-init', '-i', 'w.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['.other.yaml.99999999.tmp', 'w.yaml']);
  });

  it('a file changed by another program between read and rename: refused, the other change kept', async () => {
    const one = DEPLOY.replace('# the web tier\n', '');
    const big = Array.from({ length: 10_000 }, (_, i) => one.replace(/web/g, `web-${i}`)).join('---\n');
    const dir = tmp({ 'w.yaml': big });
    const file = path.join(dir, 'w.yaml');
    const child = spawn(process.execPath, [CLI, 'apply', '-s', 'nmi-init', '-i', 'w.yaml'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    // Wait until the run has started writing its temp file, then change the file under it.
    for (let i = 0; i < 6000 && !fs.readdirSync(dir).some((f) => f.endsWith('.tmp')); i++) await new Promise((r) => setTimeout(r, 10));
    expect(fs.readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(true);
    fs.appendFileSync(file, '# edited meanwhile\n');
    const code = await done;
    expect(stderr).toMatch(/w\.yaml: changed by another program while identity-health was rewriting it; nothing written/);
    expect(code).toBe(2);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${big}# edited meanwhile\n`);
    expect(fs.readdirSync(dir)).toEqual(['w.yaml']);
  }, 300_000);

  it('two strategies at once on one file: both edits end up in it (or one is refused), never a silent loss', async () => {
    const one = DEPLOY.replace('# the web tier\n', '');
    const text = Array.from({ length: 100 }, (_, i) => one.replace(/web/g, `web-${i}`)).join('---\n');
    for (let round = 0; round < 3; round++) {
      const dir = tmp({ 'w.yaml': text });
      const start = (s: string) => new Promise<number>((resolve) => spawn(process.execPath, [CLI, 'apply', '-q', '-s', s, '-i', 'w.yaml'], { cwd: dir, stdio: 'ignore' }).on('close', (c) => resolve(c ?? -1)));
      const codes = await Promise.all([start('nmi-init'), start('workload-identity-init')]);
      const after = docs(fs.readFileSync(path.join(dir, 'w.yaml'), 'utf8'));
      const annotations = new Set(after.map((d) => d.spec.template.metadata.annotations?.['identity-health.io/strategies']));
      for (const [i, s] of ['nmi-init', 'workload-identity-init'].entries()) {
        expect([0, 2]).toContain(codes[i]);
        if (codes[i] === 0) for (const a of annotations) expect(String(a).split(',')).toContain(s);
      }
      expect(codes).toContain(0);
      expect(fs.readdirSync(dir)).toEqual(['w.yaml']);
    }
  }, 300_000);
});

describe('--diff', () => {
  it('is a patch that git apply takes, giving what apply prints, across many chunks', () => {
    const one = DEPLOY.replace('# the web tier\n', '');
    const text = Array.from({ length: 3000 }, (_, i) => (i % 7 ? one : one.replace('kind: Deployment', 'kind: Service')).replace(/web/g, `web-${i}`)).join('---\n');
    const dir = tmp({ 'w.yaml': text });
    const diff = run(['apply', '-s', 'nmi-init', '--diff', 'w.yaml'], { cwd: dir });
    expect(diff.code).toBe(0);
    const out = run(['apply', '-s', 'nmi-init', 'w.yaml'], { cwd: dir });
    fs.writeFileSync(path.join(dir, 'd.patch'), diff.stdout);
    const g = spawnSync('git', ['apply', 'd.patch'], { cwd: dir, encoding: 'utf8' });
    expect(g.stderr).toBe('');
    expect(fs.readFileSync(path.join(dir, 'w.yaml'), 'utf8')).toBe(out.stdout);
  });
});

describe('input limit', () => {
  it('is a total per run, validated', () => {
    const half = `---\n${DEPLOY}`.repeat(Math.ceil(0.45 * 2 ** 20 / (DEPLOY.length + 4)));
    const dir = tmp({ 'k/a.yaml': half, 'k/b.yaml': half, 'k/c.yaml': half });
    const r = run(['audit', '--max-input-mb', '1', 'k'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/inputs total 1\.\d MB \(3 files\), above the limit of 1 MB per run \(raise it with --max-input-mb\)/);
    for (const bad of ['abc', '0', '-1']) {
      const b = run(['audit', '--max-input-mb', bad, 'k'], { cwd: dir });
      expect(b.code).toBe(2);
      expect(b.stderr).toMatch(new RegExp(`invalid --max-input-mb "${bad}": expected a positive number of MB`));
    }
    expect(run(['audit', '--max-input-mb', '2', 'k'], { cwd: dir }).code).toBe(0);
  });
});

describe('kind: List', () => {
  const list = `# from kubectl get deploy -o yaml
apiVersion: v1
kind: List
items:
# first
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
  spec:
    template:
      metadata:
        labels: {app: web}
      spec:
        containers:
        - name: web
          image: example/web:1
- apiVersion: v1
  kind: Service
  metadata:
    name: web
metadata:
  resourceVersion: ""
`;

  it('apply changes the items, keeps the List shape and its comments; --diff and audit see them', () => {
    const dir = tmp({ 'l.yaml': list, 'd.yaml': DEPLOY });
    const r = run(['apply', '-s', 'nmi-init', 'l.yaml', 'd.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/2 workload\(s\) changed/);
    const [l] = docs(r.stdout);
    expect(l.kind).toBe('List');
    expect(l.items[0].spec.template.spec.initContainers[0].name).toBe('identity-health-nmi-init');
    expect(l.items[1]).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } });
    expect(r.stdout).toMatch(/^# from kubectl get deploy -o yaml\n/);
    expect(r.stdout).toMatch(/\n# first\n- apiVersion: apps\/v1\n/);
    const d = run(['apply', '-s', 'nmi-init', '--diff', 'l.yaml'], { cwd: dir });
    expect(d.stdout).toMatch(/^\+ {8}- name: identity-health-nmi-init$/m);
    fs.writeFileSync(path.join(dir, 'l2.yaml'), r.stdout);
    const a = run(['audit', 'l2.yaml', '--require', 'nmi-init'], { cwd: dir });
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^Deployment web\s/m);
    expect(a.stdout).toMatch(/OK: all 2 workload\(s\) meet --require nmi-init/);
    const j = run(['apply', '-s', 'nmi-init', '--output', 'json', 'l.yaml', 'd.yaml'], { cwd: dir });
    expect(JSON.parse(j.stdout).items.map((x: any) => x.kind)).toEqual(['Deployment', 'Service', 'Deployment']);
  });

  it('--in-place keeps the List and its comments', () => {
    const dir = tmp({ 'l.yaml': list });
    expect(run(['apply', '-s', 'nmi-probes', '-i', 'l.yaml'], { cwd: dir }).code).toBe(0);
    const out = fs.readFileSync(path.join(dir, 'l.yaml'), 'utf8');
    expect(out.startsWith('# from kubectl get deploy -o yaml\napiVersion: v1\nkind: List\nitems:\n# first\n')).toBe(true);
    expect(YAML.parse(out).items[0].spec.template.spec.containers[0].readinessProbe.exec).toBeDefined();
  });

  it('audit --require with no workload never prints OK', () => {
    const dir = tmp({ 's.yaml': 'apiVersion: v1\nkind: List\nitems: []\n' });
    const r = run(['audit', 's.yaml', '--require', 'nmi-init'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/OK/);
    expect(r.stdout).toMatch(/FAIL: --require nmi-init given but no workload selected/);
  });

  it('krm changes workloads inside a List item', () => {
    const input = YAML.stringify({ apiVersion: 'config.kubernetes.io/v1', kind: 'ResourceList', items: [YAML.parse(list)], functionConfig: { apiVersion: 'v1', kind: 'ConfigMap', data: { strategy: 'nmi-init' } } });
    const r = run(['krm'], { input });
    expect(r.code).toBe(0);
    expect(YAML.parse(r.stdout).items[0].items[0].spec.template.spec.initContainers[0].name).toBe('identity-health-nmi-init');
  });
});

describe('option validation (late or missing before)', () => {
  it('booleans must be booleans', () => {
    expect(() => planFor('identity-probes', { checkNmi: 'false' } as any)).toThrow(/invalid checkNmi "false": expected true or false/);
    expect(() => planFor('workload-identity-probes', { exchange: 'false' } as any)).toThrow(/invalid exchange "false"/);
    expect(() => planFor('workload-identity-init', { useLabel: 0 } as any)).toThrow(/invalid useLabel 0/);
    expect(() => planFor('identity-init', { verifyIdentity: 'yes' } as any)).toThrow(/invalid verifyIdentity "yes"/);
  });

  it('scope and requestTimeout are checked with the exchange off', () => {
    expect(() => planFor('workload-identity-probes', { scope: 'http://x' })).toThrow(/invalid scope "http:\/\/x"/);
    expect(() => planFor('workload-identity-probes', { requestTimeout: 0 })).toThrow(/invalid requestTimeout 0/);
  });

  it('app-check probe timings are checked without a workload, naming the flag', () => {
    expect(() => planFor('nmi-app-check', { readiness: { timeoutSeconds: 0 } })).toThrow(/invalid readiness\.timeoutSeconds 0/);
    const dir = tmp({});
    const r = run(['apply', '-s', 'identity-app-check', '--liveness-timeout', '1', '-'], { cwd: dir, input: 'kind: ConfigMap\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid --liveness-timeout 1: /);
  });

  it('containers given as one string is one name, not its characters', () => {
    const plan = planFor('nmi-probes', { containers: 'app' } as any);
    expect(plan.containers).toEqual(['app']);
    expect(() => planFor('nmi-probes', { containers: 5 } as any)).toThrow(/invalid containers 5: expected a list of container names/);
  });

  it('krm errors name the key the user wrote', () => {
    const rl = (fc: unknown) => YAML.stringify({ apiVersion: 'config.kubernetes.io/v1', kind: 'ResourceList', items: [], functionConfig: fc });
    const cm = run(['krm'], { input: rl({ kind: 'ConfigMap', data: { strategy: 'nmi-probes', 'nmi-port': 'x1' } }) });
    expect(cm.code).toBe(2);
    expect(cm.stderr).toMatch(/functionConfig: invalid data\.nmi-port "x1": expected an integer port/);
    const no = run(['krm'], { input: rl({ kind: 'ConfigMap', data: { strategy: 'identity-probes', 'check-nmi': 'no' } }) });
    expect(no.stderr).toMatch(/invalid data\.check-nmi "no": expected true or false/);
    const typed = run(['krm'], { input: rl({ apiVersion: 'identity-health.io/v1alpha1', kind: 'IdentityHealthStrategy', spec: { strategy: 'nmi-probes', options: { nmiPort: 'x' } } }) });
    expect(typed.stderr).toMatch(/invalid spec\.options\.nmiPort "x"/);
  });
});
