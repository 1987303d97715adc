/**
 * YAML in and out. Reading: files, directories (recursively, *.yaml|*.yml) and stdin, with a
 * size limit so a huge input fails with a message instead of exhausting the heap. Writing: only
 * the nodes that changed are rewritten, as text edits at their source positions, so every other
 * byte (documents, comments, key order, quoting, indentation style) stays as it was and a second
 * run is byte-identical. The common edits (a key appended to a block map, an item inserted at the
 * start of a block-sequence line) are exact by construction; any other edit (a scalar or flow
 * collection replaced) is checked by re-parsing that document, and if a rare shape defeats the
 * text edits, the document is re-rendered from its patched node tree (comments and quoting kept,
 * indentation normalised) instead.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { deepEqual } from '../pod-template/apply';
import { UsageError } from './errors';

export interface Source { readonly name: string; readonly file?: string; readonly text: string }
export interface Parsed { readonly source: Source; readonly docs: YAML.Document.Parsed[]; readonly values: unknown[] }

export const DEFAULT_MAX_MB = 32;

/**
 * Every YAML we write is written for YAML 1.1 readers too: strings such a reader would take for
 * something else (2018-02-01 a timestamp, on/yes/y a boolean, 0755 octal) are quoted. kustomize
 * (kyaml) read our unquoted IMDS api-version `2018-02-01` as a timestamp and wrote
 * `2018-02-01T00:00:00Z` (kustomize v5.7.1, test/slow/pipelines); Kyverno reads YAML 1.1 too.
 * Reading stays YAML 1.2.
 */
export const WRITE_VERSION = '1.1' as const;

/** `bytes` undefined: a stream cut off at the limit, whose size is unknown. */
function tooBig(name: string, bytes: number | undefined, maxMb: number): UsageError {
  const size = bytes === undefined ? `more than ${maxMb} MB` : `${(bytes / 2 ** 20).toFixed(1)} MB`;
  return new UsageError(`${name}: input is ${size}, above the limit of ${maxMb} MB (raise it with --max-input-mb)`);
}

function listYaml(dir: string, out: string[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) listYaml(p, out);
    else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(p);
  }
}

function readStdin(maxMb: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(1 << 20);
  let total = 0;
  for (;;) {
    let n: number;
    try { n = fs.readSync(0, buf, 0, buf.length, null); } catch (e: any) {
      if (e.code === 'EAGAIN') continue; // non-blocking stdin: retry
      if (e.code === 'EOF') break;
      throw new UsageError(`<stdin>: cannot read: ${e.message}`);
    }
    if (n === 0) break;
    total += n;
    if (total > maxMb * 2 ** 20) throw tooBig('<stdin>', undefined, maxMb);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Every input, in argument order, directories expanded in name order. */
export function readInputs(paths: readonly string[], maxMb = DEFAULT_MAX_MB): Source[] {
  const out: Source[] = [];
  for (const p of paths) {
    if (p === '-') { out.push({ name: '<stdin>', text: readStdin(maxMb) }); continue; }
    let files: string[];
    try {
      if (fs.statSync(p).isDirectory()) {
        files = [];
        listYaml(p, files);
        if (files.length === 0) throw new UsageError(`${p}: directory has no manifests (*.yaml or *.yml, searched recursively)`);
      } else files = [p];
    } catch (e: any) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`${p}: cannot read: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
    }
    for (const f of files) {
      try {
        const size = fs.statSync(f).size;
        if (size > maxMb * 2 ** 20) throw tooBig(f, size, maxMb);
        out.push({ name: f, file: f, text: fs.readFileSync(f, 'utf8') });
      } catch (e: any) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(`${f}: cannot read: ${e.code === 'EACCES' ? 'permission denied' : e.message}`);
      }
    }
  }
  return out;
}

/** All documents of one source; a YAML error becomes `file:line:column: message`. */
export function parse(source: Source): Parsed {
  const docs = YAML.parseAllDocuments(source.text, { prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  for (const d of list) {
    const err = d.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      const where = pos ? `${source.name}:${pos.line}:${pos.col}` : source.name;
      throw new UsageError(`${where}: invalid YAML: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
    }
  }
  const values = list.map((d) => d.toJS({ maxAliasCount: 1000 }));
  return { source, docs: list, values };
}

// ---- writing back ----

interface Edit { at: number; end: number; text: string; seq: number }

/** Kubernetes style differs between files (`- name` under the key, or indented): follow the document. */
function detectIndentSeq(text: string, from: number, to: number): boolean {
  const m = /^( *)[^\s#-][^\n]*:[ \t]*\n( *)- /m.exec(text.slice(from, to));
  return m ? m[2].length > m[1].length : true;
}

function lineStart(text: string, at: number): number { return text.lastIndexOf('\n', at - 1) + 1; }

function indentLines(block: string, indent: number): string {
  const pad = ' '.repeat(indent);
  return block.split('\n').map((l) => (l ? pad + l : l)).join('\n');
}

function isBlock(node: unknown): node is YAML.YAMLMap | YAML.YAMLSeq {
  return (YAML.isMap(node) || YAML.isSeq(node)) && !node.flow;
}

function sameItem(a: unknown, b: unknown): boolean {
  if (deepEqual(a, b)) return true;
  const name = (x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? (x as any).name : undefined);
  return name(a) !== undefined && name(a) === name(b);
}

// The same parts go into every workload of a stream: render each once.
const rendered = new Map<string, string>();

class TextEditor {
  readonly edits: Edit[] = [];
  /** An edit that is not exact by construction was made: verify the result. */
  risky = false;
  private n = 0;
  constructor(private readonly text: string, private readonly indentSeq: boolean) {}

  private render(value: unknown): string {
    const key = `${this.indentSeq}${JSON.stringify(value)}`;
    let out = rendered.get(key);
    if (out === undefined) {
      out = YAML.stringify(value, { lineWidth: 0, indentSeq: this.indentSeq, aliasDuplicateObjects: false, version: WRITE_VERSION });
      if (rendered.size < 1000) rendered.set(key, out);
    }
    return out;
  }

  private add(at: number, end: number, text: string): void { this.edits.push({ at, end, text, seq: this.n++ }); }

  /** Text edits that turn `node` (whose JSON is `before`) into `after`; throws where it cannot. */
  diff(node: unknown, before: unknown, after: unknown): void {
    if (deepEqual(before, after)) return;
    if (YAML.isMap(node) && isBlock(node) && isObj(before) && isObj(after)) return this.diffMap(node, before, after);
    if (YAML.isSeq(node) && isBlock(node) && Array.isArray(before) && Array.isArray(after)) return this.diffSeq(node, before, after);
    // A scalar or flow collection: replace its text in place, in flow style on one line.
    const r = (node as YAML.Node | null)?.range;
    if (!r || (isObj(after) || Array.isArray(after)) && r[0] === r[1]) throw new Error('no source range');
    const flow = YAML.stringify(after, { collectionStyle: 'flow', lineWidth: 0, doubleQuotedMinMultiLineLength: Infinity, version: WRITE_VERSION }).replace(/\n$/, '');
    if (flow.includes('\n')) throw new Error('multi-line flow value');
    this.risky = true;
    this.add(r[0], r[1], flow);
  }

  private diffMap(node: YAML.YAMLMap, before: Record<string, unknown>, after: Record<string, unknown>): void {
    for (const k of Object.keys(before)) if (!(k in after)) throw new Error(`key ${k} removed`);
    const added: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(after)) {
      if (!(k in before)) { added[k] = v; continue; }
      this.diff(node.get(k, true), before[k], v);
    }
    if (!Object.keys(added).length) return;
    const first = node.items[0]?.key as YAML.Node | undefined;
    const r = node.range;
    if (!first?.range || !r) throw new Error('empty map');
    const indent = first.range[0] - lineStart(this.text, first.range[0]);
    const at = r[1];
    const nl = this.text[at - 1] === '\n' ? '' : '\n';
    this.add(at, at, nl + indentLines(this.render(added), indent));
  }

  private diffSeq(node: YAML.YAMLSeq, before: unknown[], after: unknown[]): void {
    const items = node.items as YAML.Node[];
    const r = node.range!;
    const indent = r[0] - lineStart(this.text, r[0]);
    let i = 0;
    for (const v of after) {
      if (i < before.length && sameItem(before[i], v)) { this.diff(items[i], before[i], v); i++; continue; }
      // Insert before item i (at the start of its `- ` line) or after the last item.
      let at: number;
      let nl = '';
      if (i < before.length) {
        const dash = this.text.lastIndexOf('-', items[i].range![0]);
        at = lineStart(this.text, dash);
        if (this.text.slice(at, dash).trim()) throw new Error('item not at line start');
        // Comment lines right above the item belong to it: insert above them.
        while (at > 0) {
          const prev = lineStart(this.text, at - 1);
          if (!this.text.slice(prev, at).trim().startsWith('#')) break;
          at = prev;
        }
      } else {
        at = r[1];
        if (this.text[at - 1] !== '\n') nl = '\n';
      }
      this.add(at, at, nl + indentLines(this.render([v]), indent));
    }
    if (i < before.length) throw new Error('items removed or reordered');
  }
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function applyEdits(text: string, edits: Edit[]): string {
  // One pass over the text (edits never overlap); inserts at the same position keep their order.
  const sorted = [...edits].sort((a, b) => a.at - b.at || a.seq - b.seq);
  const parts: string[] = [];
  let pos = 0;
  for (const e of sorted) {
    parts.push(text.slice(pos, e.at), e.text);
    pos = Math.max(pos, e.end);
  }
  parts.push(text.slice(pos));
  return parts.join('');
}

/** Patch the node tree in place (the fallback): reuse every node whose value did not change. */
function patchNode(doc: YAML.Document, node: unknown, before: unknown, after: unknown): unknown {
  if (deepEqual(before, after)) return node;
  if (YAML.isMap(node) && isObj(before) && isObj(after)) {
    for (const [k, v] of Object.entries(after)) {
      node.set(k, k in before ? patchNode(doc, node.get(k, true), before[k], v) : doc.createNode(v));
    }
    return node;
  }
  if (YAML.isSeq(node) && Array.isArray(before) && Array.isArray(after)) {
    let i = 0;
    node.items = after.map((v) => (i < before.length && sameItem(before[i], v) ? patchNode(doc, node.items[i], before[i++], v) : doc.createNode(v)));
    return node;
  }
  return doc.createNode(after);
}

/** Document `i` re-rendered from its patched node tree: the fallback for shapes the text edits cannot handle. */
function renderDocument(p: Parsed, i: number, after: unknown): string {
  const d = p.docs[i];
  const text = p.source.text;
  const c = d.contents as YAML.Node;
  patchNode(d, c, p.values[i], after);
  const w = new YAML.Document(undefined, { version: WRITE_VERSION });
  w.contents = c;
  let out = w.toString({ lineWidth: 0, indentSeq: detectIndentSeq(text, d.range[0], d.range[2]) });
  if (text[c.range![1] - 1] !== '\n') out = out.replace(/\n$/, '');
  return text.slice(d.range[0], c.range![0]) + out + text.slice(c.range![1], d.range[2]);
}

/** Document `i` with `after` written in as text edits, or undefined where that is not safe. */
function editDocument(p: Parsed, i: number, after: unknown, crlf: boolean): string | undefined {
  const d = p.docs[i];
  const text = p.source.text;
  const [from, , to] = d.range;
  try {
    const ed = new TextEditor(text, detectIndentSeq(text, from, to));
    ed.diff(d.contents, p.values[i], after);
    const edits = ed.edits.map((e) => ({ ...e, at: e.at - from, end: e.end - from, text: crlf ? e.text.replace(/\r?\n/g, '\r\n') : e.text }));
    const out = applyEdits(text.slice(from, to), edits);
    if (!ed.risky) return out;
    const check = YAML.parseDocument(out);
    return !check.errors.length && deepEqual(check.toJS(), after) ? out : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The source text with document `i` replaced by `changes.get(i)` (JSON), touching only what
 * changed. Unchanged documents and everything between documents keep their bytes.
 */
export function rewrite(p: Parsed, changes: ReadonlyMap<number, unknown>): string {
  if (changes.size === 0) return p.source.text;
  const text = p.source.text;
  const parts: string[] = [];
  let pos = 0;
  const crlf = text.includes('\r\n'); // once per file: per document it would be quadratic
  for (const i of [...changes.keys()].sort((a, b) => a - b)) {
    const after = changes.get(i);
    const [from, , to] = p.docs[i].range;
    parts.push(text.slice(pos, from), editDocument(p, i, after, crlf) ?? renderDocument(p, i, after));
    pos = to;
  }
  parts.push(text.slice(pos));
  return parts.join('');
}

/** Write `text` to `file` atomically: a temp file in the same directory, fsync, then rename. */
export function writeAtomic(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  let mode = 0o644;
  try { mode = fs.statSync(file).mode & 0o777; } catch { /* new file */ }
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

/** A unified diff (3 lines of context) of two texts; '' when equal. Small LCS over the changed middle. */
export function unifiedDiff(a: string, b: string, name: string): string {
  if (a === b) return '';
  const A = a.split('\n');
  const B = b.split('\n');
  let pre = 0;
  while (pre < A.length && pre < B.length && A[pre] === B[pre]) pre++;
  let suf = 0;
  while (suf < A.length - pre && suf < B.length - pre && A[A.length - 1 - suf] === B[B.length - 1 - suf]) suf++;
  const a2 = A.slice(pre, A.length - suf);
  const b2 = B.slice(pre, B.length - suf);
  // Edit script over the middle: LCS when small, else delete-all/insert-all.
  const ops: Array<[' ' | '-' | '+', string]> = [];
  if (a2.length * b2.length <= 4_000_000) {
    const m = a2.length, n = b2.length;
    const L = Array.from({ length: m + 1 }, () => new Uint32Array(n + 1));
    for (let i = m - 1; i >= 0; i--) for (let j = n - 1; j >= 0; j--) L[i][j] = a2[i] === b2[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    let i = 0, j = 0;
    while (i < m || j < n) {
      if (i < m && j < n && a2[i] === b2[j]) { ops.push([' ', a2[i]]); i++; j++; }
      else if (j < n && (i === m || L[i][j + 1] >= L[i + 1][j])) ops.push(['+', b2[j++]]);
      else ops.push(['-', a2[i++]]);
    }
  } else {
    a2.forEach((l) => ops.push(['-', l]));
    b2.forEach((l) => ops.push(['+', l]));
  }
  const all: Array<[' ' | '-' | '+', string]> = [...A.slice(0, pre).map((l): [' ', string] => [' ', l]), ...ops, ...A.slice(A.length - suf).map((l): [' ', string] => [' ', l])];
  // Group into hunks with 3 lines of context.
  const out = [`--- a/${name}`, `+++ b/${name}`];
  let k = 0;
  const ai = [0], bi = [0];
  for (const [op] of all) { ai.push(ai[ai.length - 1] + (op !== '+' ? 1 : 0)); bi.push(bi[bi.length - 1] + (op !== '-' ? 1 : 0)); }
  while (k < all.length) {
    if (all[k][0] === ' ') { k++; continue; }
    const start = Math.max(0, k - 3);
    let end = k;
    for (;;) {
      while (end < all.length && all[end][0] !== ' ') end++;
      let next = end;
      while (next < all.length && all[next][0] === ' ' && next - end < 7) next++;
      if (next < all.length && all[next][0] !== ' ' && next - end < 7) { end = next; continue; }
      break;
    }
    const stop = Math.min(all.length, end + 3);
    const hunk = all.slice(start, stop);
    const aLen = hunk.filter(([op]) => op !== '+').length;
    const bLen = hunk.filter(([op]) => op !== '-').length;
    out.push(`@@ -${ai[start] + (aLen ? 1 : 0)},${aLen} +${bi[start] + (bLen ? 1 : 0)},${bLen} @@`);
    for (const [op, l] of hunk) out.push(op + l);
    k = stop;
  }
  return out.join('\n') + '\n';
}
