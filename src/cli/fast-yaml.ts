/**
 * A fast reader for the plain block YAML that Kubernetes tools print (block maps and sequences,
 * plain and simply quoted scalars, literal block scalars, `{}` and `[]`, comments), about ten
 * times faster than the general parser. It builds the same node classes (with the same source
 * ranges the text edits use) and the same values as the `yaml` package's core schema; anything
 * outside that subset (anchors, aliases, tags, flow collections with content, folded or multi-line
 * scalars, escapes, CRLF, tabs in indentation, directives, duplicate or non-string keys) returns
 * undefined, and the caller parses the chunk with the `yaml` package instead, which also reports
 * errors. test/cli/scale.test.ts checks that both agree on real manifests.
 */
import * as YAML from 'yaml';

/** What the edits read of a parsed document (a subset of YAML.Document.Parsed). */
export interface FastDoc {
  readonly fast: true;
  readonly range: [number, number, number];
  readonly contents: YAML.Node | null;
  readonly errors: never[];
  get(key: string, keepScalar: true): unknown;
}

// Light nodes: the yaml package's own classes cost more than reading the text. They carry the
// package's node-type tag (Symbol.for, as its isMap/isSeq/isScalar read it), items, ranges and get().
const NODE_TYPE = Symbol.for('yaml.node.type');
type Range = [number, number, number];
class LScalar { range!: Range; type?: string; constructor(public value: unknown) {} }
class LPair { constructor(public key: LScalar, public value: Node) {} }
class LMap {
  items: LPair[] = [];
  range!: Range;
  flow = false;
  get(key: unknown): Node | undefined { for (const p of this.items) if (p.key.value === key) return p.value; return undefined; }
}
class LSeq { items: Node[] = []; range!: Range; flow = false; }
type Node = LScalar | LMap | LSeq;
(LScalar.prototype as any)[NODE_TYPE] = Symbol.for('yaml.scalar');
(LPair.prototype as any)[NODE_TYPE] = Symbol.for('yaml.pair');
(LMap.prototype as any)[NODE_TYPE] = Symbol.for('yaml.map');
(LSeq.prototype as any)[NODE_TYPE] = Symbol.for('yaml.seq');
const isScalar = (n: Node): n is LScalar => n instanceof LScalar;

/** Thrown where the reader leaves a document: one object, not an Error (a stack trace per document cost more than the reading). */
class Bail {}
const BAIL = new Bail();
const DEBUG = !!process.env.IH_FAST_DEBUG;
const bail = (): never => { if (DEBUG) console.error(new Error().stack!.split('\n')[2]); throw BAIL; };

const NULL = /^(?:~|null|Null|NULL)$/;
const TRUE = /^(?:true|True|TRUE)$/;
const FALSE = /^(?:false|False|FALSE)$/;
const SIMPLE_INT = /^-?(?:0|[1-9][0-9]{0,14})$/;
const SIMPLE_FLOAT = /^-?(?:0|[1-9][0-9]{0,14})\.[0-9]{1,15}$/;
/** Anything the core schema could read as a number (then only the simple forms are handled here). */
const NUMERIC = /^[-+]?(?:[0-9]|\.[0-9]|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN|0o|0x)/;
/** Plain scalars may not start with these indicators (handled ones: `|`, `{}`, `[]` are checked first). */
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`]/;

/** Letters that start a null or boolean of the core schema (null, Null, true, ..., but not ~). */
const SPECIAL_START = new Set([...'nNtTfF'].map((c) => c.charCodeAt(0)));

function resolvePlain(s: string): unknown {
  // Most keys and values start with another letter: a string, without trying each pattern.
  const c = s.charCodeAt(0) | 0x20;
  if (c >= 0x61 && c <= 0x7a && !SPECIAL_START.has(s.charCodeAt(0))) return s;
  if (s === '' || NULL.test(s)) return null;
  if (TRUE.test(s)) return true;
  if (FALSE.test(s)) return false;
  if (NUMERIC.test(s)) {
    if (SIMPLE_INT.test(s) || SIMPLE_FLOAT.test(s)) return Number(s);
    // Other forms the core schema reads as numbers (1e3, +1, 0x1f, .5, ...), or strings that start
    // like one (10m, 1.2.3): left to the general parser unless clearly not a number.
    if (/^[-+]?(?:[0-9][0-9_]*(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|\.(?:inf|Inf|INF|nan|NaN|NAN))$/.test(s)) bail();
  }
  return s;
}

/** Trailing spaces and tabs removed (the regex only where there are some). */
function trimEnd(s: string): string {
  const c = s.charCodeAt(s.length - 1);
  return c === 32 || c === 9 ? s.replace(/[ \t]+$/, '') : s;
}

interface Line { start: number; end: number; indent: number }

/** indexOf within [from, end) only (a search past the line would make the reader quadratic). */
function find(t: string, what: string, from: number, end: number): number {
  const k = t.slice(from, end).indexOf(what);
  return k < 0 ? -1 : from + k;
}

class Reader {
  private lines: Line[] = [];
  private i = 0;
  constructor(private readonly text: string, from: number, to: number) {
    for (let s = from; s < to;) {
      let e = text.indexOf('\n', s);
      if (e < 0 || e >= to) e = to;
      let k = s;
      while (text.charCodeAt(k) === 32) k++;
      this.lines.push({ start: s, end: e, indent: k - s });
      s = e + 1;
    }
  }

  /** The next line with content (comment-only and blank lines skipped), or undefined. */
  private peek(): Line | undefined {
    while (this.i < this.lines.length) {
      const l = this.lines[this.i];
      const c = this.text.charCodeAt(l.start + l.indent);
      if (l.start + l.indent >= l.end || c === 35 /* # */) { this.i++; continue; }
      if (c === 9 || c === 13) bail(); // tab in indentation, CR
      return l;
    }
    return undefined;
  }

  /** Value ends: the end of the line including its newline, as the yaml package's node ranges. */
  private lineEnd(l: Line): number { return l.end < this.text.length ? l.end + 1 : l.end; }

  document(): { node: Node | null; value: unknown } {
    const l = this.peek();
    if (!l) return { node: null, value: null };
    if (l.indent !== 0) bail();
    const r = this.block(0);
    if (this.peek()) bail(); // content after the top-level node at another indentation
    return r;
  }

  private isSeqItem(l: Line): boolean {
    const p = l.start + l.indent;
    return this.text.charCodeAt(p) === 45 && (p + 1 >= l.end || this.text.charCodeAt(p + 1) === 32);
  }

  private block(indent: number): { node: Node; value: unknown } {
    const l = this.peek()!;
    return this.isSeqItem(l) ? this.seq(l.indent) : this.map(l.indent, l.start + l.indent);
  }

  /** A block map whose keys sit at column `indent`; the first key starts at `first` (maybe after `- `). */
  private map(indent: number, first: number): { node: Node; value: unknown } {
    const node = new LMap();
    const value: Record<string, unknown> = {};
    let keyAt = first;
    let end = first;
    for (;;) {
      const l = this.lines[this.i];
      const t = this.text;
      // The key: plain, or single/double quoted without escapes.
      let k: string;
      let p = keyAt;
      const q = t[p];
      if (q === '"' || q === "'") {
        const close = find(t, q, p + 1, l.end);
        if (close < 0 || close > l.end) bail();
        k = t.slice(p + 1, close);
        if (k.includes('\\') || k.includes(q === "'" ? "'" : '"')) bail();
        p = close + 1;
        if (t[p] !== ':') bail();
      } else {
        let c = find(t, ':', p, l.end);
        while (c >= 0 && !(c + 1 >= l.end || t.charCodeAt(c + 1) === 32)) c = find(t, ':', c + 1, l.end);
        if (c < 0 || c >= l.end) bail();
        k = trimEnd(t.slice(p, c));
        if (!k || INDICATOR.test(k) || k.includes(' #') || k === '<<' || k === '__proto__' || resolvePlain(k) !== k) bail();
        p = c;
      }
      if (Object.prototype.hasOwnProperty.call(value, k)) bail(); // duplicate: the general parser reports it
      const key = new LScalar(k);
      key.range = [keyAt, p, p];
      p++; // past ':'
      const v = this.inlineValue(l, p, indent, true);
      node.items.push(new LPair(key, v.node));
      value[k] = v.value;
      end = isScalar(v.node) || v.node.flow ? v.node.range[2] : v.node.range[1];
      const next = this.peek();
      if (!next || next.indent < indent) break;
      if (next.indent > indent || this.isSeqItem(next)) bail();
      keyAt = next.start + next.indent;
    }
    node.range = [first, end, end];
    return { node, value };
  }

  private seq(indent: number): { node: Node; value: unknown } {
    const node = new LSeq();
    const value: unknown[] = [];
    const first = this.peek()!.start + indent;
    let end = first;
    for (;;) {
      const l = this.lines[this.i];
      const v = this.inlineValue(l, l.start + indent + 1, indent, false);
      node.items.push(v.node);
      value.push(v.value);
      end = isScalar(v.node) || v.node.flow ? v.node.range[2] : v.node.range[1];
      const next = this.peek();
      if (!next || next.indent < indent) break;
      if (next.indent > indent || !this.isSeqItem(next)) {
        // A map key at the same indentation ends an indentless sequence (`key:\n- a\nother: b`).
        if (next.indent === indent && !this.isSeqItem(next)) break;
        bail();
      }
    }
    node.range = [first, end, end];
    return { node, value };
  }

  /** The value after `key:` or `-` at `p` on line `l` (which belongs to a node at `indent`). */
  private inlineValue(l: Line, p: number, indent: number, inMap: boolean): { node: Node; value: unknown } {
    const t = this.text;
    while (p < l.end && t.charCodeAt(p) === 32) p++;
    if (p >= l.end || t.charCodeAt(p) === 35) {
      // Nothing on this line: a nested block (deeper, or a sequence at the same column under a key), or null.
      this.i++;
      const next = this.peek();
      if (next && (next.indent > indent || (inMap && next.indent === indent && this.isSeqItem(next)))) return this.block(next.indent);
      const s = new LScalar(null);
      s.range = [p, p, p];
      return { node: s, value: null };
    }
    const c = t[p];
    if (!inMap && c === '-' && (p + 1 >= l.end || t.charCodeAt(p + 1) === 32)) bail(); // `- - x`
    if (c === '|') return this.literal(l, p, indent);
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      if (t[p + 1] !== close) bail();
      this.rest(l, p + 2);
      const n = c === '{' ? new LMap() : new LSeq();
      n.flow = true;
      n.range = [p, p + 2, this.lineEnd(l)];
      this.i++;
      return { node: n, value: c === '{' ? {} : [] };
    }
    if (c === '"' || c === "'") {
      const close = find(t, c, p + 1, l.end);
      if (close < 0 || close >= l.end) bail();
      const s = t.slice(p + 1, close);
      if (s.includes('\\') || (c === "'" && t[close + 1] === "'")) bail();
      this.rest(l, close + 1);
      const n = new LScalar(s);
      n.type = c === '"' ? 'QUOTE_DOUBLE' : 'QUOTE_SINGLE';
      n.range = [p, close + 1, this.lineEnd(l)];
      this.i++;
      return { node: n, value: s };
    }
    // A map inside a sequence item: `- key: value` (keys of that map at this column).
    if (!inMap) {
      const colon = find(t, ': ', p, l.end);
      const col = (colon >= 0 && colon < l.end) || t[l.end - 1] === ':';
      if (col && !'"\'{['.includes(c)) {
        const hash = find(t, ' #', p, l.end);
        if (hash < 0 || hash > l.end || hash > (colon >= 0 && colon < l.end ? colon : l.end - 1)) return this.map(p - l.start, p);
      }
      if (c === '"' || c === "'") bail();
    }
    // `-x`, `:x`, `?x` start plain scalars (ns-plain-first); other indicators are left to the general parser.
    if (INDICATOR.test(c) && !('-?:'.includes(c) && p + 1 < l.end && t.charCodeAt(p + 1) !== 32)) bail();
    // A plain scalar, up to a comment or the end of the line.
    let e = find(t, ' #', p, l.end);
    if (e < 0 || e > l.end) e = l.end;
    const s = trimEnd(t.slice(p, e));
    if (s.includes(': ') || s.endsWith(':') || s.includes('\t#')) bail();
    const n = new LScalar(resolvePlain(s));
    n.range = [p, p + s.length, this.lineEnd(l)];
    this.i++;
    // A more-indented line next would continue this scalar (multi-line plain): not handled here.
    const next = this.peek();
    if (next && next.indent > indent && !(inMap === false && next.indent === indent)) bail();
    return { node: n, value: n.value };
  }

  /** Only spaces and a comment may follow a quoted scalar or `{}`. */
  private rest(l: Line, p: number): void {
    while (p < l.end && this.text.charCodeAt(p) === 32) p++;
    if (p < l.end && this.text.charCodeAt(p) !== 35) bail();
    if (p < l.end && this.text.charCodeAt(p - 1) !== 32) bail();
  }

  /** `|`, `|-`, `|+` (no explicit indentation): the lines more indented than the parent. */
  private literal(l: Line, p: number, indent: number): { node: Node; value: unknown } {
    const t = this.text;
    const chomp = t[p + 1] === '-' ? 'strip' : t[p + 1] === '+' ? 'keep' : 'clip';
    this.rest(l, p + (chomp === 'clip' ? 1 : 2));
    this.i++;
    let content = -1;
    const body: string[] = [];
    let lastContent = this.i - 1;
    let j = this.i;
    for (; j < this.lines.length; j++) {
      const x = this.lines[j];
      const blank = x.indent === x.end - x.start;
      if (blank) {
        // Spaces-only lines before the content, or longer than its indentation: left to the general parser.
        if (x.indent > 0 && (content < 0 || x.indent > content)) bail();
        body.push('');
        continue;
      }
      if (content < 0) { if (x.indent <= indent) break; content = x.indent; }
      if (x.indent < content) { if (x.indent > indent) bail(); break; }
      if (t.charCodeAt(x.start + content) === 9) bail();
      body.push(t.slice(x.start + content, x.end));
      lastContent = j;
    }
    if (content < 0) bail(); // empty block scalar
    const n = lastContent - this.i + 1;
    const trailing = body.length - n;
    const lines = body.slice(0, n);
    if (lines.some((x) => x.includes('\r'))) bail();
    let s = lines.join('\n');
    if (chomp === 'clip') s += '\n';
    else if (chomp === 'keep') s += '\n'.repeat(1 + trailing);
    // Blank lines after the content belong to it only with keep; a scalar ending the input is left alone.
    if (chomp === 'keep' && trailing) bail();
    const endLine = this.lines[lastContent];
    if (endLine.end >= t.length) bail();
    this.i = lastContent + 1;
    const node = new LScalar(s);
    node.type = 'BLOCK_LITERAL';
    node.range = [p, endLine.end + 1, endLine.end + 1];
    return { node, value: s };
  }
}

function fastDoc(contents: Node | null, range: Range): FastDoc {
  return {
    fast: true, range, contents: contents as unknown as YAML.Node | null, errors: [],
    get: (key: string) => (contents instanceof LMap ? contents.get(key) : undefined),
  };
}

/** A document the fast reader left to the general parser: its bounds in the text. */
export interface Skipped { readonly from: number; readonly to: number }

/**
 * The documents of `text` (whole documents, `---` separated, LF line ends); a document outside
 * the subset read here is returned as its bounds. Undefined when the whole text is left.
 */
export function parseFast(text: string): { docs: Array<FastDoc | Skipped>; values: unknown[] } | undefined {
  if (text.includes('\r') || text.includes('\t') || /(^|\n)(%|\.\.\.)/.test(text)) return undefined;
  // Document markers: `---` alone on its line (a comment after it allowed).
  const starts: number[] = [];
  const re = /^---(?=[ \n]|$)/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const eol = text.indexOf('\n', m.index);
    const rest = text.slice(m.index + 3, eol < 0 ? text.length : eol).trim();
    if (rest && !rest.startsWith('#')) return undefined;
    starts.push(m.index);
  }
  const docs: Array<FastDoc | Skipped> = [];
  const values: unknown[] = [];
  const bounds: Array<[number, number, boolean]> = [];
  let prev = 0;
  // A segment is marked when it starts at a `---` marker (the first one may start without).
  const marked = (at: number) => at !== 0 || starts[0] === 0;
  for (const s of starts) { if (s > 0) bounds.push([prev, s, marked(prev)]); prev = s; }
  bounds.push([prev, text.length, marked(prev)]);
  for (const [from, to, marked] of bounds) {
    const eol = text.indexOf('\n', from);
    const bodyFrom = marked ? (eol < 0 || eol >= to ? to : eol + 1) : from;
    let r;
    try { r = new Reader(text, bodyFrom, to).document(); } catch (e) {
      if (!(e instanceof Bail)) throw e;
      docs.push({ from, to });
      values.push(undefined);
      continue;
    }
    if (!r.node && !marked) continue; // comments before the first `---`: not a document
    docs.push(fastDoc(r.node, [marked ? from : r.node!.range![0], to, to]));
    values.push(r.value);
  }
  return { docs, values };
}
