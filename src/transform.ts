/** Strategy id + options -> plan -> transformed object: the entry the CLI and audit share with the mixins. */
import { getStrategy } from '../strategies';
import { ApplyResult, applyPlan, Plan } from './pod-template/apply';
import type { KubeObject } from './pod-template/types';

export function planFor(strategy: string, options: object = {}): Plan {
  return getStrategy(strategy).plan(options);
}

/** Apply one strategy to one object (any kind: non-workloads come back unchanged). */
export function applyStrategy(doc: KubeObject, strategy: string, options: object = {}): ApplyResult {
  return applyPlan(doc, planFor(strategy, options));
}
