/**
 * Reading the bot's health file (written by heartbeat.ts) for `stands health`, the container's HEALTHCHECK.
 * No discord.js here: the check loads fast.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const heartbeatSchema = z.object({
  /** Epoch ms of this write. */
  writtenAt: z.number(),
  /** Every gateway shard is Ready. */
  connected: z.boolean(),
  /** Epoch ms of the last write that saw the gateway connected (null: not yet). */
  lastConnectedAt: z.number().nullable(),
  pid: z.number().int(),
  /** A standby bot (another instance is active on the shared state): healthy while it keeps writing. */
  standby: z.boolean().optional(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

export const HEARTBEAT_MAX_AGE_MS = 60_000;

/** What is wrong with the bot, judged from its heartbeat file at `now`; undefined when healthy. */
export function heartbeatProblem(beat: Heartbeat, now: number, maxAgeMs = HEARTBEAT_MAX_AGE_MS): string | undefined {
  const ago = (t: number) => `${Math.round((now - t) / 1000)} s ago`;
  if (now - beat.writtenAt > maxAgeMs) return `the bot has not written its health file since ${ago(beat.writtenAt)} (not running or hung)`;
  // a standby is not logged in on purpose (README, "Running more than one instance"): alive is all it must be
  if (beat.standby) return undefined;
  if (beat.lastConnectedAt === null) {
    return beat.connected ? undefined : 'the bot has not connected to the Discord gateway yet';
  }
  if (now - beat.lastConnectedAt > maxAgeMs) return `the Discord gateway connection was lost ${ago(beat.lastConnectedAt)}`;
  return undefined;
}

/** Reads and validates a heartbeat file (errors name the file). */
export function readHeartbeat(file: string): Heartbeat {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the health file (${(err as NodeJS.ErrnoException).code ?? String(err)}): is the bot running with STANDS_HEALTH_FILE set?`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = heartbeatSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: not a health file written by the bot (${parsed.error.issues[0]?.message})`);
  return parsed.data;
}
