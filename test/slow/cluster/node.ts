/**
 * A real node for the cluster suites: containerd and runc (Debian's packages) and kubelet (built
 * from the same Kubernetes release as the API server), in the cluster's network namespace, with
 * pods on a CNI bridge (containernetworking-plugins) and one image built here from Debian's
 * busybox-static (no registry is reachable). Entered with nsenter --net, not `ip netns exec`:
 * the latter remounts /sys, and kubelet then finds no cgroup mounts ("failed to get mounted
 * cgroup subsystems"). containerd runs with restrict_oom_score_adj: without it runc cannot set
 * the sandbox's oom_score_adj inside this (unprivileged-for-that) container and fails with
 * "can't get final child's PID from pipe: EOF".
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as YAML from 'yaml';
import { engine } from '../engines';
import { Cluster, eventually } from './cluster';

export const NODE_NAME = 'node-1';
/** The node's address (on the namespace's lo); pods reach it through the bridge's gateway. */
export const NODE_IP = '10.0.0.10';
export const IMAGE = 'localhost/identity-health-busybox:local';

export interface Node { readonly versions: Record<string, string>; stop(): Promise<void> }

/** An OCI image tarball: Debian's static busybox with every applet linked, PATH=/bin. */
function buildImage(dir: string): string {
  const root = path.join(dir, 'image');
  const rootfs = path.join(root, 'rootfs');
  for (const d of ['bin', 'tmp', 'etc', 'var/run']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  const busybox = engine('busybox-static').bin; // unpacked by scripts/slow-setup.d/20-engines-cluster.sh
  fs.copyFileSync(busybox, path.join(rootfs, 'bin/busybox'));
  fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  for (const applet of execFileSync(busybox, ['--list']).toString().split('\n').filter((a) => a && a !== 'busybox')) {
    fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  }
  const blobs = path.join(root, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const blob = (data: Buffer) => {
    const digest = crypto.createHash('sha256').update(data).digest('hex');
    fs.writeFileSync(path.join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  const layer = blob(execFileSync('tar', ['-C', rootfs, '-cf', '-', '.'], { maxBuffer: 64 * 2 ** 20 }));
  const config = blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/bin/sleep', 'infinity'], Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  const manifest = blob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }] })));
  fs.writeFileSync(path.join(root, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
    annotations: { 'org.opencontainers.image.ref.name': IMAGE, 'io.containerd.image.name': IMAGE } }] }));
  fs.writeFileSync(path.join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const tar = path.join(dir, 'image.tar');
  execFileSync('tar', ['-C', root, '-cf', tar, 'oci-layout', 'index.json', 'blobs']);
  return tar;
}

/** The machine's processes as /proc shows them (a zombie has exited and runs nothing). */
export function processes(): Array<{ pid: number; ppid: number; zombie: boolean; argv: string[] }> {
  return fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x)).flatMap((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [{ pid: Number(pid), ppid: Number(ppid), zombie: state === 'Z', argv: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') }];
    } catch { return []; } // gone meanwhile
  });
}

/** SIGKILL every containerd-shim whose argv names `sock`, and all processes below them (children first). */
function killShims(sock: string): void {
  const procs = processes();
  const below = (pid: number): number[] => procs.filter((p) => p.ppid === pid).flatMap((p) => [...below(p.pid), p.pid]);
  const shims = procs.filter((p) => p.argv.some((a) => a.includes('containerd-shim')) && p.argv.includes(sock));
  for (const pid of shims.flatMap((s) => [...below(s.pid), s.pid])) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

export async function startNode(cluster: Cluster): Promise<Node> {
  const kubelet = engine('kubelet');
  const d = cluster.dir;
  const procs: ChildProcess[] = [];
  // Pod network namespaces containerd makes (cni-<uuid>): the ones this node made are removed at the end.
  const netnsNow = () => (fs.existsSync('/var/run/netns') ? fs.readdirSync('/var/run/netns') : []);
  const netnsBefore = new Set(netnsNow());
  const nsSpawn = (name: string, argv: string[]) => {
    const out = fs.openSync(path.join(d, `${name}.log`), 'a');
    const p = spawn('nsenter', [`--net=/var/run/netns/${cluster.netns}`, ...argv], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    procs.push(p);
    return p;
  };
  const stop = async () => {
    for (const p of procs.reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      p.kill('SIGTERM');
      await new Promise((r) => { const t = setTimeout(() => { p.kill('SIGKILL'); r(null); }, 10_000); p.once('exit', () => { clearTimeout(t); r(null); }); });
    }
    // containerd's shims outlive it (they are reparented to init, by design, so containers survive
    // a containerd restart), and so do the containers they run: kill each shim of this node's
    // containerd (its argv names this node's socket) with every process below it, deepest first.
    killShims(path.join(d, 'containerd.sock'));
    // Volumes kubelet mounted and the pods' network namespaces containerd made.
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4])
      .filter((m) => m && (m.startsWith(d) || /^\/(var\/)?run\/netns\/cni-/.test(m))).sort().reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    for (const n of netnsNow().filter((x) => x.startsWith('cni-') && !netnsBefore.has(x))) {
      spawnSync('umount', ['-l', `/var/run/netns/${n}`]);
      fs.rmSync(`/var/run/netns/${n}`, { force: true });
    }
  };
  try {
    execFileSync('ip', ['-n', cluster.netns, 'addr', 'add', `${NODE_IP}/32`, 'dev', 'lo']);
    const cni = path.join(d, 'cni');
    fs.mkdirSync(cni);
    fs.writeFileSync(path.join(cni, '10-bridge.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'identity-health', plugins: [
      { type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] } },
      { type: 'loopback' }] }));
    const sock = path.join(d, 'containerd.sock');
    fs.writeFileSync(path.join(d, 'containerd.toml'), [
      'version = 2', `root = "${d}/containerd-root"`, `state = "${d}/containerd-state"`, '[grpc]', `  address = "${sock}"`,
      '[plugins."io.containerd.grpc.v1.cri"]', `  sandbox_image = "${IMAGE}"`, '  restrict_oom_score_adj = true',
      '  [plugins."io.containerd.grpc.v1.cri".cni]', '    bin_dir = "/usr/lib/cni"', `    conf_dir = "${cni}"`, ''].join('\n'));
    const containerd = nsSpawn('containerd', ['containerd', '--config', path.join(d, 'containerd.toml')]);
    await eventually('containerd', 30_000, async () => {
      if (containerd.exitCode !== null) throw new Error(`containerd exited: ${fs.readFileSync(path.join(d, 'containerd.log'), 'utf8').slice(-2000)}`);
      return spawnSync('ctr', ['-a', sock, 'version']).status;
    }, (s) => s === 0);
    execFileSync('ctr', ['-a', sock, '-n', 'k8s.io', 'image', 'import', buildImage(d)], { stdio: 'pipe' });
    fs.writeFileSync(path.join(d, 'kubelet.yaml'), YAML.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration',
      cgroupDriver: 'cgroupfs', failCgroupV1: false, failSwapOn: false, containerRuntimeEndpoint: `unix://${sock}`,
      authentication: { anonymous: { enabled: true }, webhook: { enabled: false } }, authorization: { mode: 'AlwaysAllow' },
      cgroupsPerQOS: false, enforceNodeAllocatable: [], localStorageCapacityIsolation: false, resolvConf: '', readOnlyPort: 0,
      evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 99,
    }));
    const kl = nsSpawn('kubelet', [kubelet.bin, '--config', path.join(d, 'kubelet.yaml'), '--kubeconfig', cluster.kubeconfig,
      '--root-dir', path.join(d, 'kubelet'), '--hostname-override', NODE_NAME, '--node-ip', NODE_IP]);
    await eventually('kubelet: node Ready', 120_000, async () => {
      if (kl.exitCode !== null) throw new Error(`kubelet exited: ${fs.readFileSync(path.join(d, 'kubelet.log'), 'utf8').slice(-3000)}`);
      return (await cluster.request('GET', `/api/v1/nodes/${NODE_NAME}`)).body;
    }, (n: any) => n?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    const ctd = execFileSync('containerd', ['--version']).toString().trim().split(' ').slice(2).join(' ');
    const runc = execFileSync('runc', ['--version']).toString().split('\n')[0];
    return { versions: { kubelet: kubelet.version, containerd: ctd, runc }, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
