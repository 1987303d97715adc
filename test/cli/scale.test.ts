/**
 * Scale: input is streamed chunk by chunk, so a large input round-trips exactly with a heap far
 * smaller than the input would need if held whole; the fast reader agrees with the yaml package;
 * the audit is linear in script length. (Times are measured in `npm run bench`, not asserted here.)
 */
import { spawnSync } from 'child_process';
import * as fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { auditWorkload } from '../../src/audit';
import { parseFast } from '../../src/cli/fast-yaml';
import { table } from '../../src/cli/style';
import { CLI, CORPUS, CORPUS_FILES } from './helpers';

/** Documents of many shapes: comments, quoting, block scalars, flow, Lists, non-workloads. */
function sample(i: number): string {
  switch (i % 5) {
    case 0: return `# deployment ${i}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: "app-${i}"
  labels:
    app: app-${i}
    tier: 'web'
spec:
  replicas: 2
  template:
    metadata:
      labels:
        app: app-${i}
    spec:
      containers:
        - name: app   # main
          image: example.azurecr.io/app:1.${i}
          args: ["--port", "8080"]
          env:
            - name: MODE
              value: |
                line one
                line two
          ports:
            - containerPort: 8080
`;
    case 1: return `apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg-${i}
data:
  script.sh: |-
    #!/bin/sh
    echo "${i}" # not a comment

  folded: >
    a
    b
  num: "0755"
`;
    case 2: return `apiVersion: batch/v1
kind: CronJob
metadata:
  name: job-${i}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: job
            image: busybox:1.37
            command:
            - sh
            - -c
            - 'date; echo done'
            resources: {}
`;
    case 3: return `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: pod-${i}
    annotations:
      note: 'it''s'
  spec:
    containers:
    - name: c
      image: nginx:1.27
      readinessProbe:
        httpGet: {path: /, port: 80}
`;
    default: return `apiVersion: v1
kind: Service
metadata:
  name: svc-${i}
spec:
  ports:
  - port: 80
    targetPort: 8080
  selector: &sel
    app: app-${i}
  other: *sel
`;
  }
}

const tmpdir = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-scale-')); fs.chmodSync(d, 0o755); return d; };

function cli(args: string[], o: { cwd: string; heapMb?: number; out?: string }) {
  const out = o.out ? fs.openSync(path.join(o.cwd, o.out), 'w') : 'pipe';
  const r = spawnSync(process.execPath, [...(o.heapMb ? [`--max-old-space-size=${o.heapMb}`] : []), CLI, ...args], { cwd: o.cwd, encoding: 'utf8', stdio: ['ignore', out, 'pipe'], maxBuffer: 64 * 2 ** 20 });
  if (typeof out === 'number') fs.closeSync(out);
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('streamed input', () => {
  it('a large input round-trips exactly with a heap far smaller than the input held whole', () => {
    const dir = tmpdir();
    const docs: string[] = [];
    let size = 0;
    for (let i = 0; size < 2 * 2 ** 20; i++) { const d = sample(i); docs.push(d); size += d.length + 4; }
    fs.writeFileSync(path.join(dir, 'in.yaml'), docs.join('---\n'));
    // The oracle: each document alone in its own file (read and changed document by document, no
    // chunk holds two of them); apply joins files with the same `---` lines the stream has.
    fs.mkdirSync(path.join(dir, 'each'));
    docs.forEach((d, i) => fs.writeFileSync(path.join(dir, 'each', `${String(i).padStart(6, '0')}.yaml`), d));
    const each = cli(['apply', '-s', 'nmi-init', 'each'], { cwd: dir, out: 'each.yaml' });
    expect(each.code, each.stderr).toBe(0);
    const expected = fs.readFileSync(path.join(dir, 'each.yaml'), 'utf8');

    // Held whole, these 2 MB do not fit in a 48 MB heap (read as one chunk, the run dies with
    // "JavaScript heap out of memory"); streamed, they do. Output to a file, as `> out.yaml`.
    const first = cli(['apply', '-s', 'nmi-init', 'in.yaml'], { cwd: dir, heapMb: 48, out: 'once.yaml' });
    expect(first.stderr).toMatch(new RegExp(`${Math.ceil(docs.length * 3 / 5)} workload\\(s\\) changed`));
    expect(first.code).toBe(0);
    const once = fs.readFileSync(path.join(dir, 'once.yaml'), 'utf8');
    expect(once === expected, 'streamed output differs from applying document by document').toBe(true);
    // Untouched documents (ConfigMaps, Services) keep their bytes; every document is in its place.
    const pieces = once.split(/^---\n/m);
    expect(pieces.length).toBe(docs.length);
    docs.forEach((d, k) => { if (k % 5 === 1 || k % 5 === 4) expect(pieces[k] === d, `document ${k} changed`).toBe(true); });

    const audit = cli(['audit', '--require', 'nmi-init', '--format', 'json', 'once.yaml'], { cwd: dir, heapMb: 48, out: 'audit.json' });
    expect(audit.code, audit.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'audit.json'), 'utf8')).workloads).toHaveLength(Math.ceil(docs.length * 3 / 5));
    fs.rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it('an error after output was produced leaves stdout empty: a file (written directly, then truncated) and a pipe', () => {
    const dir = tmpdir();
    const ok = Array.from({ length: 1000 }, (_, i) => sample(i * 5)).join('---\n');
    // The last workload already has another init container of ours' name: a conflict, found last.
    const bad = sample(0).replace('    spec:\n      containers:', '    spec:\n      initContainers:\n      - name: identity-health-nmi-init\n        image: other\n      containers:');
    fs.writeFileSync(path.join(dir, 'in.yaml'), `${ok}---\n${bad}`);
    const file = cli(['apply', '-s', 'nmi-init', 'in.yaml'], { cwd: dir, out: 'out.yaml' });
    expect(file.stderr).toMatch(/1 workload could not take nmi-init; nothing written/);
    expect(file.code).toBe(2);
    expect(fs.statSync(path.join(dir, 'out.yaml')).size).toBe(0);
    const pipe = cli(['apply', '-s', 'nmi-init', 'in.yaml'], { cwd: dir });
    expect(pipe.code).toBe(2);
    expect(pipe.stdout).toBe('');
    // Without the error, the same run writes it all.
    fs.writeFileSync(path.join(dir, 'in.yaml'), ok);
    expect(cli(['apply', '-s', 'nmi-init', 'in.yaml'], { cwd: dir, out: 'out.yaml' }).code).toBe(0);
    expect(fs.statSync(path.join(dir, 'out.yaml')).size).toBeGreaterThan(ok.length);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('the default input limit takes our own output for thousands of workloads (33 MB)', () => {
    const dir = tmpdir();
    const line = `---\n# ${'x'.repeat(1000)}\n`;
    fs.writeFileSync(path.join(dir, 'big.yaml'), line.repeat(Math.ceil(33 * 2 ** 20 / line.length)) + sample(0));
    const r = cli(['audit', 'big.yaml', '--output', 'json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).workloads).toHaveLength(1);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});

/**
 * A Deployment with a long name (253 is the limit) and, by turn, a defective hand-written NMI
 * check (errors and a warning), a careful one (none), or no check.
 */
function audited(i: number): string {
  const probe = [
    '            - sh\n            - -c\n            - curl -s http://$HOST_IP:8085/healthz\n',
    `            - /bin/sh\n            - -c\n            - '[ "$(curl -sf --max-time 2 http://$HOST_IP:8085/healthz)" = Active ]'\n`,
    '            - "true"\n',
  ][i % 3];
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${String(i).padStart(200, '0')}
spec:
  template:
    spec:
      containers:
      - name: app
        image: example.azurecr.io/app:1.0
        env:
        - name: HOST_IP
          value: x
        readinessProbe:
          exec:
            command:
${probe}          timeoutSeconds: 3
`;
}

describe('audit keeps nothing per workload', () => {
  it('11,200 workloads in a 32 MB heap (with every report held to the end, 4,500 fit and 9,000 did not), and the report is the per-file reports joined', () => {
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'in'));
    // Four files of 2,800 workloads and other documents (ConfigMaps, Services, CronJobs, Lists of Pods).
    for (let f = 0; f < 4; f++) {
      const docs = Array.from({ length: 3000 }, (_, k) => { const i = f * 3000 + k; return k % 6 === 5 ? sample(i) : audited(i); });
      fs.writeFileSync(path.join(dir, 'in', `f${f}.yaml`), docs.join('---\n'));
    }
    const files = [0, 1, 2, 3].map((f) => `in/f${f}.yaml`);
    const args = ['audit', '--require', 'nmi-probes'];

    // JSON: the per-file workloads in order, laid out as JSON.stringify of the whole report.
    const json = cli([...args, '--format', 'json', 'in'], { cwd: dir, heapMb: 32, out: 'whole.json' });
    expect(json.stderr).not.toMatch(/heap out of memory/);
    expect(json.code, json.stderr).toBe(1);
    const parts = files.map((f) => { const r = cli([...args, '--format', 'json', f], { cwd: dir }); expect(r.code, r.stderr).toBe(1); return JSON.parse(r.stdout); });
    const report = { workloads: parts.flatMap((p) => p.workloads), require: ['nmi-probes'], failed: parts.reduce((n, p) => n + p.failed, 0) };
    expect(report.workloads.length).toBe(11_200);
    expect(report.failed).toBe(7_200);
    expect(fs.readFileSync(path.join(dir, 'whole.json'), 'utf8') === JSON.stringify(report, null, 2) + '\n', 'JSON report differs from the per-file reports joined').toBe(true);

    // Text: one table over every row (widths from all of them), then every defect line, then the
    // verdict with every failing workload. Each per-file table's cells are split at its padding.
    const text = cli([...args, 'in'], { cwd: dir, heapMb: 32 });
    expect(text.stderr).not.toMatch(/heap out of memory/);
    expect(text.code, text.stderr).toBe(1);
    const rows: string[][] = [];
    const details: string[] = [];
    const names: string[] = [];
    let failed = 0;
    let count = 0;
    for (const f of files) {
      const r = cli([...args, f], { cwd: dir });
      expect(r.code, r.stderr).toBe(1);
      const [tab, defects, verdict, ...rest] = r.stdout.split('\n\n');
      expect(rest).toEqual([]);
      const lines = tab.split('\n');
      if (!rows.length) rows.push(lines[0].split(/ {2,}/));
      for (const l of lines.slice(1)) rows.push(l.split(/ {2,}/));
      details.push(defects);
      const m = /^FAIL: (\d+) of (\d+) workload\(s\) do not meet --require nmi-probes: (.*)\n$/.exec(verdict)!;
      failed += Number(m[1]);
      count += Number(m[2]);
      names.push(m[3]);
    }
    expect(rows.every((r) => r.length === 7)).toBe(true);
    expect(count).toBe(rows.length - 1);
    const expected = `${table(rows)}\n\n${details.join('\n')}\n\nFAIL: ${failed} of ${count} workload(s) do not meet --require nmi-probes: ${names.join(', ')}\n`;
    expect(text.stdout === expected, 'text report differs from the per-file reports joined').toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});

describe('fast reader', () => {
  it('reads the same values as the yaml package, and reads most real manifests itself', () => {
    const texts = [...CORPUS_FILES.map((f) => fs.readFileSync(path.join(CORPUS, f), 'utf8')), Array.from({ length: 10 }, (_, i) => sample(i)).join('---\n')];
    for (const text of texts) {
      const fast = parseFast(text)!;
      const general = YAML.parseAllDocuments(text) as YAML.Document.Parsed[];
      expect(fast.docs.length).toBe(general.length);
      let read = 0;
      fast.docs.forEach((d, i) => {
        if (!('fast' in d)) return;
        read++;
        expect(fast.values[i]).toEqual(general[i].toJS());
        expect(d.range[0]).toBe(general[i].range[0]);
      });
      if (text !== texts[texts.length - 1]) expect(read / fast.docs.length).toBeGreaterThan(0.9);
    }
  });

  it('agrees with the yaml package on mutated manifests (fast-check: random edits of real documents)', () => {
    const base = CORPUS_FILES.flatMap((f) => fs.readFileSync(path.join(CORPUS, f), 'utf8').split(/^(?=---)/m)).concat([sample(0), sample(2)]);
    const pieces = [' ', '\n', '-', ': ', '#', ' #', '"', "'", '|', '|-', '|+', '>', '{}', '[]', '  ', 'x', '1', '0x1', '1e3', '~', 'null', 'true',
      '- ', 'a: b', '\n  ', '\n    - ', ':', '---\n', '---', '...', '&a', '*a', '!', '%', '\t', '\\', '?', '\r\n'];
    const edit = fc.tuple(fc.nat(), fc.constantFrom(...pieces), fc.nat({ max: 2 }));
    fc.assert(fc.property(fc.nat({ max: base.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 3 }), (b, edits) => {
      let t = base[b];
      for (const [p, q, del] of edits) { const at = p % (t.length + 1); t = t.slice(0, at) + q + t.slice(at + del); }
      const fast = parseFast(t);
      const general = YAML.parseAllDocuments(t);
      if (!fast || !Array.isArray(general)) return;
      fast.docs.forEach((d, i) => {
        if (!('fast' in d)) return;
        // What the fast reader reads is valid YAML with the same value.
        expect(general[i].errors).toEqual([]);
        expect(fast.values[i]).toEqual(general[i].toJS({ maxAliasCount: 1000 }));
      });
    }), { numRuns: 1500, seed: 13 });
  });

  it.each([
    ['a: 1\nb: -2\nc: 1.5\nd: 0x1f\n'], ['a: 1e3\n'], ['a: "x\\ty"\n'], ['a: |+\n  x\n\nb: 1\n'], ['a: >\n  x\n'], ['? a\n: b\n'],
    ['a: b\n  c\n'], ['a: "b\n  c"\n'], ['- - a\n'], ['a:\n- b\n- c\nd: e\n'], ['a: [b]\n'], ['a: &x 1\nb: *x\n'], ['a: !!str 1\n'],
    ['a: 1\na: 2\n'], ['true: x\n'], ['a: yes\nb: ~\nc: Null\nd: FALSE\n'], ['a: |-\n    x\n  y\n'], ['a:    \n  - x # c\n  # d\n'],
  ])('leaves what it does not read to the yaml package, or reads it the same: %j', (text) => {
    const fast = parseFast(text);
    const general = YAML.parseAllDocuments(text) as YAML.Document.Parsed[];
    if (!fast) return;
    fast.docs.forEach((d, i) => {
      if ('fast' in d) {
        expect(general[i].errors).toEqual([]);
        expect(fast.values[i]).toEqual(general[i].toJS());
      }
    });
  });
});

describe('audit reads its input without copying it', () => {
  it('a deeply frozen workload is audited as a fresh copy of it is', () => {
    const freeze = (x: any): any => { if (x && typeof x === 'object') { Object.values(x).forEach(freeze); Object.freeze(x); } return x; };
    const text = fs.readFileSync(path.join(CORPUS, CORPUS_FILES[0]), 'utf8');
    const workloads = YAML.parseAllDocuments(text).map((d) => d.toJS()).filter((d) => d?.spec?.template);
    expect(workloads.length).toBeGreaterThan(3);
    for (const w of workloads) expect(auditWorkload(freeze(structuredClone(w)))).toEqual(auditWorkload(w));
  });
});

describe('audit is linear in script length', () => {
  /** Best of 3 runs, ms. */
  function time(kb: number, unit: string): number {
    let s = 'curl -sf http://$HOST_IP:8085/healthz | grep Active\n';
    while (s.length < kb * 1024) s += unit;
    const doc = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: { spec: { containers: [{ name: 'a', image: 'i', env: [{ name: 'HOST_IP', value: '1' }], readinessProbe: { exec: { command: ['/bin/sh', '-c', s] }, timeoutSeconds: 5 } }] } } } };
    let best = Infinity;
    for (let k = 0; k < 3; k++) { const t = process.hrtime.bigint(); auditWorkload(doc); best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6); }
    return best;
  }

  it.each([
    ['test brackets without a closing one', '[ "$HOST_IP" healthz x '],
    ['many curl calls between two delimiters', '{ curl -s http://$HOST_IP:8085/healthz '],
    ['az login without --identity', 'az login -u x metadata/identity/oauth2/token '],
    ['many short lines', 'curl -sf -H "Metadata: true" http://$HOST_IP:8085/healthz | grep -q Active || exit 1\n'],
  ])('%s: doubling the script at most ~doubles the time (quadratic would be 4x)', (_name, unit) => {
    time(64, unit); // warm up
    const small = time(192, unit);
    const large = time(384, unit);
    // Generous: linear is ~2x; the quadratic code took 4-5x (seconds here). Times of a few ms are
    // noise (a GC pause), not growth.
    expect(large < 60 || large / small < 3.2, `${small.toFixed(1)} ms -> ${large.toFixed(1)} ms`).toBe(true);
  });
});
