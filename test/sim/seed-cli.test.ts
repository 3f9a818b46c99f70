import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { connect } from 'node:tls';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { runSimCommand } from '../../src/sim/cli-sim.js';
import { bigSeed, DEFAULT_SEED, loadSeedFile, parseSeed } from '../../src/sim/index.js';
import { startTestSim } from './helpers.js';

describe('seed format', () => {
  it('parses the default seed and a big generated one', () => {
    const d = parseSeed(DEFAULT_SEED);
    expect(d.nodes.map((n) => n.name)).toEqual(['pve1', 'pve2', 'pve3']);
    expect(d.vms.filter((v) => v.template).map((v) => v.vmid)).toEqual([9000, 9001, 9002]);
    const big = parseSeed(bigSeed({ nodes: 32, vms: 3000 }));
    expect(big.nodes).toHaveLength(32);
    expect(big.vms).toHaveLength(3003);
  });

  it('loads a YAML seed file and starts a cluster from it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-seed-'));
    const file = join(dir, 'seed.yml');
    await writeFile(
      file,
      [
        'nodes:',
        '  - { name: lab1, cores: 4, memoryGiB: 16 }',
        'storages:',
        '  - { id: local-lvm, type: lvmthin, shared: false, capacityGiB: 200 }',
        'vms:',
        '  - { vmid: 9000, name: tpl, node: lab1, template: true, storage: local-lvm, nets: [{ bridge: vmbr0 }] }',
        'network:',
        "  - { node: '*', iface: vmbr0, type: bridge }",
        'rootPassword: fixed-password',
      ].join('\n'),
    );
    const t = await startTestSim({ seed: file });
    try {
      expect(t.sim.password).toBe('fixed-password');
      const nodes = await t.api('GET', '/nodes');
      expect(nodes.body.data.map((n: { node: string }) => n.node)).toEqual(['lab1']);
    } finally {
      await t.stop();
    }
  });

  it('reports every problem with file, line and field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-seed-'));
    const file = join(dir, 'bad.yml');
    await writeFile(
      file,
      [
        'nodes:',
        '  - name: lab1',
        '    cores: -4',
        '    memoryGiB: 16',
        'vms:',
        '  - vmid: 100',
        '    name: x',
        '    node: lab9',
        '    storage: nope',
      ].join('\n'),
    );
    const err = await loadSeedFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0]).toMatchObject({ file, line: 3, path: 'nodes[0].cores' });
    const cross = join(dir, 'cross.yml');
    await writeFile(cross, ['nodes:', '  - { name: lab1, cores: 4, memoryGiB: 16 }', 'vms:', '  - { vmid: 100, name: x, node: lab9, storage: nope }'].join('\n'));
    const err2 = (await loadSeedFile(cross).catch((e: unknown) => e)) as ConfigError;
    expect(err2.message).toBe(`${cross}:4: vms[0].node: unknown node 'lab9'\n${cross}:4: vms[0].storage: unknown storage 'nope'`);
  });
});

describe('stands sim (runSimCommand)', () => {
  it('prints one JSON line with url, fingerprint and credentials that work, and stops on signal', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const ac = new AbortController();
    const run = runSimCommand({ port: 0, json: true, timeScale: 0.01, signal: ac.signal }, out);
    while (!text.includes('\n')) await new Promise((r) => setTimeout(r, 10));
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(1);
    const info = JSON.parse(lines[0]!);
    expect(Object.keys(info)).toEqual(['url', 'fingerprint', 'user', 'password', 'token_id', 'token_secret']);
    expect(info.user).toBe('root@pam');
    expect(info.token_id).toBe('root@pam!stands');
    // trust by fingerprint, as a client configured with `fingerprint:` does
    const { port } = new URL(info.url);
    const seen = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false }, () => {
        resolve(s.getPeerCertificate().fingerprint256);
        s.end();
      });
      s.on('error', reject);
    });
    const agent = new Agent({ connect: { rejectUnauthorized: false } });
    const r = await request(`${info.url}/api2/json/version`, {
      dispatcher: agent,
      headers: { authorization: `PVEAPIToken=${info.token_id}=${info.token_secret}` },
    });
    expect(r.statusCode).toBe(200);
    expect(seen).toBe(info.fingerprint);
    await r.body.text();
    await agent.close();
    ac.abort();
    await run;
  });

  it('prints readable lines by default', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const ac = new AbortController();
    const run = runSimCommand({ port: 0, timeScale: 0.01, signal: ac.signal }, out);
    while (!text.includes('Ctrl+C')) await new Promise((r) => setTimeout(r, 10));
    expect(text).toMatch(/^URL: {10}https:\/\/127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^Fingerprint: {2}([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
    expect(text).toMatch(/^User: {9}root@pam$/m);
    expect(text).toMatch(/^Token ID: {5}root@pam!stands$/m);
    ac.abort();
    await run;
  });
});
