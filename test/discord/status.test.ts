import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { rrdCacheFor } from '../../src/core/rrd-cache.js';
import { registerCommands } from '../../src/discord/register.js';
import { commands } from '../../commands/index.js';
import { startStack, type Stack } from './stack.js';

// /status with its chart, the student's narrower view, paging, and `npm run register` against the fake.
describe('/status and command registration', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ timeScale: 0.01, settings: { statusNodesPerPage: 2 } });
    const cache = rrdCacheFor(s.bot.app);
    for (let k = 0; k < 100 && cache.all().length < 3; k++) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => s?.stop());

  async function status(member: 'teacher' | 'student') {
    const { token } = s.fake.slash({ member: s.fake.members[member], name: 'status' });
    return s.fake.waitFor((r) => r.interactionToken === token && r.method === 'PATCH', 20_000, 'status reply');
  }

  it('shows node bars, groups and jobs to a teacher, with a decodable, non-blank PNG chart', async () => {
    const r = await status('teacher');
    const [nodes, chart] = r.body.embeds;
    expect(nodes.title).toBe('Cluster sim');
    expect(nodes.fields.map((f: { name: string }) => f.name.split(' ')[0])).toEqual(['pve1', 'pve2', 'Groups', 'Running']);
    expect(nodes.fields[0].value).toMatch(/^CPU `[█░]{12} \d+%` · \d+\/16 vCPU\nMemory `[█░]{12} \d+%`\nused [\d.]+ GiB · allocated [\d.]+ GiB · total 64\.0 GiB/);
    expect(nodes.footer.text).toBe('Page 1/2');
    expect(chart.image.url).toBe('attachment://load.png');
    const png = PNG.sync.read(r.files.find((f) => f.name === 'load.png')!.data);
    expect([png.width, png.height]).toEqual([800, 400]);
    let drawn = 0;
    for (let k = 0; k < png.data.length; k += 4) if (png.data[k]! < 200 || png.data[k + 1]! < 200 || png.data[k + 2]! < 200) drawn++;
    expect(drawn / (png.width * png.height)).toBeGreaterThan(0.01);
    // the node lines themselves: pve1's colour #1e88e5 appears
    let blue = 0;
    for (let k = 0; k < png.data.length; k += 4) if (png.data[k] === 0x1e && png.data[k + 1] === 0x88 && png.data[k + 2] === 0xe5) blue++;
    expect(blue).toBeGreaterThan(20);

    const next = s.fake.button(r.message!.id, 'status:page:sim::1');
    const click = s.fake.click({ member: s.fake.members.teacher, messageId: r.message!.id, customId: next });
    const page2 = await s.fake.waitFor((x) => x.interactionToken === click.token && x.method === 'PATCH');
    expect(page2.body.embeds[0].fields[0].name).toMatch(/^pve3 /);
    expect(page2.body.embeds[0].footer.text).toBe('Page 2/2');
  });

  it('shows a student node load only', async () => {
    const r = await status('student');
    const names = r.body.embeds[0].fields.map((f: { name: string }) => f.name.split(' ')[0]);
    expect(names).toEqual(['pve1', 'pve2']);
  });

  it('registers every slash command for the guild with one PUT', async () => {
    const out = await registerCommands({ commands, env: s.env });
    expect(out.guildId).toBe(s.fake.guildId);
    expect(out.names.sort()).toEqual(['cleanup', 'deploy', 'link', 'reset', 'stand', 'status', 'templates', 'unlink']);
    const put = await s.fake.waitFor((r) => r.method === 'PUT');
    expect(put.path).toBe(`/applications/${s.fake.appId}/guilds/${s.fake.guildId}/commands`);
    const deploy = put.body.find((c: { name: string }) => c.name === 'deploy');
    expect(deploy.options.map((o: { name: string }) => o.name)).toEqual(['profile', 'users', 'group', 'cluster', 'placement', 'clone', 'lease', 'start']);
  });
});
