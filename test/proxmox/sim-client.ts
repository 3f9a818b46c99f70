/** Shared set-up for the client tests: a simulator on loopback HTTPS and clients pointed at it. */
import { startSimulator, type RunningSimulator, type StartSimulatorOptions } from '../../src/sim/index.js';
import { ProxmoxClient, type ProxmoxClientOptions } from '../../src/proxmox/client.js';
import type { ClusterConfig } from '../../src/proxmox/types.js';

export const TIME_SCALE = 0.01;

export function startSim(o: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  return startSimulator({ timeScale: TIME_SCALE, rngSeed: 7, ...o });
}

export type AuthChoice = 'token' | 'ticket' | 'both';

export function clusterFor(
  sim: RunningSimulator,
  auth: AuthChoice = 'token',
  tls: Partial<ClusterConfig['tls']> = {},
  extra: Partial<ClusterConfig> = {},
): ClusterConfig {
  const c: ClusterConfig = {
    name: 'lab',
    url: sim.url,
    tls: { fingerprint: sim.fingerprint, insecure: false, ...tls },
    maxInFlight: 6,
  };
  if (auth === 'token' || auth === 'both') {
    c.tokenId = sim.tokenId;
    c.tokenSecret = sim.tokenSecret;
  }
  if (auth === 'ticket' || auth === 'both') {
    c.user = sim.user;
    c.password = sim.password;
  }
  return { ...c, ...extra };
}

export function clientFor(sim: RunningSimulator, cluster: ClusterConfig, o: ProxmoxClientOptions = {}): ProxmoxClient {
  return new ProxmoxClient(cluster, { timeScale: sim.clock.timeScale, now: () => sim.clock.now(), ...o });
}
