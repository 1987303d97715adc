/** The mixin class of each strategy id (for the CLI's `synth` and the bench; not part of the library's API). */
import type { AnyStrategyId } from '../../strategies';
import type { IdentityHealthMixin } from './mixin';
import * as m from './strategies';

const CLASSES: Record<AnyStrategyId, new (options: any) => IdentityHealthMixin> = {
  'nmi-init': m.NmiInitCheck, 'nmi-probes': m.NmiProbes, 'nmi-app-check': m.NmiAppHealthCheck,
  'identity-init': m.IdentityInitCheck, 'identity-probes': m.IdentityProbes, 'identity-app-check': m.IdentityAppHealthCheck,
  'workload-identity-init': m.WorkloadIdentityInitCheck, 'workload-identity-probes': m.WorkloadIdentityProbes, 'workload-identity-app-check': m.WorkloadIdentityAppHealthCheck,
};

/** The class name of strategy `id`'s mixin (the bench finds an earlier release's class by it). */
export function mixinClassName(id: AnyStrategyId): string {
  return CLASSES[id].name;
}

/** A new mixin of strategy `id` with `options` (validated as the class validates them). */
export function mixinFor(id: AnyStrategyId, options: object = {}): IdentityHealthMixin {
  return new CLASSES[id](options);
}
