import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Connections } from '../../src/config/connections.js';
import { defaultSettings } from '../../src/config/settings.js';
import { createContext, defaultStatePath } from '../../src/core/context.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'stands-ctx-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const connections = (file: string): Connections => ({
  clusters: {
    lab: { name: 'lab', url: 'https://127.0.0.1:1', tokenId: 'a@pve!t', tokenSecret: 's', tls: { insecure: true }, maxInFlight: 6 },
    dev: { name: 'dev', url: 'https://127.0.0.1:2', tokenId: 'a@pve!t', tokenSecret: 's', tls: { insecure: true }, maxInFlight: 6 },
  },
  default: 'lab',
  file,
});

describe('state file location', () => {
  it('is <config>/state.sqlite unless STANDS_STATE is set (an empty value counts as unset)', () => {
    expect(defaultStatePath('/etc/stands', {})).toBe('/etc/stands/state.sqlite');
    expect(defaultStatePath('/etc/stands', { STANDS_STATE: '' })).toBe('/etc/stands/state.sqlite');
    expect(defaultStatePath('/etc/stands', { STANDS_STATE: '/var/lib/stands/s.db' })).toBe('/var/lib/stands/s.db');
  });
});

describe('createContext', () => {
  it('opens the store and caches one client per cluster', async () => {
    const dir = tmp();
    const ctx = await createContext({ configDir: dir, logger: silentLogger(), connections: connections(join(dir, 'connections.yml')), settings: defaultSettings(), env: {} });
    try {
      expect(ctx.store.file).toBe(join(dir, 'state.sqlite'));
      expect(existsSync(join(dir, 'state.sqlite'))).toBe(true);
      expect(ctx.client()).toBe(ctx.client('lab'));
      expect(ctx.client('dev')).not.toBe(ctx.client('lab'));
      expect(ctx.defaultCluster).toBe('lab');
    } finally {
      await ctx.close();
    }
  });

  it('refuses an unknown --cluster before opening anything', async () => {
    const dir = tmp();
    const err = await createContext({
      configDir: dir,
      logger: silentLogger(),
      clusterOverride: 'prod',
      connections: connections(join(dir, 'connections.yml')),
      settings: defaultSettings(),
      env: {},
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`${join(dir, 'connections.yml')}: no cluster named "prod" (known: lab, dev)`);
    expect(existsSync(join(dir, 'state.sqlite'))).toBe(false);
  });
});
