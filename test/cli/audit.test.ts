/** audit on hand-written manifests: each known defect, --require exit codes, formats. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './helpers';

function deployment(name: string, container: string, init = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
${init}      containers:
${container}`;
}

const HOST_IP = `        env:
        - name: HOST_IP
          valueFrom: {fieldRef: {fieldPath: status.hostIP}}
`;

const CASES: Record<string, string> = {
  // A careful hand-written NMI probe: recognised as nmi-probes, no defects.
  good: deployment('good', `      - name: app
        image: curlimages/curl:8.11.1
${HOST_IP}        readinessProbe:
          exec:
            command: ["/bin/sh", "-c", "[ \\"$(curl -sf --max-time 2 http://$HOST_IP:8085/healthz)\\" = Active ]"]
          timeoutSeconds: 3
        livenessProbe:
          exec:
            command: ["/bin/sh", "-c", "[ \\"$(curl -sf --max-time 2 http://$HOST_IP:8085/healthz)\\" = Active ]"]
          timeoutSeconds: 3
`),
  // Status-only NMI check, curl without --fail, HOST_IP never set, no timeouts.
  statusonly: deployment('statusonly', `      - name: app
        image: curlimages/curl:8.11.1
        readinessProbe:
          exec:
            command: ["sh", "-c", "curl -s http://$HOST_IP:8085/healthz"]
`),
  // Token request in an init container with == in sh and no Metadata header.
  doubleeq: deployment('doubleeq', `      - name: app
        image: example/app:1
`, `      initContainers:
      - name: wait-identity
        image: busybox:1.37.0
        command: ["/bin/sh", "-c", "until [ \\"$(wget -qO- 'http://169.254.169.254/metadata/identity/oauth2/token?resource=x' | head -c 1)\\" == '{' ]; do sleep 2; done"]
`),
  // httpGet straight to IMDS, and to NMI's health port.
  httpget: deployment('httpget', `      - name: app
        image: example/app:1
        readinessProbe:
          httpGet: {host: 169.254.169.254, path: /metadata/identity/oauth2/token, port: 80}
        livenessProbe:
          httpGet: {path: /healthz, port: 8085}
`),
  plain: deployment('plain', `      - name: app
        image: example/app:1
`),
};

const made: string[] = [];
afterAll(() => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });

function dir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-audit-'));
  made.push(d);
  for (const [n, t] of Object.entries(CASES)) fs.writeFileSync(path.join(d, `${n}.yaml`), t);
  return d;
}

describe('audit of hand-written checks', () => {
  const d = dir();
  const report = JSON.parse(run(['audit', d, '--format', 'json']).stdout).workloads as any[];
  const by = (n: string) => report.find((w) => w.name === n);
  const codes = (n: string) => by(n).defects.map((x: any) => x.code).sort();

  it('recognises a correct hand-written NMI probe as nmi-probes', () => {
    expect(by('good').strategies).toEqual(['nmi-probes']);
    expect(by('good').defects).toEqual([]);
    expect(by('good').claims).toEqual({ startGated: 'yes', runtime: 'yes', otherFaults: 'no' });
    expect(by('good').parts[0].ours).toBe(false);
  });

  it('flags a status-only check, curl without --fail, HOST_IP unset and missing timeouts; the check does not count', () => {
    expect(codes('statusonly')).toEqual(['curl-no-fail', 'host-ip-unset', 'nmi-status-only', 'no-timeout', 'no-timeout']);
    expect(by('statusonly').strategies).toEqual([]);
    expect(by('statusonly').claims.runtime).toBe('no');
  });

  it('flags == in sh and a token request without the Metadata header', () => {
    // And a token check on a pod without the aadpodidbinding label: NMI would refuse it (404).
    expect(codes('doubleeq')).toEqual(['no-metadata-header', 'no-timeout', 'pod-identity-binding-missing', 'sh-double-equals']);
    expect(by('doubleeq').strategies).toEqual([]);
  });

  it('flags httpGet probes to 169.254.169.254 and to the NMI port', () => {
    expect(codes('httpget')).toEqual(['httpget-imds', 'nmi-status-only']);
  });

  it('table output lists each defect with file:line and --require fails with exit 1', () => {
    const r = run(['audit', d, '--require', 'nmi-probes']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^WORKLOAD +IDENTITY +STRATEGIES +START GATED +RUNTIME +OTHER FAULTS +DEFECTS$/m);
    expect(r.stdout).toMatch(/statusonly\.yaml:1: Deployment statusonly: container app readinessProbe: error \[curl-no-fail\]/);
    expect(r.stdout).toMatch(/FAIL: 4 of 5 workload\(s\) do not meet --require nmi-probes/);
    expect(r.stderr).toMatch(/4 workload\(s\) do not meet --require nmi-probes/);
    expect(run(['audit', d, '--require', 'nmi-probes', '--name', 'good']).code).toBe(0);
    expect(run(['audit', d, '--require', 'any', '--name', 'plain']).code).toBe(1);
    expect(run(['audit', d, '--require', 'bogus']).code).toBe(2);
  });

  it('reads stdin', () => {
    const r = run(['audit', '-', '--output', 'json'], { input: CASES.good });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).workloads[0]).toMatchObject({ file: '<stdin>', line: 1, strategies: ['nmi-probes'] });
  });

  it('audit after apply of each strategy on a plain Deployment reports that strategy and its claims', () => {
    for (const [id, claims] of [
      ['nmi-init', ['yes', 'no', 'no']], ['nmi-probes', ['yes', 'yes', 'no']], ['nmi-app-check', ['yes', 'yes', 'no']],
      ['identity-init', ['yes', 'no', 'at start only']], ['identity-probes', ['yes', 'yes', 'yes']], ['identity-app-check', ['yes', 'yes', 'yes']],
    ] as const) {
      const applied = run(['apply', '-s', id, '--pod-identity-binding', 'plain', ...(id.includes('app') ? ['--port', '8080'] : []), '-'], { input: CASES.plain });
      expect(applied.code).toBe(0);
      const w = JSON.parse(run(['audit', '-', '--format', 'json'], { input: applied.stdout }).stdout).workloads[0];
      expect(w.strategies).toEqual([id]);
      expect([w.claims.startGated, w.claims.runtime, w.claims.otherFaults]).toEqual(claims);
      expect(w.defects).toEqual([]);
    }
  });
});
