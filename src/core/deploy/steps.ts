/**
 * The steps a deploy runs for one stand, by kind: the engine plans its progress with them, and the faces use the
 * same count to call a stand done when its last step finishes (its `stand-done` event comes later, after the
 * node's network apply and the record write).
 */
import type { DeployPlan, StandPlan } from '../types.js';

export const VM_STEP_KINDS = ['clone', 'config', 'snapshot'] as const;

export function standStepKinds(s: StandPlan, start: boolean): string[] {
  const kinds = ['access'];
  if (s.segments.length) kinds.push('network');
  // an isolated stand's VMs get their firewall step between config and snapshot (deploy/firewall.ts)
  for (const _vm of s.vms) kinds.push(...VM_STEP_KINDS, ...(s.isolated ? ['firewall'] : []), ...(start ? ['start'] : []));
  return kinds;
}

/** Steps per stand (userid → count) of a deploy plan. */
export function deployStepCounts(plan: Pick<DeployPlan, 'stands' | 'start'>): Record<string, number> {
  return Object.fromEntries(plan.stands.map((s) => [s.userid, standStepKinds(s, plan.start).length]));
}
