/** The nine strategies as mixin classes (for `construct.with(...)`) and `withX(target, options)` functions. */
import type { IConstruct } from 'constructs';
import {
  IdentityAppHealthCheckOptions, IdentityInitCheckOptions, IdentityProbesOptions,
  NmiAppHealthCheckOptions, NmiInitCheckOptions, NmiProbesOptions, STRATEGIES,
  WORKLOAD_IDENTITY_STRATEGIES, WorkloadIdentityAppHealthCheckOptions, WorkloadIdentityInitCheckOptions, WorkloadIdentityProbesOptions,
} from '../../strategies';
import { applyMixin, IdentityHealthMixin } from './mixin';

/** Strategy 1: init container waits for NMI `Active`. */
export class NmiInitCheck extends IdentityHealthMixin {
  constructor(options: NmiInitCheckOptions = {}) { super(STRATEGIES['nmi-init'], options); }
}
/** Strategy 2: exec readiness/liveness/startup probes check NMI `Active`. */
export class NmiProbes extends IdentityHealthMixin {
  constructor(options: NmiProbesOptions = {}) { super(STRATEGIES['nmi-probes'], options); }
}
/** Strategy 3: httpGet probes to the app's health endpoints, which check NMI (runtime module). */
export class NmiAppHealthCheck extends IdentityHealthMixin {
  constructor(options: NmiAppHealthCheckOptions = {}) { super(STRATEGIES['nmi-app-check'], options); }
}
/** Strategy 4: init container waits for a token (curl, wget or `az login --identity`). */
export class IdentityInitCheck extends IdentityHealthMixin {
  constructor(options: IdentityInitCheckOptions = {}) { super(STRATEGIES['identity-init'], options); }
}
/** Strategy 5: exec probes check NMI and request a token (cached). */
export class IdentityProbes extends IdentityHealthMixin {
  constructor(options: IdentityProbesOptions = {}) { super(STRATEGIES['identity-probes'], options); }
}
/** Strategy 6: httpGet probes to the app's health endpoints, which request a token (runtime module). */
export class IdentityAppHealthCheck extends IdentityHealthMixin {
  constructor(options: IdentityAppHealthCheckOptions = {}) { super(STRATEGIES['identity-app-check'], options); }
}

/** Strategy 7 (Azure AD Workload Identity): init container waits for the webhook env, a valid token file and (by default) a token exchange. */
export class WorkloadIdentityInitCheck extends IdentityHealthMixin {
  constructor(options: WorkloadIdentityInitCheckOptions = {}) { super(WORKLOAD_IDENTITY_STRATEGIES['workload-identity-init'], options); }
}
/** Strategy 8 (Azure AD Workload Identity): exec probes check the webhook env and token file (exchange optional). */
export class WorkloadIdentityProbes extends IdentityHealthMixin {
  constructor(options: WorkloadIdentityProbesOptions = {}) { super(WORKLOAD_IDENTITY_STRATEGIES['workload-identity-probes'], options); }
}
/** Strategy 9 (Azure AD Workload Identity): httpGet probes to the app's health endpoints, which check workload identity (runtime module). */
export class WorkloadIdentityAppHealthCheck extends IdentityHealthMixin {
  constructor(options: WorkloadIdentityAppHealthCheckOptions = {}) { super(WORKLOAD_IDENTITY_STRATEGIES['workload-identity-app-check'], options); }
}

/** Applies strategy 1 to every workload in `target` (a workload, an ApiObject or a whole chart); returns `target`. */
export const withNmiInitCheck = <T extends IConstruct>(target: T, options: NmiInitCheckOptions = {}): T => applyMixin(target, new NmiInitCheck(options));
/** Applies strategy 2 to every workload in `target`; returns `target`. */
export const withNmiProbes = <T extends IConstruct>(target: T, options: NmiProbesOptions = {}): T => applyMixin(target, new NmiProbes(options));
/** Applies strategy 3 to every workload in `target`; returns `target`. */
export const withNmiAppHealthCheck = <T extends IConstruct>(target: T, options: NmiAppHealthCheckOptions = {}): T => applyMixin(target, new NmiAppHealthCheck(options));
/** Applies strategy 4 to every workload in `target`; returns `target`. */
export const withIdentityInitCheck = <T extends IConstruct>(target: T, options: IdentityInitCheckOptions = {}): T => applyMixin(target, new IdentityInitCheck(options));
/** Applies strategy 5 to every workload in `target`; returns `target`. */
export const withIdentityProbes = <T extends IConstruct>(target: T, options: IdentityProbesOptions = {}): T => applyMixin(target, new IdentityProbes(options));
/** Applies strategy 6 to every workload in `target`; returns `target`. */
export const withIdentityAppHealthCheck = <T extends IConstruct>(target: T, options: IdentityAppHealthCheckOptions = {}): T => applyMixin(target, new IdentityAppHealthCheck(options));
/** Applies strategy 7 to every workload (and, with clientId, ServiceAccount) in `target`; returns `target`. */
export const withWorkloadIdentityInitCheck = <T extends IConstruct>(target: T, options: WorkloadIdentityInitCheckOptions = {}): T => applyMixin(target, new WorkloadIdentityInitCheck(options));
/** Applies strategy 8 to every workload (and, with clientId, ServiceAccount) in `target`; returns `target`. */
export const withWorkloadIdentityProbes = <T extends IConstruct>(target: T, options: WorkloadIdentityProbesOptions = {}): T => applyMixin(target, new WorkloadIdentityProbes(options));
/** Applies strategy 9 to every workload (and, with clientId, ServiceAccount) in `target`; returns `target`. */
export const withWorkloadIdentityAppHealthCheck = <T extends IConstruct>(target: T, options: WorkloadIdentityAppHealthCheckOptions = {}): T => applyMixin(target, new WorkloadIdentityAppHealthCheck(options));
