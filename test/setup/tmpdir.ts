/**
 * Vitest global setup: every temp file of a test run (the tests' own mkdtemp dirs and those of
 * the CLIs they start) goes under one directory that is removed when the run ends, so a run
 * leaves nothing in /tmp whatever a test forgets or a killed worker leaves behind.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-health-tests-'));
  // Traversable by the unprivileged user some tests run the CLI as.
  fs.chmodSync(dir, 0o755);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = previous;
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
