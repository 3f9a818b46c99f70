import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/sim/index.js';
import { ProxmoxApiError } from '../../src/proxmox/errors.js';
import { clientFor, clusterFor, startSim } from './sim-client.js';

let sim: RunningSimulator;
let dir: string;
const WRONG = 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99';

beforeAll(async () => {
  sim = await startSim();
  dir = await mkdtemp(join(tmpdir(), 'stands-tls-'));
});
afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('TLS trust', () => {
  it('accepts the pinned fingerprint (any case / separator style)', async () => {
    const c = clientFor(sim, clusterFor(sim, 'token', { fingerprint: sim.fingerprint.replace(/:/g, '').toLowerCase() }));
    expect((await c.version()).version).toMatch(/^\d+\.\d+/);
    await c.close();
  });

  it('refuses a wrong pin with "seen … expected …", and does not retry', async () => {
    const c = clientFor(sim, clusterFor(sim, 'token', { fingerprint: WRONG }));
    sim.stats.reset();
    const err = (await c.version().catch((e: unknown) => e)) as ProxmoxApiError;
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect(err.code).toBe('ERR_TLS_FINGERPRINT_MISMATCH');
    expect(err.message).toContain(`seen ${sim.fingerprint}, expected ${WRONG}`);
    expect(c.stats.requests).toBe(1);
    expect(sim.stats.requests).toBe(0);
    await c.close();
  });

  it('trusts the certificate given as a CA file', async () => {
    const caFile = join(dir, 'pve-ca.pem');
    await writeFile(caFile, sim.caPem);
    const c = clientFor(sim, clusterFor(sim, 'token', { fingerprint: undefined, ca: caFile }));
    expect((await c.nodes()).length).toBe(3);
    await c.close();
  });

  it('refuses the self-signed certificate with system CAs only, and accepts it with insecure: true', async () => {
    const strict = clientFor(sim, clusterFor(sim, 'token', { fingerprint: undefined }));
    const err = (await strict.version().catch((e: unknown) => e)) as ProxmoxApiError;
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect(err.status).toBe(0);
    expect(err.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    await strict.close();

    const loose = clientFor(sim, clusterFor(sim, 'token', { fingerprint: undefined, insecure: true }));
    expect((await loose.nodes()).length).toBe(3);
    await loose.close();
  });
});
