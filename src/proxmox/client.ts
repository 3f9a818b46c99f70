/**
 * The Proxmox VE client: the one way pve-stands talks to a cluster (engine, CLI, bot).
 *
 * Rules it follows (shared/pve-api/BEHAVIOUR.md §2–3, §5):
 * - one keep-alive undici Agent per cluster, at most `maxInFlight` requests open (pveproxy has 3 workers);
 * - auth by API token, or ticket + CSRF (renewed at 1 h of its 2 h life, by posting the ticket as password;
 *   a 401 logs in again once); password changes always go by ticket (PVE refuses them for tokens);
 * - reads retried with jittered backoff on network errors, 5xx and 59x; writes never repeated blindly: lock
 *   refusals, 595 and "no worker" (nothing happened) are retried, ambiguous failures (596/597/599, timeouts,
 *   resets after send) re-read state through a per-operation "already done?" check;
 * - tasks polled with a growing interval, "no such task" tolerated briefly, failures carry the log tail.
 * All durations in options are PVE time: multiplied by `timeScale` (the simulator's, 1 for real PVE).
 */
import { parseUpid } from './tasks.js';
import { runConnectionCheck, type ConnectionCheck } from './check.js';
import type { ProxmoxClientOptions, ClientStats } from './client/base.js';
import { NetworkClient } from './client/network.js';

/**
 * The one way pve-stands talks to Proxmox VE. One instance per cluster (it owns the keep-alive Agent, the
 * in-flight cap, the ticket and the inventory cache).
 */
export class ProxmoxClient extends NetworkClient {
  /** The connection test behind `stands check`: one verdict, never throws for connection problems. */
  check(): Promise<ConnectionCheck> {
    return runConnectionCheck(this);
  }
}

export { parseUpid };
export type { ProxmoxClientOptions, ClientStats };
export type { ConnectionCheck };
