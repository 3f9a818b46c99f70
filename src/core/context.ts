/**
 * The application context, built once at start-up (CLI command or bot) and handed down explicitly: settings,
 * connections, the store, a logger, and one Proxmox client per cluster (created on first use, then reused).
 */
import { registerSecret } from '../secrets.js';
import { join, resolve } from 'node:path';
import { loadConnections, pickCluster, type Connections } from '../config/connections.js';
import { loadSettings, type Settings } from '../config/settings.js';
import type { Logger } from '../log.js';
import { ProxmoxClient, type ProxmoxClientOptions } from '../proxmox/client.js';
import { isStateUrl, openStore, type Store } from '../store/index.js';
import { ConfigError } from '../errors.js';

export interface AppContext {
  configDir: string;
  settings: Settings;
  connections: Connections;
  store: Store;
  logger: Logger;
  /** The cluster used when none is named (`--cluster`, else connections.yml's default). */
  defaultCluster: string;
  client(cluster?: string): ProxmoxClient;
  close(): Promise<void>;
}

export interface CreateContextOptions {
  configDir: string;
  /** `--state FILE|URL`; else STANDS_STATE; else `<config>/state.sqlite`. */
  statePath?: string;
  logger: Logger;
  /** `--cluster`: overrides connections.yml's default. */
  clusterOverride?: string;
  /** Already loaded (tests, the demo): skip reading the files. */
  connections?: Connections;
  settings?: Settings;
  /** Passed to every client (the demo and tests pass the simulator's timeScale). */
  clientOptions?: Omit<ProxmoxClientOptions, 'logger'>;
  env?: NodeJS.ProcessEnv;
  /**
   * Proxmox secrets: `true` (default) required; `'optional'` read when they can be, else left out; `false` never
   * read (commands that only read the state file). A cluster without them cannot be talked to.
   */
  secrets?: boolean | 'optional';
}

async function connectionsFor(configDir: string, env: NodeJS.ProcessEnv, secrets: boolean | 'optional'): Promise<Connections> {
  if (secrets !== 'optional') return loadConnections(configDir, { env, secrets });
  try {
    return await loadConnections(configDir, { env });
  } catch (err) {
    // any other problem of the file is reported by this second reading as well
    if (err instanceof ConfigError) return loadConnections(configDir, { env, secrets: false });
    throw err;
  }
}

export function defaultStatePath(configDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.STANDS_STATE;
  // empty environment strings count as unset
  if (fromEnv && isStateUrl(fromEnv)) return fromEnv.trim();
  return fromEnv && fromEnv.trim() !== '' ? resolve(fromEnv) : join(resolve(configDir), 'state.sqlite');
}

export async function createContext(o: CreateContextOptions): Promise<AppContext> {
  const configDir = resolve(o.configDir);
  const env = o.env ?? process.env;
  const [connections, settings] = await Promise.all([
    o.connections ?? connectionsFor(configDir, env, o.secrets ?? true),
    o.settings ?? loadSettings(configDir, { env }),
  ]);
  // the API credentials are live secrets from here on: redacted by value from every log line and record
  for (const c of Object.values(connections.clusters)) {
    registerSecret(c.tokenSecret);
    registerSecret(c.password);
  }
  const defaultCluster = o.clusterOverride ?? connections.default;
  // fail early (exit 2) on a --cluster that does not exist
  pickCluster(connections, defaultCluster);
  const state = o.statePath ? (isStateUrl(o.statePath) ? o.statePath.trim() : resolve(o.statePath)) : defaultStatePath(configDir, env);
  const store = await openStore(state, {
    onCorrupt: (err) => o.logger.warn({ key: err.key, file: err.file }, err.message),
  });
  const clients = new Map<string, ProxmoxClient>();
  return {
    configDir,
    settings,
    connections,
    store,
    logger: o.logger,
    defaultCluster,
    client(cluster = defaultCluster) {
      let c = clients.get(cluster);
      if (!c) {
        c = new ProxmoxClient(pickCluster(connections, cluster), {
          ...o.clientOptions,
          logger: o.logger.child({ cluster }),
        });
        clients.set(cluster, c);
      }
      return c;
    },
    async close() {
      await Promise.allSettled([...clients.values()].map((c) => c.close()));
      await store.close();
    },
  };
}
