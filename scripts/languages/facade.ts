/**
 * Generates the jsii facade: the entry point of the jsii assembly that the Python, Go and Java
 * packages are built from. It is derived, with the TypeScript compiler API, from the library's own
 * declarations, so it cannot drift from them:
 *  - each mixin class exported by src/cdk8s/strategies.ts becomes a class of the same name that
 *    extends StrategyMixin (src/cdk8s/jsii-mixin.ts) and wraps the TypeScript mixin;
 *  - each `withX(target, options)` function becomes the static method `Strategies.withX`;
 *  - each options type becomes a flat jsii struct of the same name (`extends`/`Omit` resolved),
 *    nested option objects become structs, string-literal unions become string enums whose values
 *    are the TypeScript strings, DurationLike becomes `number | Duration` (cdk8s);
 *  - every doc comment (description, @default, ...) is copied.
 * A type with no jsii equivalent fails the generation with the option's name.
 */
import path from 'node:path';
import ts from 'typescript';

export const REPO = path.resolve(__dirname, '../..');
const ENTRY = path.join(REPO, 'src/cdk8s/strategies.ts');
const BASE = path.join(REPO, 'src/cdk8s/jsii-mixin.ts');
/** Path of the generated file inside the jsii project (next to the copied sources). */
export const FACADE_PATH = 'src/languages.ts';

export interface Facade {
  /** The generated TypeScript source of FACADE_PATH. */
  source: string;
  /** Repository files the facade needs, relative to the repository (copied into the jsii project). */
  files: string[];
}

interface Ctx { checker: ts.TypeChecker; enums: Map<string, { doc: string; values: string[] }>; structs: Map<string, string> }

function fail(where: string, msg: string): never {
  throw new Error(`scripts/languages/facade.ts: ${where}: ${msg}`);
}

/** The JSDoc of a symbol as comment lines (description, then every tag), or [] if it has none. */
function docLines(sym: ts.Symbol, checker: ts.TypeChecker): string[] {
  const text = ts.displayPartsToString(sym.getDocumentationComment(checker)).trim();
  const tags = sym.getJsDocTags(checker).map((t) => `@${t.name}${t.text ? ` ${ts.displayPartsToString(t.text).trim()}` : ''}`);
  return [...(text ? text.split('\n') : []), ...tags].map((l) => l.replace(/\*\//g, '*\\/'));
}

function comment(lines: string[], indent = ''): string {
  if (lines.length === 0) return '';
  return `${indent}/**\n${lines.map((l) => `${indent} *${l ? ` ${l}` : ''}`).join('\n')}\n${indent} */\n`;
}

const pascal = (s: string): string => s.replace(/(^|[-_ ])(\w)/g, (_, __, c: string) => c.toUpperCase());
const enumMember = (v: string): string => v.replace(/[^A-Za-z0-9]+/g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** The jsii type (as TypeScript source) of one option; registers the enums and structs it needs. */
function mapType(type: ts.Type, where: string, prop: string, ctx: Ctx): string {
  const { checker } = ctx;
  const alias = type.aliasSymbol?.name;
  if (alias === 'DurationLike') return 'number | Duration';
  if (type.isUnion()) {
    const parts = type.types.filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
    if (parts.length > 0 && parts.every((t) => t.isStringLiteral())) {
      const name = alias ?? pascal(prop);
      const values = parts.map((t) => (t as ts.StringLiteralType).value);
      const known = ctx.enums.get(name);
      if (known && known.values.join() !== values.join()) fail(where, `enum ${name} would have two sets of values (${known.values} / ${values})`);
      ctx.enums.set(name, { doc: alias ? `Values of \`${prop}\` (the TypeScript API takes the strings: ${values.map((v) => `'${v}'`).join(', ')}).` : `Values of \`${prop}\`.`, values });
      return name;
    }
    const hasBool = parts.some((t) => t.flags & ts.TypeFlags.BooleanLiteral);
    const rest = parts.filter((t) => !(t.flags & ts.TypeFlags.BooleanLiteral)).map((t) => mapType(t, where, prop, ctx));
    const all = [...(hasBool ? ['boolean'] : []), ...rest];
    return all.length === 1 ? all[0] : all.join(' | ');
  }
  if (type.flags & ts.TypeFlags.String) return 'string';
  if (type.flags & ts.TypeFlags.Number) return 'number';
  if (type.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return 'boolean';
  if (checker.isArrayType(type)) {
    const [el] = checker.getTypeArguments(type as ts.TypeReference);
    return `${mapType(el, where, prop, ctx)}[]`;
  }
  const sym = type.getSymbol();
  if (sym && sym.flags & ts.SymbolFlags.Interface) {
    if (!ctx.structs.has(sym.name)) {
      ctx.structs.set(sym.name, '');
      ctx.structs.set(sym.name, struct(sym.name, sym, type, ctx));
    }
    return sym.name;
  }
  return fail(where, `option ${prop} has type ${checker.typeToString(type)}, which has no jsii equivalent: use a string/number/boolean, a string-literal union, DurationLike, an array or an options interface`);
}

/** A jsii struct with every property of `type` (inherited and Omit-ed ones resolved). */
function struct(name: string, sym: ts.Symbol, type: ts.Type, ctx: Ctx): string {
  const { checker } = ctx;
  const props = checker.getPropertiesOfType(type).map((p) => {
    const decl = p.declarations?.[0];
    if (!decl || !ts.isPropertySignature(decl) || !decl.type) fail(name, `option ${p.name} is not a plain property`);
    const optional = (p.flags & ts.SymbolFlags.Optional) !== 0;
    const t = mapType(checker.getTypeFromTypeNode(decl.type), name, p.name, ctx);
    return `${comment(docLines(p, checker), '  ')}  readonly ${p.name}${optional ? '?' : ''}: ${t};\n`;
  });
  return `${comment(docLines(sym, checker))}export interface ${name} {\n${props.join('\n')}}\n`;
}

/** `entry`: the module whose mixin classes and withX functions are exported (tests pass a fixture). */
export function generateFacade(entry = ENTRY): Facade {
  const program = ts.createProgram([entry, BASE], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry) ?? fail(entry, 'not found');
  const ctx: Ctx = { checker, enums: new Map(), structs: new Map() };
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!);
  const classes: string[] = [];
  const statics: string[] = [];
  for (const sym of exports) {
    const decl = sym.declarations?.[0];
    if (!decl || !ts.isClassDeclaration(decl)) continue;
    const ctor = decl.members.find(ts.isConstructorDeclaration);
    const param = ctor?.parameters[0];
    if (!param?.type || !ts.isTypeReferenceNode(param.type)) fail(sym.name, 'constructor(options) with a named options type expected');
    const optionsType = checker.getTypeFromTypeNode(param.type);
    const optionsSym = optionsType.getSymbol() ?? fail(sym.name, 'options type has no symbol');
    const optionsName = optionsSym.name;
    if (!ctx.structs.has(optionsName)) ctx.structs.set(optionsName, struct(optionsName, optionsSym, optionsType, ctx));
    classes.push(
      `${comment(docLines(sym, checker))}export class ${sym.name} extends StrategyMixin {\n`
      + `  /** @internal */\n  protected readonly _mixin: IdentityHealthMixin;\n\n`
      + `  public constructor(options: ${optionsName} = {}) {\n    super();\n    this._mixin = new ts.${sym.name}(options as any);\n  }\n}\n`,
    );
    const fn = exports.find((e) => e.name === `with${sym.name}`) ?? fail(sym.name, `no function with${sym.name}`);
    statics.push(
      `${comment(docLines(fn, checker), '  ')}  public static with${sym.name}(target: IConstruct, options: ${optionsName} = {}): IConstruct {\n`
      + `    return ts.with${sym.name}(target, options as any);\n  }\n`,
    );
  }
  if (classes.length === 0) fail(entry, 'no mixin classes found');
  const enums = [...ctx.enums].map(([name, e]) =>
    `/** ${e.doc} */\nexport enum ${name} {\n${e.values.map((v) => `  /** \`${v}\` */\n  ${enumMember(v)} = '${v}',`).join('\n')}\n}\n`);
  const text = [
    '// Generated by scripts/languages/facade.ts from src/cdk8s/strategies.ts and the option types it uses. Do not edit.',
    "import { Duration } from 'cdk8s';",
    "import { IConstruct } from 'constructs';",
    "import { StrategyMixin } from './cdk8s/jsii-mixin';",
    "import type { IdentityHealthMixin } from './cdk8s/mixin';",
    "import * as ts from './cdk8s/strategies';",
    '',
    "export { StrategyMixin, SkippedWorkload } from './cdk8s/jsii-mixin';",
    '',
    ...enums,
    ...ctx.structs.values(),
    ...classes,
    '/** The `withX(target, options)` functions: apply a strategy to every workload in `target` (a workload, any construct or a whole chart). */',
    'export class Strategies {',
    statics.join('\n'),
    '  private constructor() {}',
    '}',
    '',
  ].join('\n');
  const files = program.getSourceFiles()
    .map((f) => path.relative(REPO, f.fileName))
    .filter((f) => !f.startsWith('..') && !f.startsWith('node_modules'));
  return { source: text, files };
}
