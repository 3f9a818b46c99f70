/**
 * Throw-away configuration directories for benchmark and drill runs: connections.yml pointing at a simulator,
 * a profile, a user list and stands.yml (defaults unless a bench needs otherwise: the engine is not tuned).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface SimCredentials {
  url: string;
  fingerprint: string;
  user: string;
  password: string;
  tokenId: string;
  tokenSecret: string;
}

export interface MachineSpec {
  name: string;
  template: number | string;
  cores?: number;
  memory?: number;
  networks: string[];
  device?: 'linux' | 'ecorouter';
  clone?: 'linked' | 'full';
}

/**
 * Benchmark 1's class: four VMs per student from the default seed's templates (router, server, two clients on
 * two private segments). Cores and memory are trimmed so 30 stands fit the default seed's three nodes.
 */
export const FOUR_VM_PROFILE: MachineSpec[] = [
  { name: 'rtr', template: 'ecorouter-tpl', cores: 1, memory: 1024, networks: ['lan', 'dmz'], device: 'ecorouter' },
  { name: 'srv', template: 'alt-server-tpl', cores: 1, memory: 1024, networks: ['dmz'] },
  { name: 'cli1', template: 'debian-12-tpl', cores: 1, memory: 512, networks: ['lan'] },
  { name: 'cli2', template: 'debian-12-tpl', cores: 1, memory: 512, networks: ['lan'] },
];

/** Benchmark 2: two VMs, full clones. */
export const TWO_VM_FULL_PROFILE: MachineSpec[] = [
  { name: 'srv', template: 'alt-server-tpl', cores: 1, memory: 1024, networks: ['lan'], clone: 'full' },
  { name: 'cli', template: 'debian-12-tpl', cores: 1, memory: 512, networks: ['lan'], clone: 'full' },
];

/** Benchmark 4: three VMs (bigSeed templates are on ceph: no replicas). */
export const THREE_VM_PROFILE: MachineSpec[] = [
  { name: 'rtr', template: 'ecorouter-tpl', cores: 1, memory: 1024, networks: ['lan'], device: 'ecorouter' },
  { name: 'srv', template: 'alt-server-tpl', cores: 1, memory: 1024, networks: ['lan'] },
  { name: 'cli', template: 'debian-12-tpl', cores: 1, memory: 512, networks: ['lan'] },
];

export interface FixtureOptions {
  dir: string;
  sim: SimCredentials;
  profileName: string;
  machines: MachineSpec[];
  clone: 'linked' | 'full';
  users: number;
  /** stands.yml content (omitted = all defaults) */
  settings?: Record<string, unknown>;
  /** authenticate with root@pam + password (tickets) instead of the API token */
  ticketAuth?: boolean;
  userPrefix?: string;
}

export interface Fixture {
  configDir: string;
  profile: string;
  usersFile: string;
  statePath: string;
  userids: string[];
}

export function writeFixture(o: FixtureOptions): Fixture {
  mkdirSync(join(o.dir, 'profiles'), { recursive: true });
  const cluster: Record<string, unknown> = { url: o.sim.url, tls: { fingerprint: o.sim.fingerprint } };
  if (o.ticketAuth) {
    cluster.user = o.sim.user;
    cluster.password = o.sim.password;
  } else {
    cluster.token_id = o.sim.tokenId;
    cluster.token_secret = o.sim.tokenSecret;
  }
  writeFileSync(join(o.dir, 'connections.yml'), stringify({ clusters: { sim: cluster }, default: 'sim' }));
  writeFileSync(
    join(o.dir, 'profiles', `${o.profileName}.yml`),
    stringify({ name: o.profileName, clone: o.clone, machines: o.machines }),
  );
  if (o.settings) writeFileSync(join(o.dir, 'stands.yml'), stringify(o.settings));
  const prefix = o.userPrefix ?? 'student';
  const width = Math.max(2, String(o.users).length);
  const userids = Array.from({ length: o.users }, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}@pve`);
  const usersFile = join(o.dir, 'users.txt');
  writeFileSync(usersFile, userids.join('\n') + '\n');
  return { configDir: o.dir, profile: o.profileName, usersFile, statePath: join(o.dir, 'state.sqlite'), userids };
}
