/**
 * The bot's health, for a container HEALTHCHECK (`stands health`): while it runs, the bot rewrites a small JSON
 * file (STANDS_HEALTH_FILE) every few seconds and on every gateway state change, saying whether all its gateway
 * shards are connected and when they last were. `stands health` fails when the file is stale (the bot hangs or
 * is gone) or the gateway connection has been lost for longer than the allowed age.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Events, Status, type Client } from 'discord.js';
import type { Logger } from '../log.js';
import type { Heartbeat } from './health.js';

export const HEARTBEAT_INTERVAL_MS = 10_000;

function gatewayConnected(client: Client): boolean {
  const shards = [...client.ws.shards.values()];
  return shards.length > 0 && shards.every((s) => s.status === Status.Ready);
}

/** Write-then-rename: `stands health` never reads half a file. */
function writeBeat(file: string, beat: Heartbeat): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(beat));
  renameSync(`${file}.tmp`, file);
}

/**
 * A standby bot's heartbeat (not logged in while another instance is active): it says "standby" and that this
 * process is alive, so a container HEALTHCHECK does not restart a healthy standby. Returns the stop function.
 */
export function startStandbyHeartbeat(file: string, o: { logger?: Logger; intervalMs?: number; now?: () => number } = {}): () => void {
  const now = o.now ?? Date.now;
  let warned = false;
  const write = (): void => {
    try {
      writeBeat(file, { writtenAt: now(), connected: false, lastConnectedAt: null, pid: process.pid, standby: true });
      warned = false;
    } catch (err) {
      if (!warned) o.logger?.warn({ err, file }, 'cannot write the health file');
      warned = true;
    }
  };
  const timer = setInterval(write, o.intervalMs ?? HEARTBEAT_INTERVAL_MS);
  timer.unref();
  write();
  return () => clearInterval(timer);
}

/** Starts writing the heartbeat file; returns the function that stops it. */
export function startHeartbeat(
  client: Client,
  file: string,
  o: { logger?: Logger; intervalMs?: number; now?: () => number } = {},
): () => void {
  const now = o.now ?? Date.now;
  let lastConnectedAt: number | null = null;
  let warned = false;
  const write = (): void => {
    const t = now();
    const connected = gatewayConnected(client);
    if (connected) lastConnectedAt = t;
    const beat: Heartbeat = { writtenAt: t, connected, lastConnectedAt, pid: process.pid };
    try {
      writeBeat(file, beat);
      warned = false;
    } catch (err) {
      if (!warned) o.logger?.warn({ err, file }, 'cannot write the health file');
      warned = true;
    }
  };
  const events = [Events.ShardReady, Events.ShardResume, Events.ShardDisconnect, Events.ShardReconnecting, Events.ShardError] as const;
  // discord.js updates a shard's status right after these events fire: look once the current event is handled
  const onEvent = (): void => void setImmediate(write);
  for (const e of events) client.on(e, onEvent);
  const timer = setInterval(write, o.intervalMs ?? HEARTBEAT_INTERVAL_MS);
  timer.unref();
  write();
  return () => {
    clearInterval(timer);
    for (const e of events) client.off(e, onEvent);
  };
}
