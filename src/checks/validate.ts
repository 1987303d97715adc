/**
 * Validation of every user-supplied value that can reach a shell script or a manifest.
 * Each validator either returns the normalised value or throws an OptionError that names
 * the option, shows the offending value and says what is accepted.
 */

export class OptionError extends Error {
  constructor(readonly option: string, value: unknown, expected: string) {
    super(`invalid ${option} ${JSON.stringify(value)}: expected ${expected}`);
    this.name = 'OptionError';
  }
}

function check(option: string, value: unknown, ok: boolean, expected: string): void {
  if (!ok) throw new OptionError(option, value, expected);
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const RESOURCE = /^https:\/\/[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~/-]*)?$/;
const MI_RES_ID = /^\/subscriptions\/[0-9a-fA-F-]{36}\/resource[Gg]roups\/[A-Za-z0-9._()-]{1,90}\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[A-Za-z0-9_-]{1,128}$/i;
const API_VERSION = /^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:-preview)?$/;
// registry[:port]/path[:tag][@sha256:digest], lower-case path components as the distribution spec says
const IMAGE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;
const HTTP_PATH = /^\/[A-Za-z0-9._~/-]{0,255}$/;
const IANA_PORT_NAME = /^(?=.*[a-z])[a-z0-9](?:[a-z0-9-]{0,13}[a-z0-9])?$/;
const QUANTITY = /^[0-9]+(?:\.[0-9]+)?(?:m|Ki|Mi|Gi|k|M|G)?$/;

/** A boolean option: true or false, never a string ('false' is truthy) or a number. */
export function bool(option: string, value: unknown): boolean {
  check(option, value, typeof value === 'boolean', 'true or false');
  return value as boolean;
}

export function guid(option: string, value: string): string {
  check(option, value, typeof value === 'string' && GUID.test(value), 'a GUID such as 00000000-0000-0000-0000-000000000000');
  return value.toLowerCase();
}

export function resource(option: string, value: string): string {
  check(option, value, typeof value === 'string' && RESOURCE.test(value) && value.length <= 512,
    'an https:// resource URI made of host and path characters only, e.g. https://vault.azure.net');
  return value;
}

export function miResId(option: string, value: string): string {
  check(option, value, typeof value === 'string' && MI_RES_ID.test(value),
    'a user-assigned identity resource id /subscriptions/<guid>/resourcegroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>');
  return value;
}

export function apiVersion(option: string, value: string): string {
  check(option, value, typeof value === 'string' && API_VERSION.test(value), 'an API version such as 2018-02-01');
  return value;
}

export function port(option: string, value: number): number {
  check(option, value, Number.isInteger(value) && value >= 1 && value <= 65535, 'an integer port from 1 to 65535');
  return value;
}

/** A container port for httpGet probes: a number or an IANA port name. */
export function portOrName(option: string, value: number | string): number | string {
  if (typeof value === 'number') return port(option, value);
  check(option, value, typeof value === 'string' && IANA_PORT_NAME.test(value), 'a port number or a named container port (lower-case, up to 15 characters)');
  return value;
}

export function image(option: string, value: string): string {
  check(option, value, typeof value === 'string' && value.length <= 512 && IMAGE.test(value),
    'a container image reference such as curlimages/curl:8.11.1 or repo/name@sha256:<64 hex>');
  return value;
}

export function containerName(option: string, value: string): string {
  check(option, value, typeof value === 'string' && DNS_LABEL.test(value), 'a container name (DNS-1123 label: a-z, 0-9, -; at most 63)');
  return value;
}

export function labelValue(option: string, value: string): string {
  check(option, value, typeof value === 'string' && value.length > 0 && LABEL_VALUE.test(value),
    'a Kubernetes label value (A-Z, a-z, 0-9, -, _, .; at most 63; alphanumeric at both ends)');
  return value;
}

export function httpPath(option: string, value: string): string {
  check(option, value, typeof value === 'string' && HTTP_PATH.test(value), 'an HTTP path starting with / made of A-Z a-z 0-9 . _ ~ / -');
  return value;
}

export function quantity(option: string, value: string): string {
  check(option, value, typeof value === 'string' && QUANTITY.test(value), 'a resource quantity such as 10m, 100m, 32Mi');
  return value;
}

/** Whole seconds within [min, max]; accepts a number of seconds or anything with toSeconds() (cdk8s Duration). */
export function seconds(option: string, value: DurationLike, min: number, max: number): number {
  const s = typeof value === 'number' ? value
    : value && typeof (value as { toSeconds?: unknown }).toSeconds === 'function' ? (value as { toSeconds(): number }).toSeconds()
      : NaN;
  check(option, value, Number.isInteger(s) && s >= min && s <= max, `whole seconds from ${min} to ${max}`);
  return s;
}

export function count(option: string, value: number, min: number, max: number): number {
  check(option, value, Number.isInteger(value) && value >= min && value <= max, `an integer from ${min} to ${max}`);
  return value;
}

export function oneOf<T extends string>(option: string, value: T, allowed: readonly T[]): T {
  check(option, value, allowed.includes(value), `one of ${allowed.join(', ')}`);
  return value;
}

/**
 * A timing: a number of seconds, or a cdk8s `Duration` (anything with `toSeconds()`).
 * Structural so that the pure core and the CLI never load cdk8s.
 */
export type DurationLike = number | { toSeconds(): number };
