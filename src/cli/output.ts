/**
 * Where apply's output goes, written as it is produced (never one giant string): a spool for
 * stdout (memory up to 16 MB, then a temp file) flushed only when the whole run succeeded, so an
 * error leaves stdout empty as it leaves files untouched; in-place rewrites through a temp file
 * beside the target and an atomic rename; and a streaming unified diff.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StringDecoder } from 'string_decoder';
import { UsageError } from './errors';

let tmpDir: string | undefined;
/** A fresh path in this run's private temp directory (removed at exit). */
export function tempPath(name: string): string {
  if (!tmpDir) {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-health-'));
    process.once('exit', () => { if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true }); });
  }
  return path.join(tmpDir, `${name}-${Math.random().toString(36).slice(2)}`);
}

const SPILL = 16 * 2 ** 20;

/** Item `index` (from 0) of a JSON array nested one level deep, as JSON.stringify(_, null, 2) lays it out. */
export function jsonArrayItem(index: number, item: unknown): string {
  return `${index ? ',' : ''}\n${JSON.stringify(item, null, 2).replace(/^/gm, '    ')}`;
}

/**
 * Output held until the run is known to succeed; bounded memory (spills to a temp file). When
 * stdout is an empty regular file (`> out.yaml`), there is nothing to hold it from: the output is
 * written straight to it and truncated away again if the run fails (one write of the output, not
 * three: spool, read back, copy).
 */
export class Spool {
  private bufs: Buffer[] = [];
  private size = 0;
  private fd?: number;
  private file?: string;
  /** Small string writes joined (one Buffer, one write call per 64 K characters, not one per line). */
  private text = '';
  /** The last character written ('' before any). */
  last = '';
  /** Bytes written. */
  written = 0;

  /**
   * `direct`: fd 1 (stdout) itself when it is an empty regular file not read as an input (`inputs`:
   * their real paths). `spill`: bytes held in memory before they move to a temp file.
   */
  constructor(direct?: { inputs: readonly string[] }, private readonly spill = SPILL) {
    if (!direct) return;
    let st: fs.Stats;
    try { st = fs.fstatSync(1); } catch { return; }
    if (!st.isFile() || st.size !== 0) return;
    for (const f of direct.inputs) {
      try { const s = fs.statSync(f); if (s.ino === st.ino && s.dev === st.dev) return; } catch { /* gone: read fails later */ }
    }
    this.fd = 1;
  }

  write(data: Buffer | string): void {
    if (!data.length) return;
    if (typeof data === 'string') {
      this.last = data[data.length - 1];
      this.written += Buffer.byteLength(data);
      this.text += data;
      if (this.text.length >= 2 ** 16) this.settle();
      return;
    }
    this.settle();
    this.last = String.fromCharCode(data[data.length - 1]);
    this.written += data.length;
    this.put(data);
  }

  private settle(): void {
    if (!this.text) return;
    const b = Buffer.from(this.text);
    this.text = '';
    this.put(b);
  }

  private put(b: Buffer): void {
    if (this.fd !== undefined) { fs.writeSync(this.fd, b); return; }
    this.bufs.push(b);
    this.size += b.length;
    if (this.size > this.spill) {
      this.file = tempPath('out');
      this.fd = fs.openSync(this.file, 'w+', 0o600);
      for (const x of this.bufs) fs.writeSync(this.fd, x);
      this.bufs = [];
    }
  }

  /** Everything written, to `out` (stdout), respecting back-pressure. */
  async flush(out: NodeJS.WritableStream = process.stdout): Promise<void> {
    const put = (b: Buffer) => new Promise<void>((resolve) => { if (out.write(b)) resolve(); else out.once('drain', resolve); });
    for (const b of this.blocks()) await put(b);
  }

  /** Everything written, block by block (at most 1 MB each from the temp file); the spool is emptied. */
  *blocks(): Generator<Buffer> {
    this.settle();
    if (this.fd === 1) return;
    if (this.fd === undefined) { const bufs = this.bufs; this.bufs = []; this.size = 0; yield* bufs; return; }
    for (let pos = 0; ;) {
      const block = Buffer.allocUnsafe(2 ** 20);
      const n = fs.readSync(this.fd, block, 0, block.length, pos);
      if (!n) break;
      pos += n;
      yield block.subarray(0, n);
    }
    this.discard();
  }

  /** Everything written, line by line (without the newline; text written as UTF-8); the spool is emptied. */
  *lines(): Generator<string> {
    const dec = new StringDecoder('utf8');
    let rest = '';
    for (const b of this.blocks()) {
      const parts = (rest + dec.write(b)).split('\n');
      rest = parts.pop()!;
      yield* parts;
    }
    rest += dec.end();
    if (rest) yield rest;
  }

  discard(): void {
    this.bufs = [];
    this.text = '';
    if (this.fd === 1) { fs.ftruncateSync(1, 0); return; }
    if (this.fd !== undefined) { fs.closeSync(this.fd); fs.rmSync(this.file!, { force: true }); this.fd = undefined; }
  }
}

const live = new Set<InPlaceFile>();
process.once('exit', () => { for (const f of live) f.release(); });

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e: any) { return e.code === 'EPERM'; }
}

function sleep(ms: number): void { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }

const LOCK_WAIT_MS = 30_000;

/**
 * One file rewritten in place. A symlink is written through (its target is replaced, the link
 * stays). While a run holds the file, a lock file beside it (`.<name>.identity-health.lock`, with
 * the pid) makes a second identity-health run wait for it and then read the new content, so two
 * runs never lose each other's edits; temp files left by a killed run (`.<name>.<pid>.tmp`) are
 * removed. The new text goes to `.<name>.<pid>.tmp` (same directory, same mode, fsync), then an
 * atomic rename; before the rename the file is checked to be unchanged since it was read (size,
 * times, inode), else the run is refused (another program edited it meanwhile).
 */
export class InPlaceFile {
  readonly real: string;
  private readonly dir: string;
  private readonly base: string;
  private readonly lock: string;
  private locked = false;
  private readonly stat?: fs.Stats;
  private tmp?: string;
  private fd?: number;
  changed = false;

  constructor(readonly name: string, create = false) {
    try { this.real = fs.realpathSync(name); } catch (e: any) {
      if (!(create && e.code === 'ENOENT')) throw new UsageError(`${name}: cannot read: ${e.message}`);
      this.real = path.resolve(name);
    }
    this.dir = path.dirname(this.real);
    this.base = path.basename(this.real);
    this.lock = path.join(this.dir, `.${this.base}.identity-health.lock`);
    live.add(this);
    this.acquire();
    if (this.locked) this.cleanStale();
    try { this.stat = fs.statSync(this.real); } catch (e: any) { if (!create) throw new UsageError(`${name}: cannot read: ${e.message}`); }
  }

  private acquire(): void {
    const until = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const fd = fs.openSync(this.lock, 'wx', 0o600);
        fs.writeSync(fd, String(process.pid));
        fs.closeSync(fd);
        this.locked = true;
        return;
      } catch (e: any) {
        if (e.code !== 'EEXIST') return; // not writable here: a write, if one is needed, fails with a clear error
      }
      const pid = Number(fs.readFileSync(this.lock, { encoding: 'utf8', flag: 'r' }).trim() || NaN);
      if (!Number.isInteger(pid) || !alive(pid)) { fs.rmSync(this.lock, { force: true }); continue; } // left by a killed run
      if (Date.now() > until) throw new UsageError(`${this.name}: being rewritten by another identity-health run (pid ${pid}, lock ${this.lock}) for more than ${LOCK_WAIT_MS / 1000} s; nothing written`);
      sleep(50);
    }
  }

  /** Temp files of this file left by killed runs (only ever ours: we hold its lock). */
  private cleanStale(): void {
    const re = new RegExp(`^\\.${this.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+(\\.identity-health)?\\.tmp$`);
    for (const e of fs.readdirSync(this.dir)) if (re.test(e)) fs.rmSync(path.join(this.dir, e), { force: true });
  }

  private open(): void {
    this.tmp = path.join(this.dir, `.${this.base}.${process.pid}.identity-health.tmp`);
    const mode = this.stat ? this.stat.mode & 0o7777 : 0o644;
    try {
      this.fd = fs.openSync(this.tmp, 'wx', mode);
      fs.fchmodSync(this.fd, mode);
      if (this.stat && process.getuid?.() === 0) fs.fchownSync(this.fd, this.stat.uid, this.stat.gid);
    } catch (e: any) {
      this.tmp = undefined;
      throw new UsageError(`${this.name}: cannot write in ${this.dir}: ${e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'EROFS' ? 'read-only file system' : e.message}; nothing written`);
    }
    this.changed = true;
  }

  private put(b: Buffer): void {
    try { fs.writeSync(this.fd!, b); } catch (e: any) { throw new UsageError(`${this.name}: cannot write ${this.tmp}: ${e.message}; nothing written`); }
  }

  /** Bytes [start, start + bytes.length) of the new file; `changed` false: the original's bytes there. */
  writeChunk(start: number, bytes: Buffer, changed: boolean): void {
    if (!changed && this.fd === undefined) return;
    if (this.fd === undefined) {
      this.open();
      // The unchanged part before the first change, copied from the original.
      const src = fs.openSync(this.real, 'r');
      const block = Buffer.allocUnsafe(2 ** 20);
      try {
        for (let pos = 0; pos < start;) {
          const n = fs.readSync(src, block, 0, Math.min(block.length, start - pos), pos);
          if (!n) break;
          this.put(block.subarray(0, n));
          pos += n;
        }
      } finally { fs.closeSync(src); }
    }
    this.put(bytes);
  }

  writeAll(bytes: Buffer): void { if (this.fd === undefined) this.open(); this.put(bytes); }

  /** Refuses when the file changed since it was read (another program wrote it meanwhile). */
  check(): void {
    let now: fs.Stats | undefined;
    try { now = fs.statSync(this.real); } catch { /* removed */ }
    const same = (a?: fs.Stats, b?: fs.Stats) => !a && !b || !!a && !!b && a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
    if (!same(this.stat, now)) throw new UsageError(`${this.name}: changed by another program while identity-health was rewriting it; nothing written (run again)`);
  }

  /** fsync and close the temp file (then check() and rename()). */
  finish(): void {
    if (this.fd === undefined) return;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  rename(): void { if (this.tmp) { fs.renameSync(this.tmp, this.real); this.tmp = undefined; } }

  commit(): void { this.finish(); this.check(); this.rename(); }

  /** Removes the temp file (if not renamed) and the lock. */
  release(): void {
    if (this.fd !== undefined) { try { fs.closeSync(this.fd); } catch { /* closed */ } this.fd = undefined; }
    if (this.tmp) { fs.rmSync(this.tmp, { force: true }); this.tmp = undefined; }
    if (this.locked) { fs.rmSync(this.lock, { force: true }); this.locked = false; }
    live.delete(this);
  }
}

type Op = ' ' | '-' | '+';

function lines(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

/**
 * A unified diff (3 lines of context) written chunk by chunk: feed each chunk's old and new text
 * in order. Within a chunk, a small LCS over the changed middle.
 */
export class DiffWriter {
  private a = 0;
  private b = 0;
  private ctx: string[] = [];
  private hunk?: { a: number; b: number; ops: Array<[Op, string]>; eq: number };
  private header = false;

  constructor(private readonly name: string, private readonly out: (s: string) => void) {}

  feed(oldText: string, newText: string): void {
    if (oldText === newText) return this.equal(lines(oldText));
    const A = lines(oldText);
    const B = lines(newText);
    let pre = 0;
    while (pre < A.length && pre < B.length && A[pre] === B[pre]) pre++;
    let suf = 0;
    while (suf < A.length - pre && suf < B.length - pre && A[A.length - 1 - suf] === B[B.length - 1 - suf]) suf++;
    this.equal(A.slice(0, pre));
    const a2 = A.slice(pre, A.length - suf);
    const b2 = B.slice(pre, B.length - suf);
    const m = a2.length, n = b2.length;
    if (m * n <= 4_000_000) {
      const L = Array.from({ length: m + 1 }, () => new Uint32Array(n + 1));
      for (let i = m - 1; i >= 0; i--) for (let j = n - 1; j >= 0; j--) L[i][j] = a2[i] === b2[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
      let i = 0, j = 0;
      while (i < m || j < n) {
        if (i < m && j < n && a2[i] === b2[j]) { this.op(' ', a2[i]); i++; j++; }
        else if (j < n && (i === m || L[i][j + 1] >= L[i + 1][j])) this.op('+', b2[j++]);
        else this.op('-', a2[i++]);
      }
    } else {
      for (const l of a2) this.op('-', l);
      for (const l of b2) this.op('+', l);
    }
    this.equal(A.slice(A.length - suf));
  }

  /** A run of equal lines: only its first lines (closing an open hunk) and last 3 (context) matter. */
  private equal(run: string[]): void {
    let k = 0;
    while (this.hunk && k < run.length) this.op(' ', run[k++]);
    if (k >= run.length) return;
    const rest = run.length - k;
    this.a += rest;
    this.b += rest;
    this.ctx = [...this.ctx, ...run.slice(Math.max(k, run.length - 3))].slice(-3);
  }

  private op(op: Op, line: string): void {
    if (op === ' ') {
      this.a++; this.b++;
      if (!this.hunk) { this.ctx.push(line); if (this.ctx.length > 3) this.ctx.shift(); return; }
      this.hunk.ops.push([op, line]);
      // 7 equal lines: more than 3 after this hunk plus 3 before the next; close it.
      if (++this.hunk.eq === 7) {
        const tail = this.hunk.ops.splice(this.hunk.ops.length - 4, 4);
        this.hunk.eq = 3;
        this.emit();
        this.ctx = tail.slice(1).map(([, l]) => l);
      }
      return;
    }
    if (!this.hunk) {
      this.hunk = { a: this.a - this.ctx.length, b: this.b - this.ctx.length, ops: this.ctx.map((l): [Op, string] => [' ', l]), eq: 0 };
      this.ctx = [];
    }
    this.hunk.ops.push([op, line]);
    this.hunk.eq = 0;
    if (op === '-') this.a++; else this.b++;
  }

  private emit(): void {
    const h = this.hunk!;
    this.hunk = undefined;
    while (h.ops.length && h.eq > 3 && h.ops[h.ops.length - 1][0] === ' ') { h.ops.pop(); h.eq--; }
    const aLen = h.ops.filter(([o]) => o !== '+').length;
    const bLen = h.ops.filter(([o]) => o !== '-').length;
    if (!this.header) { this.out(`--- a/${this.name}\n+++ b/${this.name}\n`); this.header = true; }
    this.out(`@@ -${h.a + (aLen ? 1 : 0)},${aLen} +${h.b + (bLen ? 1 : 0)},${bLen} @@\n${h.ops.map(([o, l]) => o + l).join('\n')}\n`);
  }

  end(): void { if (this.hunk) this.emit(); }
}

/** A unified diff of two whole texts (3 lines of context); '' when equal. */
export function unifiedDiff(a: string, b: string, name: string): string {
  let out = '';
  const d = new DiffWriter(name, (s) => { out += s; });
  d.feed(a, b);
  d.end();
  return out;
}
