/**
 * A timeline picture of one observed run (docs/timelines/<strategy>.svg): the mock's state (for
 * workload identity: the token file and AAD), every probe result, Ready/NotReady, restarts and
 * the requests the mock counted, on the runner's virtual clock. Plain SVG text, no dependencies.
 *
 * Deterministic for the same outcome: times are drawn at whole virtual seconds, coordinates with
 * one decimal, and what varies between runs of the same outcome (epoch seconds in token
 * messages, curl's "after N ms") is replaced in the tooltips, so `npm run table` does not
 * redraw a timeline for sub-second jitter.
 */
import { getStrategy } from '../../strategies';
import type { TimelineEvent } from '../bed/runner';
import type { Run } from './model';

const W = 960;
const LEFT = 150;
const RIGHT = 20;
const ROW = 26;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** A probe's output without what differs between runs of the same outcome. */
export const stableText = (s: string) => s.replace(/\b1[0-9]{9}\b/g, '<epoch s>').replace(/after [0-9]+ ms/g, 'after N ms')
  .replace(/cached [0-9]+s ago/g, 'cached Ns ago').replace(/transient for [0-9]+s/g, 'transient for Ns');

export function timelineSvg(r: Run, title: string): string {
  const dur = r.result.duration;
  // Whole seconds, rounded down: events land just after the probe grid's points (a command's
  // run time), so flooring keeps them in their second where rounding would flip at .5.
  const sec = (t: number) => Math.floor(t + 1e-6);
  const x = (t: number) => +(LEFT + (sec(t) / dur) * (W - LEFT - RIGHT)).toFixed(1);
  const tl = r.result.timeline;
  const wi = getStrategy(r.strategy).checks === 'workload-identity';
  const STATE = wi ? 'token file / AAD' : 'NMI / IMDS';
  const rows = [STATE, 'init container', 'startup probe', 'readiness probe', 'liveness probe', 'pod Ready', ...(wi ? ['AAD requests'] : ['token requests', 'NMI requests'])];
  const top = 48;
  const y = (name: string) => top + rows.indexOf(name) * ROW;
  const H = top + rows.length * ROW + 56;
  const out: string[] = [];
  const push = (s: string) => out.push(s);
  push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  push(`<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`);
  const f = r.scenario.fault.start;
  const after = (type: string) => tl.find((e) => e.type === type && e.t >= f)?.t;
  const nr = after('notready');
  const rs = after('restart');
  const reaction = `after the fault at ${f} s: ${nr === undefined ? 'stays Ready' : `NotReady +${sec(nr - f)} s`}, ${rs === undefined ? 'no restart' : `restart +${sec(rs - f)} s`}`;
  push(`<text x="10" y="36" fill="#555">${esc(r.scenario.title)}; ${reaction}</text>`);
  rows.forEach((name) => push(`<text x="10" y="${y(name) + 15}">${name}</text><line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(name) + ROW - 2}" y2="${y(name) + ROW - 2}" stroke="#eee"/>`));
  // Mock state bands: one per step until the next.
  const steps = [...r.scenario.steps];
  const okState = (label: string) => /Active$|back|\bok\b|refreshed/.test(label) && !/Not Active/.test(label);
  steps.forEach((s, i) => {
    const end = steps[i + 1]?.at ?? dur;
    push(`<rect x="${x(s.at)}" y="${y(STATE) + 3}" width="${Math.max(1, +(x(end) - x(s.at)).toFixed(1))}" height="${ROW - 8}" fill="${okState(s.label) ? '#cfe8cf' : '#f4c7c3'}"/>`);
    push(`<text x="${x(s.at) + 3}" y="${y(STATE) + 15}">${esc(s.label)}</text>`);
  });
  // Init container: running from 0 until its exit.
  const inits = tl.filter((e): e is Extract<TimelineEvent, { type: 'init' }> => e.type === 'init');
  let from = 0;
  for (const e of inits) {
    push(`<rect x="${x(from)}" y="${y('init container') + 6}" width="${Math.max(1, +(x(e.t) - x(from)).toFixed(1))}" height="${ROW - 14}" fill="${e.ok ? '#9ecae1' : '#f4a582'}"><title>${esc(stableText(e.output).slice(-300))}</title></rect>`);
    from = e.t;
  }
  // Probes, requests and restarts, each as its element text with its second: sorted by both, so
  // events in the same drawn second come out in the same order whatever their sub-second arrival.
  const marks: Array<[number, string]> = [];
  const mark = (t: number, text: string) => marks.push([sec(t), text]);
  for (const e of tl) {
    if (e.type === 'probe') {
      mark(e.t, `<circle cx="${x(e.t)}" cy="${y(`${e.probe} probe`) + 12}" r="3.5" fill="${e.ok ? '#2ca02c' : '#d62728'}"><title>${sec(e.t)}s ${e.ok ? 'ok' : esc(stableText(e.output))}</title></circle>`);
    } else if (e.type === 'request') {
      const row = e.kind === 'token' ? 'token requests' : e.kind === 'aad' ? 'AAD requests' : 'NMI requests';
      mark(e.t, `<line x1="${x(e.t)}" x2="${x(e.t)}" y1="${y(row) + 5}" y2="${y(row) + 19}" stroke="#555"/>`);
    } else if (e.type === 'restart') {
      mark(e.t, `<line x1="${x(e.t)}" x2="${x(e.t)}" y1="${top}" y2="${H - 46}" stroke="#d62728" stroke-dasharray="4 3"/>\n<text x="${x(e.t) + 3}" y="${H - 48}" fill="#d62728">restart (${e.probe})</text>`);
    }
  }
  marks.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).forEach(([, text]) => push(text));
  // Ready bar: green while Ready.
  let readySince: number | undefined;
  const bar = (a: number, b: number) => push(`<rect x="${x(a)}" y="${y('pod Ready') + 5}" width="${Math.max(1, +(x(b) - x(a)).toFixed(1))}" height="${ROW - 12}" fill="#2ca02c"/>`);
  push(`<rect x="${x(0)}" y="${y('pod Ready') + 5}" width="${x(dur) - x(0)}" height="${ROW - 12}" fill="#ddd"/>`);
  for (const e of tl) {
    if (e.type === 'ready') readySince = e.t;
    if (e.type === 'notready' && readySince !== undefined) { bar(readySince, e.t); readySince = undefined; }
  }
  if (readySince !== undefined) bar(readySince, dur);
  // Axis every 10 s.
  for (let t = 0; t <= dur; t += 10) {
    push(`<line x1="${x(t)}" x2="${x(t)}" y1="${H - 42}" y2="${H - 38}" stroke="#333"/><text x="${x(t)}" y="${H - 26}" text-anchor="middle">${t}</text>`);
  }
  const via = getStrategy(r.strategy).placement === 'app' ? 'httpGet probes to the example health service' : `commands run in the image stand-in ${esc(r.image.id)}`;
  push(`<text x="${LEFT}" y="${H - 2}" fill="#555">virtual seconds since pod creation; ${via}; refused connections are not counted as requests</text>`);
  push('</svg>');
  return out.join('\n') + '\n';
}
