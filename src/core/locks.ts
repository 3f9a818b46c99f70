/**
 * Coordination between processes that share one state (CLI runs, bots, a cron `stands expire`), on top of the
 * store's leases:
 * - the group lock's TTL (renewed by a running job every third of it; a killed job's lock frees itself after it);
 * - reservations: the VMIDs, bridges and VNets of a plan are reserved for its group the moment the plan is made,
 *   so two groups planned at once on one cluster never pick the same ids. The planner skips every other group's
 *   reservations; the run renews them and drops them once the journal and the stand records hold the ids.
 */
import type { JournalEntry } from '../store/schemas.js';
import type { Reservation, Store } from '../store/store.js';
import { UserError } from '../errors.js';
import { msg } from '../i18n/index.js';
import type { DeployPlan } from './types.js';

const DEFAULT_LOCK_TTL_MS = 30_000;

/**
 * STANDS_LOCK_TTL_MS (1 s – 10 min), else 30 s. Tests shorten it to see a killed holder's lock expire. Read at
 * import, so it never throws: an invalid value is refused by the environment check (config/env.ts) of the bot
 * and the CLI, and means the default here.
 */
export function lockTtlFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.STANDS_LOCK_TTL_MS?.trim() || NaN);
  return Number.isInteger(n) && n >= 1000 && n <= 600_000 ? n : DEFAULT_LOCK_TTL_MS;
}

/** How long a plan's ids stay reserved without a run renewing them (a plan waiting for its confirm button). */
export const RESERVATION_TTL_MS = 60 * 60_000;

type Item = { kind: Reservation['kind']; id: string | number };

/**
 * The VMIDs, bridges and VNets a plan uses, and the VMIDs of the template replicas it will create (a replica that
 * exists is shared by every group and stays unreserved: its record already keeps its id taken).
 */
export function planItems(plan: DeployPlan): Item[] {
  const out: Item[] = [];
  for (const r of plan.replicas) if (!r.exists) out.push({ kind: 'vm', id: r.vmid });
  for (const s of plan.stands) {
    for (const vm of s.vms) out.push({ kind: 'vm', id: vm.vmid });
    for (const seg of s.segments) {
      if (seg.kind === 'bridge') out.push({ kind: 'bridge', id: `${seg.node ?? s.node}/${seg.iface}` });
      else out.push({ kind: 'vnet', id: seg.iface });
    }
  }
  return out;
}

/** Other groups' reservations as journal entries, which the planner already treats as taken. */
export function reservationsAsJournal(reserved: readonly Reservation[], group: string): JournalEntry[] {
  return reserved
    .filter((r) => r.group !== group)
    .map((r) => {
      const tag = r.kind === 'vnet' && /^sv[0-9a-z]+$/.test(r.id) ? parseInt(r.id.slice(2), 36) : undefined;
      return {
        cluster: r.cluster,
        kind: r.kind,
        id: r.id,
        state: 'intended' as const,
        group: r.group,
        ...(tag !== undefined ? { extra: { tag } } : {}),
        intendedAt: r.expiresAt,
      };
    });
}

export interface HeldReservations {
  renew(): Promise<void>;
  release(): Promise<void>;
}

/**
 * At the start of a run: make sure the plan's ids are still this group's (they are, unless the plan waited
 * longer than RESERVATION_TTL_MS and another group took one since). Refuses before anything is created.
 */
export async function holdReservations(store: Store, plan: DeployPlan): Promise<HeldReservations> {
  const items = planItems(plan);
  const refused = await store.reservations.claim(plan.cluster, plan.group, items, RESERVATION_TTL_MS);
  if (refused.length) {
    const r = refused[0]!;
    throw new UserError(msg('plan.tooOld', { kind: r.kind === 'vm' ? 'vm' : r.kind === 'bridge' ? 'bridge' : 'vnet', id: String(r.id), holder: r.holder, more: refused.length - 1 }));
  }
  return {
    renew: async () => {
      await store.reservations.claim(plan.cluster, plan.group, items, RESERVATION_TTL_MS);
    },
    release: () => store.reservations.release(plan.cluster, plan.group),
  };
}
