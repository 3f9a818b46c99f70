/**
 * Handing out credentials: the teacher gets a CSV (ephemeral follow-up while the interaction token lives, else a
 * DM), each student with a linked Discord account gets their own by DM. Passwords never go to a channel, the
 * audit log or the logs.
 */
import { Routes, type Client } from 'discord.js';
import type { Logger } from '../log.js';
import type { StandCredential } from '../core/credentials.js';
import { credentialsCsv } from '../core/credentials-csv.js';
import type { Messages } from './i18n.js';
import type { InteractionHandle } from './jobs.js';

/** The same formula-safe CSV as the CLI's `--credentials-out` (src/core/credentials-csv.ts). */
export { credentialsCsv } from '../core/credentials-csv.js';
export { csvCell as csvField } from '../core/credentials-csv.js';

export async function sendDm(client: Client, userId: string, body: { content: string; files?: { name: string; data: Buffer }[] }): Promise<void> {
  const ch = (await client.rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as { id: string };
  const { files, ...rest } = body;
  await client.rest.post(Routes.channelMessages(ch.id), {
    body: { ...rest, allowed_mentions: { parse: [] } },
    ...(files ? { files: files.map((f) => ({ name: f.name, data: f.data })) } : {}),
  });
}

export async function deliverCredentials(o: {
  client: Client;
  m: Messages;
  group: string;
  creds: StandCredential[];
  teacherId: string;
  interaction?: InteractionHandle;
  tokenSwitchMs: number;
  /** Discord id of each student, where linked. */
  discordOf: (userid: string) => Promise<string | undefined>;
  logger: Logger;
  now?: () => number;
  /** Called with the credentials a person received, right after they did (markPasswordsShown). */
  shown?: (creds: StandCredential[], how: string) => Promise<void>;
}): Promise<{ teacher: 'ephemeral' | 'dm' | 'none'; students: number }> {
  let teacher: 'ephemeral' | 'dm' | 'none' = 'none';
  if (o.creds.length) {
    const file = { name: `${o.group}-credentials.csv`, data: Buffer.from(credentialsCsv(o.creds)) };
    const now = (o.now ?? Date.now)();
    if (o.interaction && !o.interaction.dead && now - o.interaction.createdAt < o.tokenSwitchMs) {
      try {
        await o.client.rest.post(Routes.webhook(o.interaction.appId, o.interaction.token), {
          body: { content: o.m.credentialsFile(o.group), flags: 64, allowed_mentions: { parse: [] } },
          files: [file],
          query: new URLSearchParams({ wait: 'true' }),
          auth: false,
        });
        teacher = 'ephemeral';
      } catch (err) {
        o.logger.warn({ err }, 'ephemeral credentials follow-up failed; sending by DM');
      }
    }
    if (teacher === 'none') {
      try {
        await sendDm(o.client, o.teacherId, { content: o.m.credentialsDm(o.group), files: [file] });
        teacher = 'dm';
      } catch (err) {
        o.logger.error({ err }, 'credentials DM to the teacher failed');
      }
    }
    if (teacher !== 'none') await o.shown?.(o.creds, teacher === 'ephemeral' ? 'Discord: CSV to the teacher' : 'Discord: CSV by DM to the teacher');
  }
  let students = 0;
  for (const c of o.creds) {
    const id = await o.discordOf(c.userid);
    if (!id) continue;
    const lines = [o.m.studentDm(c.userid, c.group)];
    if (c.password) lines.push(`${o.m.password}: ||${c.password}||`);
    if (c.consoleUrl) lines.push(`${o.m.console}: ${c.consoleUrl}`);
    try {
      await sendDm(o.client, id, { content: lines.join('\n') });
      students++;
      if (teacher === 'none') await o.shown?.([c], 'Discord: DM to the student');
    } catch (err) {
      o.logger.warn({ err, user: c.userid }, 'credentials DM to a student failed');
    }
  }
  return { teacher, students };
}
