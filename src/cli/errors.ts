/** Exit codes (documented in docs/cli.md) and the errors that carry them. */
export const EXIT = { ok: 0, policy: 1, usage: 2 } as const;

/** Bad flags, arguments or input: exit 2, nothing written. */
export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

/** The input is fine but a policy is not met (audit --require): exit 1. */
export class PolicyFailure extends Error {
  constructor(message: string) { super(message); this.name = 'PolicyFailure'; }
}

/** Exit code for anything a command throws. Core OptionError/InputError/ConflictError are input errors. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof PolicyFailure) return EXIT.policy;
  const name = (e as Error)?.name;
  if (['UsageError', 'OptionError', 'InputError', 'ConflictError', 'YError'].includes(name)) return EXIT.usage;
  return 70; // a bug: EX_SOFTWARE, with the stack trace
}
