import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { Agent } from 'undici';
import type { RunningSimulator } from '../../src/sim/index.js';
import { ProxmoxApiError } from '../../src/proxmox/errors.js';
import { UserError } from '../../src/errors.js';
import { clientFor, clusterFor, startSim } from './sim-client.js';

const HOUR = 3_600_000;
let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSim();
});
afterAll(async () => {
  await sim?.stop();
});

describe('API token auth', () => {
  it('reads and writes with the token header, no ticket, no CSRF', async () => {
    const c = clientFor(sim, clusterFor(sim, 'token'));
    const nodes = await c.nodes();
    expect(nodes.map((n) => n.node).sort()).toEqual(['pve1', 'pve2', 'pve3']);
    await c.createPool('auth-token-pool', 'made with a token');
    expect((await c.getPool('auth-token-pool'))?.comment).toBe('made with a token');
    expect(c.stats.logins).toBe(0);
    await c.close();
  });

  it('a wrong token secret is a 401 with PVE message, not retried', async () => {
    const c = clientFor(sim, clusterFor(sim, 'token', {}, { tokenSecret: '00000000-0000-0000-0000-000000000000' }));
    const err = await c.nodes().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect((err as ProxmoxApiError).status).toBe(401);
    expect(c.stats.requests).toBe(1);
    await c.close();
  });
});

describe('ticket auth', () => {
  it('logs in once, sends the CSRF token on writes, and the server really wants it', async () => {
    const c = clientFor(sim, clusterFor(sim, 'ticket'));
    await c.createPool('auth-ticket-pool');
    await c.deletePool('auth-ticket-pool');
    expect(await c.getPool('auth-ticket-pool')).toBeUndefined();
    expect(c.stats.logins).toBe(1);

    // The same write without the CSRF header is refused: the client's success above is not vacuous.
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    const login = await request(`${sim.url}/api2/json/access/ticket`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: sim.user, password: sim.password }).toString(),
    });
    const ticket = ((await login.body.json()) as { data: { ticket: string } }).data.ticket;
    const res = await request(`${sim.url}/api2/json/pools`, {
      method: 'POST',
      dispatcher,
      headers: { cookie: `PVEAuthCookie=${encodeURIComponent(ticket)}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'poolid=no-csrf',
    });
    await res.body.text();
    expect(res.statusCode).toBe(401);
    expect(res.statusText).toMatch(/invalid csrf token/i);
    await dispatcher.close();
    await c.close();
  });

  it('renews the ticket after an hour on the server clock, once for many parallel requests', async () => {
    const c = clientFor(sim, clusterFor(sim, 'ticket'));
    await c.nodes();
    expect(c.stats.logins).toBe(1);
    sim.clock.advance(HOUR + 60_000);
    const results = await Promise.all(Array.from({ length: 8 }, () => c.nodes()));
    expect(results.every((r) => r.length === 3)).toBe(true);
    expect(c.stats.renewals).toBe(1);
    expect(c.stats.logins).toBe(2); // the renewal is one POST /access/ticket with the old ticket as password
    await c.close();
  });

  it('keeps working through a long run (6 h on the server clock) by renewing along the way', async () => {
    const c = clientFor(sim, clusterFor(sim, 'ticket'));
    for (let step = 0; step < 36; step++) {
      await c.clusterResources('node');
      sim.clock.advance(10 * 60_000);
    }
    await c.createPool('long-run-pool');
    expect(c.stats.renewals).toBeGreaterThanOrEqual(5);
    await c.deletePool('long-run-pool');
    await c.close();
  });

  it('without the server clock, renews after timeScale × 1 h of real time', async () => {
    // 1 h of PVE time at timeScale 0.01 is 36 s of real time; compress it further for the test.
    const c = clientFor(sim, clusterFor(sim, 'ticket'), { now: undefined, timeScale: 0.00001 });
    await c.nodes();
    await new Promise((r) => setTimeout(r, 60));
    await c.nodes();
    expect(c.stats.renewals).toBe(1);
    await c.close();
  });

  it('after a gap longer than the 2 h lifetime, the old ticket is refused and it logs in with the password', async () => {
    const c = clientFor(sim, clusterFor(sim, 'ticket'));
    await c.nodes();
    sim.clock.advance(3 * HOUR);
    expect((await c.nodes()).length).toBe(3);
    expect(c.stats.renewals).toBe(0);
    expect(c.stats.logins).toBe(3); // first login, refused renewal, password login
    await c.close();
  });

  it('on a 401 (ticket expired behind its back) logs in again once and repeats the request', async () => {
    // This client measures the ticket's age on its own clock, so it does not see the server's jump coming.
    const c = clientFor(sim, clusterFor(sim, 'ticket'), { now: () => Date.now() });
    await c.nodes();
    sim.clock.advance(3 * HOUR);
    await c.createPool('after-401-pool');
    expect(await c.getPool('after-401-pool')).toBeDefined();
    expect(c.stats.logins).toBe(2);
    await c.deletePool('after-401-pool');
    await c.close();
  });

  it('a login that hits a 5xx or 59x is simply repeated (it creates nothing)', async () => {
    const c = clientFor(sim, clusterFor(sim, 'ticket'));
    sim.faults.add({ kind: 'error', method: 'POST', path: '/access/ticket', status: 596, message: 'Connection timed out', times: 2 });
    expect((await c.nodes()).length).toBe(3);
    sim.faults.clear();
    expect(c.stats.logins).toBe(3);
    expect(c.stats.retries).toBe(2);
    await c.close();
  });

  it('a wrong password is reported as an authentication failure, without the password', async () => {
    const c = clientFor(sim, clusterFor(sim, 'ticket', {}, { password: 'not-the-password-42' }));
    const err = (await c.nodes().catch((e: unknown) => e)) as ProxmoxApiError;
    expect(err).toBeInstanceOf(ProxmoxApiError);
    expect(err.message).toBe('lab: POST /access/ticket failed: 401 authentication failure for root@pam (wrong user or password)');
    expect(JSON.stringify(err)).not.toContain('not-the-password-42');
    await c.close();
  });
});

describe('password changes', () => {
  it('with token + user/password: everything goes by token, the password change by ticket', async () => {
    const c = clientFor(sim, clusterFor(sim, 'both'));
    await c.createUser({ userid: 'pwchange@pve', password: 'initial-Passw0rd' });
    expect(c.stats.logins).toBe(0);
    await c.changePassword('pwchange@pve', 'second-Passw0rd');
    expect(c.stats.logins).toBe(1);
    // The new password works: log in as that user.
    const u = clientFor(sim, clusterFor(sim, 'ticket', {}, { user: 'pwchange@pve', password: 'second-Passw0rd' }));
    await u.version();
    await u.close();
    await c.deleteUser('pwchange@pve');
    await c.close();
  });

  it('with only a token: a clear UserError, nothing sent', async () => {
    const c = clientFor(sim, clusterFor(sim, 'token'));
    const err = await c.changePassword('alice@pve', 'whatever-Passw0rd').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      'cluster lab: cannot change the password of alice@pve: Proxmox VE refuses password changes made with an API token; ' +
        'add user and password (e.g. root@pam) for this cluster in connections.yml',
    );
    expect(c.stats.requests).toBe(0);
    await c.close();
  });
});
