import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/sim/index.js';
import { createLogger } from '../../src/log.js';
import { clientFor, clusterFor, startSim } from './sim-client.js';
import { startResetProxy, type ResetProxy } from './reset-proxy.js';

let sim: RunningSimulator;
let proxy: ResetProxy;
let resetNext = false;

beforeAll(async () => {
  sim = await startSim();
  // The proxy passes everything through (and records the headers, so we know every ticket and CSRF token used).
  proxy = await startResetProxy(sim.url, (method, path) => {
    if (resetNext && method === 'POST' && path === '/access/users') {
      resetNext = false;
      return 'reset-after';
    }
    return 'pass';
  });
});
afterAll(async () => {
  await proxy?.stop();
  await sim?.stop();
});

describe('no secret in logs or errors', () => {
  it('a full run at trace level leaks no password, token secret, ticket or CSRF token', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger({ level: 'trace', destination: sink });
    const errors: unknown[] = [];
    const keep = (p: Promise<unknown>): Promise<unknown> => p.catch((e: unknown) => errors.push(e));
    const studentPw = 'Student-Secret-Passw0rd-1';
    const newPw = 'Changed-Secret-Passw0rd-2';

    const viaProxy = { url: proxy.url };
    const pin = { fingerprint: proxy.fingerprint };
    const both = clientFor(sim, clusterFor(sim, 'both', pin, viaProxy), { logger });
    const ticketOnly = clientFor(sim, clusterFor(sim, 'ticket', pin, viaProxy), { logger });
    const tokenOnly = clientFor(sim, clusterFor(sim, 'token', pin, viaProxy), { logger });

    await both.check();
    await both.createUser({ userid: 'leak01@pve', password: studentPw, comment: 'leak test' });
    await both.changePassword('leak01@pve', newPw);
    await keep(tokenOnly.changePassword('leak01@pve', newPw));
    await ticketOnly.createPool('leak-pool');
    sim.clock.advance(61 * 60_000); // renewal with the ticket as password
    await ticketOnly.nodes();
    sim.clock.advance(3 * 3_600_000); // expired: renewal refused, password login
    await ticketOnly.deletePool('leak-pool');
    resetNext = true; // ambiguous write with the password in the body
    await ticketOnly.createUser({ userid: 'leak02@pve', password: studentPw });
    await keep(ticketOnly.createUser({ userid: 'leak02@pve', password: studentPw })); // already exists
    await keep(ticketOnly.createUser({ userid: 'bad id', password: studentPw })); // 400 param error
    const badPw = clientFor(sim, clusterFor(sim, 'ticket', pin, { ...viaProxy, password: `${sim.password}-wrong` }), { logger });
    await keep(badPw.nodes());
    const badToken = clientFor(sim, clusterFor(sim, 'token', pin, { ...viaProxy, tokenSecret: `${sim.tokenSecret}x` }), { logger });
    await keep(badToken.nodes());
    sim.faults.add({ kind: 'timeout', method: 'POST', path: '/access/users', when: 'after', times: 1 });
    await both.createUser({ userid: 'leak03@pve', password: studentPw });
    const t = await both.startVm('pve1', 100);
    await keep(both.waitTask(t)); // already running → TaskFailedError
    for (const c of [both, ticketOnly, tokenOnly, badPw, badToken]) await c.close();

    expect(errors.length).toBe(6);
    expect(lines.length).toBeGreaterThan(20);

    const secrets = new Set<string>([sim.password, sim.tokenSecret, studentPw, newPw, `${sim.password}-wrong`, `${sim.tokenSecret}x`]);
    for (const h of proxy.headers) {
      const cookie = /PVEAuthCookie=([^;]+)/.exec(h.cookie ?? '')?.[1];
      if (cookie) secrets.add(decodeURIComponent(cookie));
      if (h.csrfpreventiontoken) secrets.add(h.csrfpreventiontoken);
    }
    // several tickets (login, renewal, re-login) and their CSRF tokens were really used
    expect([...secrets].filter((s) => s.startsWith('PVE:')).length).toBeGreaterThanOrEqual(3);

    const logText = lines.join('');
    const errorText = errors.map((e) => `${String(e)}\n${JSON.stringify(e)}\n${inspect(e, { depth: 6 })}`).join('\n');
    for (const s of secrets) {
      for (const form of [s, encodeURIComponent(s)]) {
        expect(logText.includes(form), `log contains a secret (${s.slice(0, 4)}…)`).toBe(false);
        expect(errorText.includes(form), `an error contains a secret (${s.slice(0, 4)}…)`).toBe(false);
      }
    }
  });
});
