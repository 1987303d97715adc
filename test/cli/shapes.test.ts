/** YAML shapes real files have: flow style, CRLF, comments between items, no final newline, CronJob. */
import { describe, expect, it } from 'vitest';
import { comments, contains, docs, run, validateK8s } from './helpers';

const FLOW = `apiVersion: apps/v1
kind: Deployment
metadata: {name: flow}
spec: {selector: {matchLabels: {app: f}}, template: {metadata: {labels: {app: f}}, spec: {containers: [{name: a, image: "x:1"}]}}}
`;
const MIXED = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: mixed
spec:
  selector:
    matchLabels:
      app: m
  template:
    metadata:
      annotations: {}
      labels:
        app: m
    spec:
      initContainers:
        # existing init step
        - name: migrate
          image: "migrate:1"   # pinned
      containers:
        - name: app
          image: 'app:1'
          env: []
          ports:
            - containerPort: 80
      volumes:
      - name: data
        emptyDir: {}
`;
const CRON = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: cj
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: job
            image: job:1`;
const CRLF = 'apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: crlf\r\nspec:\r\n  containers:\r\n  - name: a\r\n    image: a:1\r\n';

describe.each([['flow', FLOW], ['comments, quoting, empty flow collections', MIXED], ['CronJob without a final newline', CRON], ['CRLF Pod', CRLF]])('%s', (_, input) => {
  it.each([['nmi-init'], ['identity-probes'], ['identity-app-check']])('%s: keeps what was there, validates, is idempotent', (s) => {
    const flags = s.includes('app') ? ['--port', '80'] : [];
    const r = run(['apply', '-s', s, ...flags, '-'], { input });
    expect(r.code, r.stderr).toBe(0);
    const [before] = docs(input);
    const [after] = docs(r.stdout);
    expect(contains(after, before)).toBeUndefined();
    validateK8s(after);
    for (const c of comments(input)) expect(r.stdout).toContain(c);
    expect(run(['apply', '-s', s, ...flags, '-'], { input: r.stdout }).stdout).toBe(r.stdout);
    expect(JSON.parse(run(['audit', '-', '--format', 'json'], { input: r.stdout }).stdout).workloads[0].strategies).toEqual([s]);
    if (input.includes('\r\n')) expect(r.stdout.replace(/\r\n/g, '')).not.toMatch(/\n/);
  });
});

it('a comment above an existing init container stays with it', () => {
  const out = run(['apply', '-s', 'nmi-init', '-'], { input: MIXED }).stdout;
  expect(out).toMatch(/# existing init step\n {8}- name: migrate\n {10}image: "migrate:1" {3}# pinned\n/);
  expect(out).toMatch(/image: 'app:1'/);
});
