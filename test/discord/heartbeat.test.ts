import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { heartbeatProblem, readHeartbeat } from '../../src/discord/health.js';
import { startHeartbeat, startStandbyHeartbeat } from '../../src/discord/heartbeat.js';
import { runCli } from '../cli/run-cli.js';
import { BOT_TOKEN, startFakeDiscord, type FakeDiscord } from '../support/fake-discord.js';
import { startStack } from './stack.js';

// The container's HEALTHCHECK: a real discord.js client on the fake Discord's gateway writes the health file;
// `stands health` reads it. Losing the gateway (the fake stops) shows in the file at once and fails the check
// once the loss is older than the allowed age.
describe('bot health file and `stands health`', () => {
  let fake: FakeDiscord;
  let client: Client;
  let stop: () => void;
  const dir = mkdtempSync(join(tmpdir(), 'stands-health-'));
  const file = join(dir, 'health.json');

  beforeAll(async () => {
    fake = await startFakeDiscord();
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(BOT_TOKEN);
    await ready;
    stop = startHeartbeat(client, file, { intervalMs: 100 });
  });
  afterAll(async () => {
    stop?.();
    await client?.destroy();
    await fake?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('is healthy while connected', async () => {
    const beat = readHeartbeat(file);
    expect(beat.connected).toBe(true);
    expect(beat.pid).toBe(process.pid);
    expect(heartbeatProblem(beat, Date.now())).toBeUndefined();
    const r = await runCli(['health', '--file', file]);
    expect([r.code, r.stdout.trim()]).toEqual([0, 'healthy: connected to the Discord gateway']);
    // the bot keeps rewriting it
    const first = beat.writtenAt;
    await vi.waitFor(() => expect(readHeartbeat(file).writtenAt).toBeGreaterThan(first), { timeout: 30_000, interval: 50 });
  });

  it('fails once the gateway connection has been lost for longer than the allowed age', async () => {
    await fake.stop(); // the gateway is gone: discord.js keeps trying to reconnect
    const lost = await vi.waitFor(
      () => {
        const b = readHeartbeat(file);
        if (b.connected) throw new Error('waiting for the health file to show the lost gateway');
        return b;
      },
      { timeout: 30_000, interval: 50 },
    );
    const since = lost.lastConnectedAt!;
    expect(since).toBeGreaterThan(0);
    // a short loss (a reconnect) is tolerated; a loss over a minute is not
    // (as read at a later time, when the bot, still running, has rewritten the file with the same lastConnectedAt)
    expect(heartbeatProblem({ ...lost, writtenAt: since + 29_000 }, since + 30_000)).toBeUndefined();
    expect(heartbeatProblem({ ...lost, writtenAt: since + 60_000 }, since + 61_000)).toBe('the Discord gateway connection was lost 61 s ago');
    // a bot that stopped writing (hung, killed) fails too
    expect(heartbeatProblem(lost, lost.writtenAt + 61_000)).toMatch(/has not written its health file since 61 s ago/);
    // through the CLI, with the allowed age shortened to 0.2 s once the loss is older than that
    await vi.waitFor(() => expect(Date.now() - since).toBeGreaterThan(400), { timeout: 30_000, interval: 50 });
    const r = await runCli(['health', '--file', file, '--max-age', '0.2']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^unhealthy: the Discord gateway connection was lost \d+ s ago/);
  });

  it('a standby bot (not logged in while another instance is active) is healthy while it keeps writing', async () => {
    const standbyFile = join(dir, 'standby.json');
    const stopStandby = startStandbyHeartbeat(standbyFile, { intervalMs: 100 });
    try {
      const beat = readHeartbeat(standbyFile);
      expect([beat.standby, beat.connected]).toEqual([true, false]);
      const r = await runCli(['health', '--file', standbyFile]);
      expect([r.code, r.stdout.trim()]).toEqual([0, 'healthy: standing by (another instance of the bot is active)']);
      // a standby that stopped writing (hung, killed) fails like an active bot
      expect(heartbeatProblem(beat, beat.writtenAt + 61_000)).toMatch(/has not written its health file since 61 s ago/);
    } finally {
      stopStandby();
    }
  });

  it('fails without a health file, naming it', async () => {
    const missing = join(dir, 'nope.json');
    const r = await runCli(['health', '--file', missing]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`unhealthy: ${missing}: cannot read the health file (ENOENT)`);
    const unset = await runCli(['health'], { env: {} });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('STANDS_HEALTH_FILE');
  });
});

describe('the bot writes its health file when STANDS_HEALTH_FILE is set', () => {
  it('runBot (the real bot on the fake Discord) reports itself connected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stands-health-bot-'));
    const file = join(dir, 'health.json');
    const s = await startStack({ env: { STANDS_HEALTH_FILE: file } });
    try {
      const beat = readHeartbeat(file);
      expect(beat.connected).toBe(true);
      expect((await runCli(['health'], { env: { STANDS_HEALTH_FILE: file } })).code).toBe(0);
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
