import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadAttachment, hostAllowed } from '../../src/discord/attachments.js';
import { messages } from '../../src/discord/i18n.js';
import { parseUserList } from '../../src/config/user-list.js';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.js';

const m = messages('en');

// Attachment downloads against a real HTTP server on loopback (the fake's /files/).
describe('attachment download', () => {
  let fake: FakeDiscord;
  let host: string;
  beforeAll(async () => {
    fake = await startFakeDiscord();
    host = `127.0.0.1:${fake.port}`;
  });
  afterAll(async () => fake.stop());

  it("allows Discord's CDN over https only, and extra hosts by host or host:port", () => {
    expect(hostAllowed(new URL('https://cdn.discordapp.com/a/b.txt'))).toBe(true);
    expect(hostAllowed(new URL('http://cdn.discordapp.com/a/b.txt'))).toBe(false);
    expect(hostAllowed(new URL('https://evil.example/b.txt'))).toBe(false);
    expect(hostAllowed(new URL('http://127.0.0.1:8080/b.txt'), ['127.0.0.1:8080'])).toBe(true);
    expect(hostAllowed(new URL('http://127.0.0.1:9090/b.txt'), ['127.0.0.1:8080'])).toBe(false);
    expect(hostAllowed(new URL('file:///etc/passwd'), ['localhost'])).toBe(false);
  });

  it('downloads a text list from an allowed host', async () => {
    const url = fake.serveFile('ok.csv', 'user;discord\nivanov;\n', 'application/vnd.ms-excel');
    const bytes = await downloadAttachment({ url, name: 'ok.csv', size: 21, contentType: 'application/vnd.ms-excel' }, { allowedHosts: [host], m });
    expect(bytes.toString()).toBe('user;discord\nivanov;\n');
  });

  it('refuses wrong types and bytes beyond the limit even when the declared size lied', async () => {
    const opts = { allowedHosts: [host], m, maxBytes: 1024 };
    await expect(downloadAttachment({ url: fake.serveFile('x.exe', 'MZ'), name: 'x.exe', size: 2 }, opts)).rejects.toThrow(
      'x.exe: unsupported file type; send a .txt, .csv, .yml or .yaml user list.',
    );
    await expect(downloadAttachment({ url: fake.serveFile('p.txt', 'a'), name: 'p.txt', size: 1, contentType: 'image/png' }, opts)).rejects.toThrow(
      'p.txt: unsupported file type',
    );
    // binary content downloads, and the user-list parser refuses it with the file's name
    const bin = await downloadAttachment({ url: fake.serveFile('bin.txt', Buffer.from([0x61, 0, 0x62, 0xff])), name: 'bin.txt', size: 4 }, opts);
    expect(() => parseUserList(bin, 'bin.txt')).toThrow(/^bin\.txt/);
    await expect(downloadAttachment({ url: fake.serveFile('big.txt', 'x'.repeat(5000)), name: 'big.txt', size: 10 }, opts)).rejects.toThrow(
      /^The attachment is \d+ bytes; the limit is 1024 bytes\.$/,
    );
    await expect(downloadAttachment({ url: `${fake.baseUrl}/files/missing.txt`, name: 'missing.txt', size: 10 }, opts)).rejects.toThrow(
      'Could not download the attachment (HTTP 404).',
    );
  });
});
