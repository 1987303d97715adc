/**
 * The jsii facade (scripts/languages/facade.ts) that the Python, Go and Java packages are built
 * from, checked without jsii: every mixin, withX function, option key and enum value of the
 * TypeScript API is in it, and an option type jsii cannot express fails the generation by name.
 * (test/slow/languages builds and uses the packages.)
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateFacade } from '../../scripts/languages/facade';
import * as lib from '../../src';
import { CONFLICT_POLICIES } from '../../src/pod-template/apply';
import { optionKeys } from '../../strategies/options';

describe('jsii facade', () => {
  let source: string;
  let files: string[];
  beforeAll(() => ({ source, files } = generateFacade()), 60_000);

  const block = (head: string): string => {
    const start = source.indexOf(`${head} {\n`);
    expect(start, head).toBeGreaterThanOrEqual(0);
    return source.slice(start, source.indexOf('\n}\n', start));
  };

  it('wraps every mixin class and has Strategies.withX for every withX function, with every option key', () => {
    const mixins = Object.entries(lib).filter(([, v]) => typeof v === 'function' && (v as any).prototype instanceof lib.IdentityHealthMixin);
    expect(mixins).toHaveLength(Object.keys(lib.STRATEGIES).length + Object.keys(lib.WORKLOAD_IDENTITY_STRATEGIES).length);
    for (const [name, cls] of mixins) {
      expect(block(`export class ${name} extends StrategyMixin`)).toContain(`new ts.${name}(options as any)`);
      expect(block('export class Strategies')).toContain(`public static with${name}(target: IConstruct, options: ${name}Options = {}): IConstruct`);
      const keys = [...block(`export interface ${name}Options`).matchAll(/^ {2}readonly (\w+)\?:/gm)].map((x) => x[1]).sort();
      expect(keys, name).toEqual(optionKeys(new (cls as any)().strategy.optionGroups));
    }
  });

  it('turns string-literal options into string enums of the same values and durations into number | Duration', () => {
    expect(block('export enum ConflictPolicy')).toBe(`export enum ConflictPolicy {\n${CONFLICT_POLICIES.map((p) => `  /** \`${p}\` */\n  ${p.toUpperCase()} = '${p}',`).join('\n')}`);
    expect(block('export enum InitClient')).toContain("AZ = 'az'");
    expect(block('export interface IdentityProbesOptions')).toContain('readonly onConflict?: ConflictPolicy;');
    expect(block('export interface IdentityProbesOptions')).toContain('readonly tokenCacheTtl?: number | Duration;');
    expect(block('export interface NmiAppHealthCheckOptions')).toContain('readonly port?: string | number;');
    expect(block('export interface WorkloadIdentityProbesOptions')).toContain('readonly proxySidecar?: boolean | number;');
  });

  it('copies every option\'s description and @default', () => {
    expect(block('export interface IdentityProbesOptions')).toContain('   * A token result is reused this long, so readiness and liveness share one request (IMDS load).\n   * @default 20 seconds\n');
  });

  it('takes the library, never the CLI or the runtime module', () => {
    expect(files).toContain('src/pod-template/apply.ts');
    expect(files.filter((f) => f.startsWith('src/cli/') || (f.startsWith('src/runtime/') && f !== 'src/runtime/env.ts'))).toEqual([]);
  });

  it('names the option whose type jsii cannot express', () => {
    expect(() => generateFacade(path.join(__dirname, 'fixtures/unsupported-option.ts')))
      .toThrow(/LabelsOptions: option labels has type Record<string, string>, which has no jsii equivalent/);
  }, 60_000);
});
