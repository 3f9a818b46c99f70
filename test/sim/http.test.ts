import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim } from './helpers.js';

let t: TestSim;
beforeAll(async () => {
  t = await startTestSim();
});
afterAll(() => t.stop());

describe('envelope and errors (pve-http-server)', () => {
  it('answers over HTTPS with the PVE envelope, JSON content type and PVE headers', async () => {
    const r = await t.api('GET', '/version');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json;charset=UTF-8');
    expect(r.headers.server).toBe('pve-api-daemon/3.0');
    expect(r.headers.connection).not.toBe('close');
    expect(r.body).toEqual({ data: { version: '9.1.2', release: '9.1', repoid: expect.any(String), console: 'html5' } });
  });

  it('reports the certificate fingerprint as PVE shows it', () => {
    expect(t.sim.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(t.sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers 501 "Method … not implemented" for unknown paths and methods, and closes the connection', async () => {
    const r = await t.api('GET', '/nodes/pve1/foo');
    expect(r.status).toBe(501);
    expect(r.reason).toBe("Method 'GET /nodes/pve1/foo' not implemented");
    expect(r.body).toEqual({ data: null, message: "Method 'GET /nodes/pve1/foo' not implemented\n" });
    expect(r.headers.connection).toBe('close');
    const p = await t.api('PATCH', '/version');
    expect(p.status).toBe(501);
    expect(p.reason).toBe("Method 'PATCH /version' not implemented");
  });

  it('answers a plain-text 501 "no such uri" outside /api2/json', async () => {
    const r = await request(`${t.sim.url}/foo`, { dispatcher: new Agent({ connect: { ca: t.sim.caPem } }) });
    expect(r.statusCode).toBe(501);
    expect(await r.body.text()).toBe('no such uri\n');
  });

  it('answers 500 with the message as reason phrase for handler errors (not found)', async () => {
    const r = await t.api('GET', '/nodes/pve1/qemu/555/config');
    expect(r.status).toBe(500);
    expect(r.reason).toBe("Configuration file 'nodes/pve1/qemu-server/555.conf' does not exist");
    expect(r.body).toEqual({ data: null, message: "Configuration file 'nodes/pve1/qemu-server/555.conf' does not exist\n" });
    expect(r.headers.connection).toBe('close');
  });

  it('a VM on another node is "not found" on this one', async () => {
    const r = await t.api('GET', '/nodes/pve2/qemu/100/config');
    expect(r.reason).toBe("Configuration file 'nodes/pve2/qemu-server/100.conf' does not exist");
  });
});

describe('statistics', () => {
  it('counts requests per route and task status polls separately', async () => {
    t.sim.stats.reset();
    await t.api('GET', '/version');
    await t.api('GET', '/version');
    const up = await t.api('POST', '/nodes/pve3/qemu/102/status/stop');
    await t.waitTask(up.body.data);
    expect(t.sim.stats.byRoute['GET /version']).toBe(2);
    expect(t.sim.stats.byRoute['POST /nodes/{node}/qemu/{vmid}/status/stop']).toBe(1);
    expect(t.sim.stats.taskStatusPolls).toBe(t.sim.stats.byRoute['GET /nodes/{node}/tasks/{upid}/status']);
    expect(t.sim.stats.taskStatusPolls).toBeGreaterThanOrEqual(1);
    expect(t.sim.stats.requests).toBe(Object.values(t.sim.stats.byRoute).reduce((a, b) => a + b, 0));
  });
});

describe('parameter verification (JSONSchema.pm messages)', () => {
  it('rejects form booleans other than 1/0', async () => {
    const r = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 300, full: 'true' });
    expect(r.status).toBe(400);
    expect(r.reason).toBe('Parameter verification failed.');
    expect(r.body).toEqual({
      data: null,
      errors: { full: "type check ('boolean') failed - got 'true'" },
      message: 'Parameter verification failed.\n',
    });
  });

  it('accepts JSON booleans in a JSON body', async () => {
    const r = await t.api('PUT', '/nodes/pve3/qemu/102/config', { onboot: true as unknown as string }, 'token', { json: true });
    expect(r.status).toBe(200);
    expect((await t.api('GET', '/nodes/pve3/qemu/102/config')).body.data.onboot).toBe(1);
  });

  it('reports every bad parameter: required, integer, unknown, enum, pattern, length, range', async () => {
    const r = await t.api('POST', '/nodes/pve1/qemu/9000/clone', {
      name: 'x', bogus: '1', format: 'vhd', bwlimit: 'ten', snapname: 'a'.repeat(41),
    });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual({
      newid: 'property is missing and it is not optional',
      bogus: 'property is not defined in schema and the schema does not allow additional properties',
      format: "value 'vhd' does not have a value in the enumeration 'raw, qcow2, vmdk'",
      bwlimit: "type check ('integer') failed - got 'ten'",
      snapname: 'value may only be 40 characters long',
    });
    const range = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { newid: 99 });
    expect(range.body.errors).toEqual({ newid: 'value must have a minimum value of 100' });
    const pattern = await t.api('POST', '/access/users', { userid: 'x@pve', keys: 'no spaces allowed' });
    expect(pattern.body.errors).toEqual({ keys: 'value does not match the regex pattern' });
    const format = await t.api('POST', '/nodes/pve1/network', { iface: 'vmbr5', type: 'bridge', bridge_vids: 'x' });
    expect(format.body.errors).toEqual({ bridge_vids: "invalid format - invalid vlan-id or range 'x'" });
    const keyfmt = await t.api('PUT', '/nodes/pve3/qemu/102/config', { net1: 'virtio,bridge=vmbr0,colour=red' });
    expect(keyfmt.status).toBe(400);
    expect(keyfmt.body.errors.net1).toContain('colour');
  });

  it('merges query parameters over body parameters', async () => {
    const r = await t.api('PUT', '/nodes/pve3/qemu/102/config?cores=3', { cores: 1 });
    expect(r.status).toBe(200);
    expect((await t.api('GET', '/nodes/pve3/qemu/102/config')).body.data.cores).toBe(3);
  });

  it('refuses a body parameter that contradicts the URI', async () => {
    const r = await t.api('PUT', '/nodes/pve3/qemu/102/config', { vmid: 101, cores: 1 });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual({ vmid: 'duplicate parameter (already defined in URI) with conflicting values!' });
  });

  it('refuses a body on GET', async () => {
    const r = await request(`${t.sim.url}/api2/json/version`, {
      method: 'GET',
      body: 'a=1',
      headers: { authorization: `PVEAPIToken=${t.sim.tokenId}=${t.sim.tokenSecret}` },
      dispatcher: new Agent({ connect: { ca: t.sim.caPem } }),
    });
    expect(r.statusCode).toBe(501);
    expect(r.statusText).toBe("Unexpected content for method 'GET'");
    await r.body.text();
  });
});
