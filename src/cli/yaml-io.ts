/**
 * YAML in and out, streamed. Reading: files, directories (recursively, *.yaml|*.yml, symlinks
 * followed) and stdin (spooled to a temp file), cut into chunks of whole documents at `---`
 * lines, so memory is bounded by the chunk (about 16 KB of text, or one large document), not
 * by the input. A total size limit per run (--max-input-mb) bounds time. Bytes are kept: each
 * chunk is decoded as UTF-8 when it is valid UTF-8, else as Latin-1 (one char per byte), and
 * written back in the same encoding, so bytes outside the edited nodes never change. UTF-16/32
 * and NUL bytes are refused; FIFOs and devices are refused before any read (no hang).
 *
 * Writing: only the nodes that changed are rewritten, as text edits at their source positions, so
 * every other byte (documents, comments, key order, quoting, indentation style) stays as it was and
 * a second run is byte-identical. The common edits (a key appended to a block map, an item inserted
 * at the start of a block-sequence line) are exact by construction; any other edit (a scalar or
 * flow collection replaced) is checked by re-parsing that document, and if a rare shape defeats
 * the text edits, the document is re-rendered from its patched node tree (comments and quoting
 * kept, indentation normalised) instead.
 */
import { isUtf8 } from 'buffer';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { deepEqual } from '../pod-template/apply';
import { UsageError } from './errors';
import { FastDoc, parseFast, Skipped } from './fast-yaml';
import { tempPath } from './output';

/** One input: `path` is what is read (a symlink resolved; stdin's spool file); `file` what the user named. */
export interface Input { readonly name: string; readonly path: string; readonly file?: string; readonly size: number }
/** A run of whole documents of one input. `line`: 0-based line of its first byte in the input. */
export interface Chunk { readonly input: Input; readonly text: string; readonly latin1: boolean; readonly line: number; readonly start: number; readonly end: number; readonly last: boolean }
export interface Source { readonly name: string; readonly text: string }
export interface Parsed { readonly source: Source; readonly docs: YAML.Document.Parsed[]; readonly values: unknown[]; readonly lineBase: number }

/** Total MB read per run: about 350,000 small Deployments; memory does not grow with it (streamed). */
export const DEFAULT_MAX_MB = 256;
/** A single document above this is refused: it is parsed whole (etcd stores objects up to 1.5 MB). */
export const MAX_DOCUMENT_MB = 32;
const CHUNK = 16 * 1024;
const MB = 2 ** 20;

/**
 * Every YAML we write is written for YAML 1.1 readers too: strings such a reader would take for
 * something else (2018-02-01 a timestamp, on/yes/y a boolean, 0755 octal) are quoted. kustomize
 * (kyaml) read our unquoted IMDS api-version `2018-02-01` as a timestamp and wrote
 * `2018-02-01T00:00:00Z` (kustomize v5.7.1, test/slow/pipelines); Kyverno reads YAML 1.1 too.
 * Reading stays YAML 1.2.
 */
export const WRITE_VERSION = '1.1' as const;

function mb(bytes: number): string { return `${(bytes / MB).toFixed(1)} MB`; }

/** The --max-input-mb value, validated (it arrives as the string the user typed, or the default). */
export function maxInputMb(raw: unknown): number {
  const n = raw === undefined ? DEFAULT_MAX_MB : Number(raw);
  if (typeof raw === 'boolean' || !Number.isFinite(n) || n <= 0) throw new UsageError(`invalid --max-input-mb "${raw}": expected a positive number of MB`);
  return n;
}

function kindOf(st: fs.Stats): string {
  return st.isFIFO() ? 'a FIFO (named pipe)' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';
}

function cannotRead(p: string, e: any): UsageError {
  if (e instanceof UsageError) return e;
  const why = e.code === 'ENOENT' ? 'no such file or directory' : e.code === 'EACCES' ? 'permission denied' : e.code === 'ELOOP' ? 'too many levels of symbolic links' : e.message;
  return new UsageError(`${p}: cannot read: ${why}`);
}

/** *.yaml|*.yml under `dir`, in name order; symlinks followed (to files and directories, loops cut). */
function listYaml(dir: string, out: string[], seen: Set<string>): void {
  const real = fs.realpathSync(dir);
  if (seen.has(real)) return;
  seen.add(real);
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, e.name);
    let st: fs.Stats = e as unknown as fs.Stats;
    if (e.isSymbolicLink()) {
      try { st = fs.statSync(p); } catch (err: any) {
        if (/\.ya?ml$/i.test(e.name)) throw new UsageError(`${p}: cannot read: symbolic link to ${fs.readlinkSync(p)}: ${err.code === 'ENOENT' ? 'target does not exist' : err.message}`);
        continue;
      }
    }
    if (st.isDirectory()) listYaml(p, out, seen);
    else if (/\.ya?ml$/i.test(e.name)) {
      if (!st.isFile()) throw new UsageError(`${p}: cannot read: ${kindOf(st)}; give regular files`);
      out.push(p);
    }
  }
}




/** Stdin copied to a temp file (removed at exit) up to `limit` bytes, so it reads like any file. */
function spoolStdin(limit: number, maxMb: number): Input {
  const file = tempPath('stdin');
  const out = fs.openSync(file, 'w', 0o600);
  const buf = Buffer.allocUnsafe(MB);
  let total = 0;
  try {
    for (;;) {
      let n: number;
      try { n = fs.readSync(0, buf, 0, buf.length, null); } catch (e: any) {
        if (e.code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); continue; } // non-blocking stdin
        if (e.code === 'EOF') break;
        throw new UsageError(`<stdin>: cannot read: ${e.message}`);
      }
      if (n === 0) break;
      total += n;
      if (total > limit) throw new UsageError(`<stdin>: input is more than ${maxMb} MB, above the limit of ${maxMb} MB (raise it with --max-input-mb)`);
      fs.writeSync(out, buf, 0, n);
    }
  } finally { fs.closeSync(out); }
  return { name: '<stdin>', path: file, size: total };
}

/**
 * Every input, in argument order, directories expanded in name order; checked before anything is
 * parsed: missing or unreadable paths, FIFOs and devices, and the total size against the limit.
 */
export function resolveInputs(paths: readonly string[], maxMbRaw?: unknown): Input[] {
  const maxMb = maxInputMb(maxMbRaw);
  const limit = maxMb * MB;
  const out: Input[] = [];
  const files: string[] = [];
  for (const p of paths) {
    if (p === '-') { files.push('-'); continue; }
    try {
      const st = fs.statSync(p);
      if (st.isDirectory()) {
        const found: string[] = [];
        listYaml(p, found, new Set());
        if (found.length === 0) throw new UsageError(`${p}: directory has no manifests (*.yaml or *.yml, searched recursively)`);
        files.push(...found);
      } else if (!st.isFile()) {
        throw new UsageError(`${p}: cannot read: ${kindOf(st)}; give a regular file, a directory, or - for stdin`);
      } else files.push(p);
    } catch (e) { throw cannotRead(p, e); }
  }
  let total = 0;
  for (const f of files) {
    if (f === '-') continue;
    try {
      const st = fs.statSync(f);
      fs.accessSync(f, fs.constants.R_OK);
      if (st.size > limit) throw new UsageError(`${f}: input is ${mb(st.size)}, above the limit of ${maxMb} MB (raise it with --max-input-mb)`);
      total += st.size;
    } catch (e) { throw cannotRead(f, e); }
  }
  if (total > limit) throw new UsageError(`inputs total ${mb(total)} (${files.length} files), above the limit of ${maxMb} MB per run (raise it with --max-input-mb)`);
  for (const f of files) {
    if (f === '-') out.push(spoolStdin(limit - total, maxMb));
    else out.push({ name: f, path: fs.realpathSync(f), file: f, size: fs.statSync(f).size });
  }
  return out;
}

/** Start of the first `---` line at or after `from` that can end a chunk; -1 when none (yet). */
function findCut(buf: Buffer, from: number): number {
  let i = from;
  for (;;) {
    const k = buf.indexOf('\n---', i);
    if (k < 0 || k + 4 >= buf.length) return -1;
    const c = buf[k + 4];
    // Not after a directive line (%YAML, %TAG): a directive belongs to the document that follows.
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      if (buf[buf.lastIndexOf(0x0a, k - 1) + 1] !== 0x25) return k + 1;
    }
    i = k + 1;
  }
}

function countLines(buf: Buffer): number {
  let n = 0;
  for (let k = buf.indexOf(0x0a); k !== -1; k = buf.indexOf(0x0a, k + 1)) n++;
  return n;
}

function checkEncoding(input: Input, buf: Buffer, first: boolean): void {
  if (first && buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff) || (buf.length >= 4 && buf.readUInt32BE(0) === 0xfeff))) {
    throw new UsageError(`${input.name}: the text is UTF-16 or UTF-32 (byte-order mark); Kubernetes YAML is UTF-8: convert it (iconv -f UTF-16 -t UTF-8 ${input.file ?? 'file'}); nothing written`);
  }
  if (buf.indexOf(0) !== -1) {
    throw new UsageError(`${input.name}: contains NUL bytes: binary, or UTF-16/UTF-32 without a byte-order mark; Kubernetes YAML is UTF-8; nothing written`);
  }
}

/** The chunks of one input, in order; together their bytes are exactly the input's. */
export function* readChunks(input: Input): Generator<Chunk> {
  let fd: number;
  try { fd = fs.openSync(input.path, 'r'); } catch (e) { throw cannotRead(input.name, e); }
  try {
    const block = Buffer.allocUnsafe(MB);
    let pending = Buffer.alloc(0);
    let start = 0, line = 0, eof = false, first = true;
    while (!eof || pending.length) {
      let cut = -1;
      for (;;) {
        if (eof) { cut = pending.length; break; }
        if (pending.length >= CHUNK && (cut = findCut(pending, CHUNK / 4)) >= 0) break;
        if (pending.length > MAX_DOCUMENT_MB * MB + CHUNK) {
          throw new UsageError(`${input.name}:${line + 1}: a document of more than ${MAX_DOCUMENT_MB} MB (documents are parsed whole; split it, e.g. a List into documents)`);
        }
        const n = fs.readSync(fd, block, 0, block.length, null);
        if (n === 0) eof = true; else pending = pending.length ? Buffer.concat([pending, block.subarray(0, n)]) : Buffer.from(block.subarray(0, n));
      }
      const buf = pending.subarray(0, cut);
      pending = pending.subarray(cut);
      if (!buf.length && !first) continue;
      checkEncoding(input, buf, first);
      const latin1 = !isUtf8(buf);
      yield { input, text: buf.toString(latin1 ? 'latin1' : 'utf8'), latin1, line, start, end: start + buf.length, last: eof && !pending.length };
      first = false;
      line += countLines(buf);
      start += buf.length;
    }
  } finally { fs.closeSync(fd); }
}

/**
 * Document `i` of a chunk, left by the fast reader, read by the general parser on its own text
 * (node ranges shifted to the chunk); false when that is not one clean document (then the whole
 * chunk is parsed by the general parser, which reports any error with its position).
 */
function general(text: string, d: Skipped, fast: { docs: Array<FastDoc | Skipped | YAML.Document.Parsed>; values: unknown[] }, i: number): boolean {
  const docs = YAML.parseAllDocuments(text.slice(d.from, d.to), { uniqueKeys: true });
  if (!Array.isArray(docs) || docs.length !== 1 || docs[0].errors.length) return false;
  const doc = docs[0];
  let value: unknown;
  try { value = doc.toJS({ maxAliasCount: 1000 }); } catch { return false; }
  const shift = (r?: number[] | null) => { if (r) for (let k = 0; k < r.length; k++) r[k] += d.from; };
  shift(doc.range);
  YAML.visit(doc, { Node: (_k, n) => { shift(n.range); } }); // keys are visited as nodes too
  fast.docs[i] = doc;
  fast.values[i] = value;
  return true;
}

/** All documents of one chunk; a YAML error becomes `file:line:column: message`. */
export function parse(chunk: Chunk | Source, lineBase = 0): Parsed {
  const source: Source = 'input' in chunk ? { name: chunk.input.name, text: chunk.text } : chunk;
  const base = 'input' in chunk ? chunk.line : lineBase;
  const fast = parseFast(source.text);
  if (fast && fast.docs.every((d, i) => 'fast' in d || general(source.text, d, fast, i))) {
    return { source, docs: fast.docs as unknown as YAML.Document.Parsed[], values: fast.values, lineBase: base };
  }
  const docs = YAML.parseAllDocuments(source.text, { prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  for (const d of list) {
    const err = d.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      const where = pos ? `${source.name}:${base + pos.line}:${pos.col}` : source.name;
      throw new UsageError(`${where}: invalid YAML: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
    }
  }
  const p: Parsed = { source, docs: list, values: [], lineBase: base };
  for (const [i, d] of list.entries()) {
    try {
      p.values.push(d.toJS({ maxAliasCount: 1000 }));
    } catch (e: any) {
      // An alias bomb (aliases of aliases expanding exponentially) or an alias to nothing.
      const why = /alias count/i.test(e.message) ? 'too many alias expansions (a YAML alias bomb?)' : e.message;
      throw new UsageError(`${source.name}:${lineAt(p, docStart(p, i))}: invalid YAML: ${why}`);
    }
  }
  return p;
}

function docStart(p: Parsed, i: number): number {
  return (p.docs[i].contents as { range?: number[] } | null)?.range?.[0] ?? p.docs[i].range[0];
}

const lineStarts = new WeakMap<Parsed, number[]>();

/** 1-based line in the input of character offset `at` of the parsed chunk (newlines indexed once per chunk). */
export function lineAt(p: Parsed, at: number): number {
  let starts = lineStarts.get(p);
  if (!starts) {
    starts = [0];
    for (let k = p.source.text.indexOf('\n'); k !== -1; k = p.source.text.indexOf('\n', k + 1)) starts.push(k + 1);
    lineStarts.set(p, starts);
  }
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid] <= at) lo = mid; else hi = mid - 1; }
  return p.lineBase + lo + 1;
}

/** 1-based line of document `i`, or of item `item` of a List document. */
export function lineOf(p: Parsed, i: number, item?: number): number {
  if (item !== undefined) {
    const node = (p.docs[i].get('items', true) as YAML.YAMLSeq | undefined)?.items?.[item] as YAML.Node | undefined;
    if (node?.range) return lineAt(p, node.range[0]);
  }
  return lineAt(p, docStart(p, i));
}

/** A `kind: List` (or `*List`, as kubectl prints) document: its items are objects like documents. */
export function isList(v: unknown): v is { kind: string; items: unknown[] } {
  return !!v && typeof v === 'object' && /List$/.test(String((v as any).kind)) && (v as any).kind !== 'ResourceList' && Array.isArray((v as any).items);
}

/** Every object of a parsed chunk, List items expanded: [document index, item index or undefined, value]. */
export function* objects(p: Parsed): Generator<[number, number | undefined, unknown]> {
  for (const [i, v] of p.values.entries()) {
    if (isList(v)) for (const [j, item] of v.items.entries()) yield [i, j, item];
    else yield [i, undefined, v];
  }
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
  // Containers, env, volumes by name; objects of a List by kind and metadata.name; else equal values.
  const name = (x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? (x as any).name ?? ((x as any).metadata?.name !== undefined ? `${(x as any).kind}/${(x as any).metadata.name}` : undefined) : undefined);
  const n = name(a);
  return (n !== undefined && n === name(b)) || deepEqual(a, b);
}

// The same parts go into every workload of a stream: render each once. Looked up by value among
// the few most recent (a JSON key per lookup cost more than the rendering it saved).
const rendered: Array<{ value: unknown; key: string; out: string }> = [];

class TextEditor {
  readonly edits: Edit[] = [];
  /** An edit that is not exact by construction was made: verify the result. */
  risky = false;
  private n = 0;
  constructor(private readonly text: string, private readonly indentSeq: boolean) {}

  /** `value` as block YAML indented by `indent` spaces (cached: the same parts go into every workload). */
  private render(value: unknown, indent: number): string {
    const key = `${this.indentSeq ? 1 : 0} ${indent}`;
    const k = rendered.findIndex((r) => r.key === key && deepEqual(r.value, value));
    const hit = k >= 0 ? rendered.splice(k, 1)[0] : {
      value, key,
      out: indentLines(YAML.stringify(value, { lineWidth: 0, indentSeq: this.indentSeq, aliasDuplicateObjects: false, version: WRITE_VERSION }), indent),
    };
    rendered.unshift(hit);
    if (rendered.length > 8) rendered.pop();
    return hit.out;
  }

  private add(at: number, end: number, text: string): void { this.edits.push({ at, end, text, seq: this.n++ }); }

  /** Text edits that turn `node` (whose JSON is `before`) into `after`; throws where it cannot. */
  diff(node: unknown, before: unknown, after: unknown): void {
    // Collections are compared by walking them (each node once), not by an equality test per level.
    if (before === after) return;
    if (YAML.isMap(node) && isBlock(node) && isObj(before) && isObj(after)) return this.diffMap(node, before, after);
    if (YAML.isSeq(node) && isBlock(node) && Array.isArray(before) && Array.isArray(after)) return this.diffSeq(node, before, after);
    // A scalar or flow collection: replace its text in place, in flow style on one line.
    if (deepEqual(before, after)) return;
    const r = (node as YAML.Node | null)?.range;
    if (!r || (isObj(after) || Array.isArray(after)) && r[0] === r[1]) throw new Error('no source range');
    const flow = YAML.stringify(after, { collectionStyle: 'flow', lineWidth: 0, doubleQuotedMinMultiLineLength: Infinity, version: WRITE_VERSION }).replace(/\n$/, '');
    if (flow.includes('\n')) throw new Error('multi-line flow value');
    this.risky = true;
    this.add(r[0], r[1], flow);
  }

  private diffMap(node: YAML.YAMLMap, before: Record<string, unknown>, after: Record<string, unknown>): void {
    for (const k in before) if (!(k in after)) throw new Error(`key ${k} removed`);
    let added: Record<string, unknown> | undefined;
    for (const k in after) {
      if (!(k in before)) { (added ??= {})[k] = after[k]; continue; }
      this.diff(node.get(k, true), before[k], after[k]);
    }
    if (!added) return;
    const first = node.items[0]?.key as YAML.Node | undefined;
    const r = node.range;
    if (!first?.range || !r) throw new Error('empty map');
    const indent = first.range[0] - lineStart(this.text, first.range[0]);
    const at = r[1];
    const nl = this.text[at - 1] === '\n' ? '' : '\n';
    this.add(at, at, nl + this.render(added, indent));
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
      this.add(at, at, nl + this.render([v], indent));
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
  let d = p.docs[i];
  const text = p.source.text;
  if ((d as unknown as FastDoc).fast) {
    // Read by the fast reader: this rare path needs the general parser's document (comments and all).
    const [from, , to] = d.range;
    const real = YAML.parseAllDocuments(text.slice(0, to), { uniqueKeys: true }) as YAML.Document.Parsed[];
    d = real.find((x) => x.range[0] >= from && x.contents) ?? real[real.length - 1];
  }
  const c = d.contents as YAML.Node;
  patchNode(d, c, p.values[i], after);
  const w = new YAML.Document(undefined, { version: WRITE_VERSION });
  // The text before the contents (comments, `---`) is kept as it is below: not rendered twice.
  const first = YAML.isCollection(c) ? (c.items[0] as any) : undefined;
  for (const n of [c, YAML.isPair(first) ? first.key : first] as any[]) if (n && n.range?.[0] === c.range![0]) { n.commentBefore = undefined; n.spaceBefore = false; }
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

/** Write `text` to `file` atomically (through a symlink to its target): see InPlaceFile. */
export function writeAtomic(file: string, text: string): void {
  const { InPlaceFile } = require('./output') as typeof import('./output');
  const f = new InPlaceFile(file, true);
  try {
    f.writeAll(Buffer.from(text));
    f.commit();
  } finally { f.release(); }
}
