/**
 * Preload (node --require) for the app process of strategies 3/6 under the test runner: its
 * clock is the runner's virtual clock (real time plus the offset the runner writes to
 * IH_VIRTUAL_CLOCK_FILE), so the app's token cache and startup grace see the same time as the
 * probes. Only Date.now/new Date()/performance.now are shifted; timers still run in real time.
 */
'use strict';
const fs = require('node:fs');
const file = process.env.IH_VIRTUAL_CLOCK_FILE;
if (file) {
  const offset = () => { try { return Number(fs.readFileSync(file, 'utf8')) || 0; } catch { return 0; } };
  const RealDate = Date;
  const realNow = RealDate.now;
  class VirtualDate extends RealDate {
    constructor(...args) { if (args.length === 0) super(realNow() + offset()); else super(...args); }
    static now() { return realNow() + offset(); }
  }
  globalThis.Date = VirtualDate;
  const perf = globalThis.performance;
  const realPerfNow = perf.now.bind(perf);
  perf.now = () => realPerfNow() + offset();
}
