/**
 * The cdk8s side: a Mixin base (constructs' IMixin) that registers a synthesis-time hook on each
 * workload ApiObject. cdk8s renders every object through ApiObject.toJson() (App.synth,
 * Chart.toJson, Testing.synth), after its own JSON patches, so the hook sees the final JSON and
 * mixins compose with each other and with later edits, on cdk8s-plus workloads (any major), L1
 * Kube* objects and Include-d YAML alike.
 */
import { ApiObject } from 'cdk8s';
import type { IConstruct, IMixin } from 'constructs';
import type { Strategy } from '../../strategies';
import { applyPlanInPlace, ConflictError, InputError, Plan } from '../pod-template/apply';
import type { KubeObject } from '../pod-template/types';
import { WORKLOAD_KINDS } from '../pod-template/workload';

const MIXIN_BRAND = Symbol.for('cdk8s-identity-health.Mixin');
const HOOKS = Symbol.for('cdk8s-identity-health.hooks');

type Hooked = ApiObject & { [HOOKS]?: IdentityHealthMixin[] };

/** Base of the nine strategy mixins. Options are validated when the mixin is created. */
export abstract class IdentityHealthMixin implements IMixin {
  /** Brand check that works across copies of this package (never `instanceof`). */
  static isIdentityHealthMixin(x: unknown): x is IdentityHealthMixin {
    return typeof x === 'object' && x !== null && (x as any)[MIXIN_BRAND] === true;
  }

  /** Workloads left unchanged under `onConflict: 'skip'`, filled at synthesis: construct path and reason. */
  public readonly skipped: Array<{ path: string; reason: string }> = [];
  public readonly plan: Plan;

  protected constructor(public readonly strategy: Strategy, options: object) {
    this.plan = strategy.plan(options);
    Object.defineProperty(this, MIXIN_BRAND, { value: true });
  }

  /**
   * Workload ApiObjects (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod), and
   * ServiceAccounts where the strategy annotates them (workload identity with a clientId).
   */
  public supports(construct: IConstruct): boolean {
    // `x.with(mixin)` asks about x first, then everything below it: a tree with no workload at
    // all is a mistake, said as withX says it (constructs' with() has no hook after its walk).
    if (!this.root || !construct.node.scopes.includes(this.root)) {
      this.root = construct;
      if (!construct.node.findAll().some((c) => this.accepts(c))) throw noWorkload(this, construct);
    }
    return this.accepts(construct);
  }

  private root?: IConstruct;

  private accepts(construct: IConstruct): boolean {
    if (!ApiObject.isApiObject(construct)) return false;
    if (construct.kind === 'ServiceAccount') return Object.keys(this.plan.serviceAccountAnnotations).length > 0;
    return (WORKLOAD_KINDS as readonly string[]).includes(construct.kind);
  }

  public applyTo(construct: IConstruct): void {
    if (!this.supports(construct)) return;
    const obj = construct as Hooked;
    let hooks = obj[HOOKS];
    if (!hooks) {
      hooks = obj[HOOKS] = [];
      const render = obj.toJson.bind(obj);
      const list = hooks;
      obj.toJson = () => list.reduce((doc, m) => m.transform(doc, obj.node.path), render());
    }
    if (!hooks.includes(this)) hooks.push(this);
  }

  /** The synthesis-time step: the shared pure transform, with errors that name the construct. */
  private transform(doc: KubeObject, path: string): KubeObject {
    try {
      // toJson() renders a fresh object on every call, so the transform may work in place.
      const r = applyPlanInPlace(doc, this.plan);
      if (r.outcome === 'skipped') {
        const reason = r.messages.join('; ');
        if (!this.skipped.some((s) => s.path === path)) {
          this.skipped.push({ path, reason });
          process.stderr.write(`identity-health: ${this.strategy.id}: ${path}: ${reason}\n`);
        }
      }
      return doc;
    } catch (e) {
      if (e instanceof ConflictError || e instanceof InputError) {
        const err = new Error(`identity-health ${this.strategy.id} at ${path}: ${e.message}`);
        err.name = e.name;
        throw err;
      }
      throw e;
    }
  }
}

/** Apply a mixin to a construct and everything below it; throws if it holds no workload. */
export function applyMixin<T extends IConstruct>(target: T, mixin: IdentityHealthMixin): T {
  target.with(mixin);
  return target;
}

function noWorkload(mixin: IdentityHealthMixin, target: IConstruct): Error {
  return new Error(`identity-health ${mixin.strategy.id}: ${target.node.path || '<root>'} holds no workload (${WORKLOAD_KINDS.join(', ')})`);
}
