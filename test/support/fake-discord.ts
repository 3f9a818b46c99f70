/**
 * A small fake of Discord's REST API and gateway on loopback, for running the real discord.js Client in tests.
 * Written from ../shared/discord/TESTING-NOTES.md: every interaction carries `entitlements: []` and
 * `authorizing_integration_owners: {}` (discord.js throws inside its WS handler without them), GUILD_CREATE is
 * full (roles, channels) so member role checks work, `@original` arrives URL-encoded, callbacks and webhook
 * calls carry no Authorization header (the token is in the URL), the 3 s ack deadline and the 15 min token
 * lifetime are enforced (both configurable so tests can compress time).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  ApplicationCommandOptionType,
  ChannelType,
  ComponentType,
  InteractionType,
  Locale,
  MessageType,
  type ApplicationFlags,
  type GuildMemberFlags,
  type RoleFlags,
  type APIApplicationCommandAutocompleteGuildInteraction,
  type APIApplicationCommandInteractionDataOption,
  type APIAttachment,
  type APIChatInputApplicationCommandGuildInteraction,
  type APIGuildMember,
  type APIInteractionGuildMember,
  type APIMessage,
  type APIMessageComponentButtonInteraction,
  type APIRole,
  type APIUser,
  type GatewayReadyDispatchData,
  type RESTGetAPIGatewayBotResult,
} from 'discord-api-types/v10';

export const BOT_TOKEN = 'fake-bot-token';
const DISCORD_EPOCH = 1420070400000n;

let snowCounter = 0n;
/** Snowflakes whose timestamp part is real, so discord.js's `createdTimestamp` works. */
export function snowflake(at = Date.now()): string {
  snowCounter = (snowCounter + 1n) % 4096n;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | snowCounter).toString();
}

export interface FakeMember {
  user: APIUser;
  roles: string[];
  locale: Locale;
}

export interface RecordedFile {
  field: string;
  name: string;
  contentType: string;
  data: Buffer;
}

export interface RecordedRequest {
  seq: number;
  at: number;
  method: string;
  /** Path after /api/v10, decoded (`@original`, not `%40original`). */
  path: string;
  rawPath: string;
  query: URLSearchParams;
  authorization: string | undefined;
  /** The JSON body, or `payload_json` of a multipart body. */
  body: any;
  files: RecordedFile[];
  status: number;
  /** Token of the interaction a callback or webhook call belongs to. */
  interactionToken?: string;
  /** The message a call created or edited, as stored afterwards. */
  message?: StoredMessage;
}

export interface StoredMessage extends APIMessage {
  /** Every file ever attached to this message (the latest upload wins per name). */
  files: RecordedFile[];
  editCount: number;
}

interface InteractionRecord {
  id: string;
  token: string;
  createdAt: number;
  type: InteractionType;
  user: APIUser;
  channelId: string;
  acked: number | null;
  ephemeral: boolean;
  originalId: string | null;
  followUps: string[];
  autocompleteChoices?: unknown[];
}

export interface FaultRule {
  method?: string;
  /** Matches when the decoded path contains this string. */
  pathIncludes?: string;
  status: number;
  times: number;
  retryAfterSec?: number;
  /** Discord's JSON error code in the reply (e.g. 50007 Cannot send messages to this user). */
  code?: number;
  message?: string;
  /** Only messages posted to a DM channel. */
  dm?: boolean;
  /** Only requests that upload files. */
  files?: boolean;
}

export interface FakeDiscordOptions {
  ackDeadlineMs?: number;
  tokenTtlMs?: number;
  heartbeatIntervalMs?: number;
}

export interface SlashOptions {
  member: FakeMember;
  name: string;
  /** Top-level options, or a subcommand: `{ subcommand: 'request', options: {...} }`. */
  options?: Record<string, string | number | boolean>;
  subcommand?: string;
  attachments?: Record<string, { filename: string; url: string; size: number; contentType?: string }>;
  channelId?: string;
  locale?: Locale;
}

export class FakeDiscord {
  readonly guildId = snowflake();
  readonly appId = snowflake();
  readonly channelId = snowflake();
  readonly auditChannelId = snowflake();
  readonly roles = { admin: snowflake(), teacher: snowflake(), student: snowflake() };
  readonly botUser: APIUser = user('stands-bot', true);
  readonly members: Record<'admin' | 'teacher' | 'student' | 'student2' | 'outsider', FakeMember>;
  readonly requests: RecordedRequest[] = [];
  readonly messages = new Map<string, StoredMessage>();
  readonly interactions = new Map<string, InteractionRecord>();
  readonly files = new Map<string, { data: Buffer; contentType: string }>();
  readonly commands = new Map<string, unknown[]>();
  readonly dmChannels = new Map<string, string>(); // channel id -> user id
  readonly gatewayOps: number[] = [];
  ackDeadlineMs: number;
  tokenTtlMs: number;
  heartbeatIntervalMs: number;
  private readonly faults: FaultRule[] = [];
  private readonly waiters = new Set<{ pred: (r: RecordedRequest) => boolean; resolve: (r: RecordedRequest) => void }>();
  private readonly sockets = new Set<WebSocket>();
  private readonly identified = new Set<WebSocket>();
  private seq = 0;
  private readonly sentFrames: { s: number; frame: string }[] = [];
  private reqSeq = 0;
  private server!: Server;
  private wss!: WebSocketServer;
  port = 0;

  constructor(o: FakeDiscordOptions = {}) {
    this.ackDeadlineMs = o.ackDeadlineMs ?? 3000;
    this.tokenTtlMs = o.tokenTtlMs ?? 15 * 60_000;
    this.heartbeatIntervalMs = o.heartbeatIntervalMs ?? 41_250;
    const m = (name: string, roles: string[], locale = Locale.EnglishUS): FakeMember => ({ user: user(name), roles, locale });
    this.members = {
      admin: m('admin', [this.roles.admin]),
      teacher: m('teacher', [this.roles.teacher]),
      student: m('student', [this.roles.student]),
      student2: m('student2', [this.roles.student], Locale.Russian),
      outsider: m('outsider', []),
    };
  }

  /** A further guild member with this username and level (tests of who a member can claim to be). */
  member(username: string, level: 'admin' | 'teacher' | 'student' | 'none' = 'student', locale = Locale.EnglishUS): FakeMember {
    return { user: user(username), roles: level === 'none' ? [] : [this.roles[level]], locale };
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handleHttp(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.json(res, 500, { message: String(err), code: 0 });
      });
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/gateway')) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onGateway(ws));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------- test-facing helpers ----------

  /** Serve bytes at http://127.0.0.1:PORT/files/<name> (attachments). */
  serveFile(name: string, data: Buffer | string, contentType = 'text/plain; charset=utf-8'): string {
    this.files.set(name, { data: Buffer.from(data), contentType });
    return `${this.baseUrl}/files/${encodeURIComponent(name)}`;
  }

  injectFault(rule: FaultRule): void {
    this.faults.push({ ...rule });
  }

  /** Resolves with the first recorded request (past or future) that matches. */
  waitFor(pred: (r: RecordedRequest) => boolean, timeoutMs = 10_000, what = 'request'): Promise<RecordedRequest> {
    const found = this.requests.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (r: RecordedRequest) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`fake-discord: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** Requests belonging to one interaction (callbacks and webhook calls by its token). */
  requestsFor(token: string): RecordedRequest[] {
    return this.requests.filter((r) => r.interactionToken === token);
  }

  original(token: string): StoredMessage | undefined {
    const rec = [...this.interactions.values()].find((i) => i.token === token);
    return rec?.originalId ? this.messages.get(rec.originalId) : undefined;
  }

  followUps(token: string): StoredMessage[] {
    const rec = [...this.interactions.values()].find((i) => i.token === token);
    return (rec?.followUps ?? []).map((id) => this.messages.get(id)).filter((m): m is StoredMessage => !!m);
  }

  channelMessages(channelId: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.channel_id === channelId);
  }

  /** DMs sent to one user. */
  dmsTo(userId: string): StoredMessage[] {
    const chans = [...this.dmChannels.entries()].filter(([, u]) => u === userId).map(([c]) => c);
    return [...this.messages.values()].filter((m) => chans.includes(m.channel_id));
  }

  memberPayload(m: FakeMember): APIInteractionGuildMember {
    const gm: APIInteractionGuildMember = {
      user: m.user,
      roles: m.roles,
      permissions: '1071698660929',
      joined_at: new Date(0).toISOString(),
      nick: null,
      avatar: null,
      deaf: false,
      mute: false,
      flags: 0 as GuildMemberFlags,
      pending: false,
    };
    return gm;
  }

  private base(member: FakeMember, channelId: string, locale?: Locale) {
    const id = snowflake();
    const token = `itok-${id}-${Math.random().toString(36).slice(2)}`;
    return {
      id,
      token,
      application_id: this.appId,
      version: 1 as const,
      guild_id: this.guildId,
      guild: { id: this.guildId, features: [], locale: Locale.EnglishUS },
      channel_id: channelId,
      channel: { id: channelId, type: ChannelType.GuildText as const, guild_id: this.guildId, name: 'class' },
      member: this.memberPayload(member),
      app_permissions: '1071698660929',
      locale: locale ?? member.locale,
      guild_locale: Locale.EnglishUS,
      entitlements: [],
      authorizing_integration_owners: {},
      context: 0 as const,
      attachment_size_limit: 10 * 1024 * 1024,
    };
  }

  private buildOptions(o: SlashOptions): {
    options: APIApplicationCommandInteractionDataOption[];
    resolved?: { attachments?: Record<string, APIAttachment>; users?: Record<string, APIUser>; members?: Record<string, unknown> };
  } {
    const opts: APIApplicationCommandInteractionDataOption[] = [];
    for (const [name, value] of Object.entries(o.options ?? {})) {
      const type =
        typeof value === 'number'
          ? Number.isInteger(value)
            ? ApplicationCommandOptionType.Integer
            : ApplicationCommandOptionType.Number
          : typeof value === 'boolean'
            ? ApplicationCommandOptionType.Boolean
            : name === 'member'
              ? ApplicationCommandOptionType.User
              : ApplicationCommandOptionType.String;
      opts.push({ name, type, value } as APIApplicationCommandInteractionDataOption);
    }
    let resolved: { attachments?: Record<string, APIAttachment>; users?: Record<string, APIUser>; members?: Record<string, unknown> } | undefined;
    for (const opt of opts) {
      if (opt.type !== ApplicationCommandOptionType.User) continue;
      const mem = Object.values(this.members).find((x) => x.user.id === opt.value);
      if (!mem) continue;
      resolved ??= {};
      (resolved.users ??= {})[mem.user.id] = mem.user;
      const { user: _u, ...rest } = this.memberPayload(mem);
      (resolved.members ??= {})[mem.user.id] = rest;
    }
    for (const [name, a] of Object.entries(o.attachments ?? {})) {
      const id = snowflake();
      resolved ??= {};
      resolved.attachments ??= {};
      resolved.attachments[id] = {
        id,
        filename: a.filename,
        size: a.size,
        url: a.url,
        proxy_url: a.url,
        ...(a.contentType ? { content_type: a.contentType } : {}),
      };
      opts.push({ name, type: ApplicationCommandOptionType.Attachment, value: id });
    }
    if (o.subcommand) {
      return {
        options: [{ name: o.subcommand, type: ApplicationCommandOptionType.Subcommand, options: opts } as APIApplicationCommandInteractionDataOption],
        ...(resolved ? { resolved } : {}),
      };
    }
    return { options: opts, ...(resolved ? { resolved } : {}) };
  }

  /** Dispatch a slash command; returns the interaction's id and token. */
  slash(o: SlashOptions): { id: string; token: string } {
    const b = this.base(o.member, o.channelId ?? this.channelId, o.locale);
    const { options, resolved } = this.buildOptions(o);
    const payload: APIChatInputApplicationCommandGuildInteraction = {
      ...b,
      type: InteractionType.ApplicationCommand,
      data: { id: snowflake(), name: o.name, type: 1, guild_id: this.guildId, options, ...(resolved ? { resolved } : {}) },
    } as APIChatInputApplicationCommandGuildInteraction;
    this.track(b.id, b.token, payload.type, o.member.user, b.channel_id);
    this.dispatch('INTERACTION_CREATE', payload);
    return { id: b.id, token: b.token };
  }

  /** Dispatch an autocomplete request for option `focused` (its current text is `value`). */
  autocomplete(o: SlashOptions & { focused: string; value: string }): { id: string; token: string } {
    const b = this.base(o.member, o.channelId ?? this.channelId, o.locale);
    const built = this.buildOptions({ ...o, options: { ...(o.options ?? {}), [o.focused]: o.value } });
    const mark = (list: any[]) => {
      for (const opt of list) {
        if (opt.options) mark(opt.options);
        if (opt.name === o.focused) opt.focused = true;
      }
    };
    mark(built.options);
    const payload: APIApplicationCommandAutocompleteGuildInteraction = {
      ...b,
      type: InteractionType.ApplicationCommandAutocomplete,
      data: { id: snowflake(), name: o.name, type: 1, guild_id: this.guildId, options: built.options },
    } as APIApplicationCommandAutocompleteGuildInteraction;
    this.track(b.id, b.token, payload.type, o.member.user, b.channel_id);
    this.dispatch('INTERACTION_CREATE', payload);
    return { id: b.id, token: b.token };
  }

  /** A member clicks a button on a stored message. */
  click(o: { member: FakeMember; messageId: string; customId: string; locale?: Locale }): { id: string; token: string } {
    const msg = this.messages.get(o.messageId);
    if (!msg) throw new Error(`fake-discord: no message ${o.messageId}`);
    const b = this.base(o.member, msg.channel_id, o.locale);
    const { files: _files, editCount: _edits, ...message } = msg;
    const payload: APIMessageComponentButtonInteraction = {
      ...b,
      type: InteractionType.MessageComponent,
      message,
      data: { component_type: ComponentType.Button, custom_id: o.customId },
    } as APIMessageComponentButtonInteraction;
    const rec = this.track(b.id, b.token, payload.type, o.member.user, b.channel_id);
    rec.originalId = msg.id;
    this.dispatch('INTERACTION_CREATE', payload);
    return { id: b.id, token: b.token };
  }

  /** Find a button (custom_id) on a message by a prefix such as `deploy:confirm:`. */
  button(messageId: string, prefix: string): string {
    const msg = this.messages.get(messageId);
    for (const row of (msg?.components ?? []) as any[]) {
      for (const c of row.components ?? []) if (typeof c.custom_id === 'string' && c.custom_id.startsWith(prefix)) return c.custom_id;
    }
    throw new Error(`fake-discord: no button ${prefix}* on message ${messageId}`);
  }

  // ---------- gateway ----------

  dispatch(t: string, d: unknown): void {
    const s = ++this.seq;
    const frame = JSON.stringify({ op: 0, s, t, d });
    // kept for RESUME: like Discord, a client that reconnects gets what it missed
    this.sentFrames.push({ s, frame });
    for (const ws of this.identified) ws.send(frame);
  }

  /** Close every gateway connection (tests of reconnects). */
  dropGateway(code = 4000): void {
    for (const ws of this.sockets) ws.close(code);
  }

  private onGateway(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.identified.delete(ws);
    });
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs }, s: null, t: null }));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d: any };
      this.gatewayOps.push(msg.op);
      if (msg.op === 1) ws.send(JSON.stringify({ op: 11 }));
      else if (msg.op === 2) {
        if (msg.d?.token !== BOT_TOKEN) return ws.close(4004, 'Authentication failed.');
        this.identified.add(ws);
        const ready: GatewayReadyDispatchData = {
          v: 10,
          user: this.botUser,
          guilds: [{ id: this.guildId, unavailable: true }],
          session_id: `sess-${snowflake()}`,
          resume_gateway_url: `ws://127.0.0.1:${this.port}/gateway`,
          shard: [0, 1],
          application: { id: this.appId, flags: 0 as ApplicationFlags, flags_new: '0' },
        };
        ws.send(JSON.stringify({ op: 0, s: ++this.seq, t: 'READY', d: ready }));
        ws.send(JSON.stringify({ op: 0, s: ++this.seq, t: 'GUILD_CREATE', d: this.guildCreate() }));
      } else if (msg.op === 6) {
        const last = Number(msg.d?.seq ?? 0);
        for (const f of this.sentFrames) if (f.s > last) ws.send(f.frame);
        this.identified.add(ws);
        ws.send(JSON.stringify({ op: 0, s: ++this.seq, t: 'RESUMED', d: {} }));
      }
    });
  }

  private guildCreate() {
    const role = (id: string, name: string, position: number): APIRole => ({
        id,
        name,
        permissions: position === 0 ? '1071698660929' : '0',
        position,
        color: 0,
        colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
        hoist: false,
        managed: false,
        mentionable: false,
        flags: 0 as RoleFlags,
        icon: null,
        unicode_emoji: null,
      });
    const chan = (id: string, name: string, position: number) => ({
      id,
      type: ChannelType.GuildText,
      guild_id: this.guildId,
      name,
      position,
      permission_overwrites: [],
    });
    return {
      id: this.guildId,
      name: 'college',
      icon: null,
      owner_id: this.members.admin.user.id,
      unavailable: false,
      joined_at: new Date().toISOString(),
      member_count: 5,
      large: false,
      features: [],
      emojis: [],
      stickers: [],
      voice_states: [],
      presences: [],
      threads: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      members: [],
      roles: [
        role(this.guildId, '@everyone', 0),
        role(this.roles.admin, 'admin', 3),
        role(this.roles.teacher, 'teacher', 2),
        role(this.roles.student, 'student', 1),
      ],
      channels: [chan(this.channelId, 'class', 0), chan(this.auditChannelId, 'audit', 1)],
    };
  }

  // ---------- REST ----------

  private track(id: string, token: string, type: InteractionType, u: APIUser, channelId: string): InteractionRecord {
    const rec: InteractionRecord = {
      id,
      token,
      createdAt: Date.now(),
      type,
      user: u,
      channelId,
      acked: null,
      ephemeral: false,
      originalId: null,
      followUps: [],
    };
    this.interactions.set(id, rec);
    return rec;
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (status === 204) {
      res.writeHead(204, headers).end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  }

  private async readBody(req: IncomingMessage): Promise<{ body: any; files: RecordedFile[] }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const ct = req.headers['content-type'] ?? '';
    if (raw.length === 0) return { body: undefined, files: [] };
    if (ct.startsWith('multipart/form-data')) {
      const form = await new Response(raw, { headers: { 'content-type': ct } }).formData();
      let body: any;
      const files: RecordedFile[] = [];
      for (const [field, value] of form.entries()) {
        if (field === 'payload_json') body = JSON.parse(String(value));
        else if (typeof value !== 'string') {
          files.push({ field, name: value.name, contentType: value.type, data: Buffer.from(await value.arrayBuffer()) });
        }
      }
      return { body, files };
    }
    return { body: JSON.parse(raw.toString('utf8')), files: [] };
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    if (url.pathname.startsWith('/files/')) {
      const f = this.files.get(decodeURIComponent(url.pathname.slice('/files/'.length)));
      if (!f) return this.json(res, 404, { message: 'Not Found' });
      res.writeHead(200, { 'content-type': f.contentType, 'content-length': String(f.data.length) }).end(f.data);
      return;
    }
    if (!url.pathname.startsWith('/api/v10/')) return this.json(res, 404, { message: '404: Not Found', code: 0 });
    const rawPath = url.pathname.slice('/api/v10'.length);
    const path = decodeURIComponent(rawPath);
    const method = req.method ?? 'GET';
    const { body, files } = await this.readBody(req);
    const rec: RecordedRequest = {
      seq: ++this.reqSeq,
      at: Date.now(),
      method,
      path,
      rawPath,
      query: url.searchParams,
      authorization: req.headers.authorization,
      body,
      files,
      status: 0,
    };
    const seg = path.split('/').filter(Boolean);
    if (seg[0] === 'interactions' && seg[2]) rec.interactionToken = seg[2];
    if (seg[0] === 'webhooks' && seg[2]) rec.interactionToken = seg[2];
    const fault = this.faults.find(
      (f) =>
        f.times > 0 &&
        (!f.method || f.method === method) &&
        (!f.pathIncludes || path.includes(f.pathIncludes)) &&
        (!f.dm || (seg[0] === 'channels' && this.dmChannels.has(seg[1] ?? ''))) &&
        (!f.files || files.length > 0),
    );
    let status: number;
    let reply: unknown;
    let headers: Record<string, string> = {};
    if (fault) {
      fault.times--;
      status = fault.status;
      if (status === 429) {
        const after = String(fault.retryAfterSec ?? 0.05);
        headers = {
          'retry-after': after,
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': after,
          'x-ratelimit-bucket': 'fakebucket',
          'x-ratelimit-scope': 'user',
        };
        reply = { message: 'You are being rate limited.', retry_after: Number(after), global: false };
      } else reply = { message: fault.message ?? 'injected fault', code: fault.code ?? 0 };
    } else {
      [status, reply] = this.route(method, path, url.searchParams, body, files, rec, req.headers.authorization);
    }
    rec.status = status;
    this.requests.push(rec);
    for (const w of [...this.waiters]) {
      if (w.pred(rec)) {
        this.waiters.delete(w);
        w.resolve(rec);
      }
    }
    this.json(res, status, reply, headers);
  }

  private needBot(auth: string | undefined): boolean {
    return auth === `Bot ${BOT_TOKEN}`;
  }

  private byToken(token: string): InteractionRecord | undefined {
    for (const i of this.interactions.values()) if (i.token === token) return i;
    return undefined;
  }

  private newMessage(channelId: string, body: any, files: RecordedFile[], author: APIUser, extra: Partial<APIMessage> = {}): StoredMessage {
    const id = snowflake();
    const msg: StoredMessage = {
      id,
      channel_id: channelId,
      author,
      content: body?.content ?? '',
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: body?.embeds ?? [],
      pinned: false,
      type: MessageType.Default,
      components: body?.components ?? [],
      flags: body?.flags ?? 0,
      files: [],
      editCount: 0,
      ...extra,
    };
    this.attach(msg, files);
    this.messages.set(id, msg);
    return msg;
  }

  private attach(msg: StoredMessage, files: RecordedFile[]): void {
    for (const f of files) {
      msg.files = msg.files.filter((x) => x.name !== f.name).concat(f);
      msg.attachments.push({
        id: snowflake(),
        filename: f.name,
        size: f.data.length,
        url: `${this.baseUrl}/files/${f.name}`,
        proxy_url: `${this.baseUrl}/files/${f.name}`,
        content_type: f.contentType,
      });
    }
  }

  private edit(msg: StoredMessage, body: any, files: RecordedFile[]): StoredMessage {
    if (body?.content !== undefined) msg.content = body.content ?? '';
    if (body?.embeds !== undefined) msg.embeds = body.embeds ?? [];
    if (body?.components !== undefined) msg.components = body.components ?? [];
    if (body?.attachments !== undefined && files.length === 0) {
      const keep = new Set((body.attachments as { id?: string }[]).map((a) => a.id));
      msg.attachments = msg.attachments.filter((a) => keep.has(a.id));
    }
    this.attach(msg, files);
    msg.edited_timestamp = new Date().toISOString();
    msg.editCount++;
    return msg;
  }

  private strip(msg: StoredMessage): APIMessage {
    const { files: _f, editCount: _e, ...rest } = msg;
    return rest;
  }

  private route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: any,
    files: RecordedFile[],
    rec: RecordedRequest,
    auth: string | undefined,
  ): [number, unknown] {
    const seg = path.split('/').filter(Boolean);
    const unauthorized: [number, unknown] = [401, { message: '401: Unauthorized', code: 0 }];

    if (method === 'GET' && path === '/gateway/bot') {
      if (!this.needBot(auth)) return unauthorized;
      const r: RESTGetAPIGatewayBotResult = {
        url: `ws://127.0.0.1:${this.port}/gateway`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 86_400_000, max_concurrency: 1 },
      };
      return [200, r];
    }

    // POST /interactions/{id}/{token}/callback — no Authorization header on real Discord.
    if (seg[0] === 'interactions' && seg[3] === 'callback' && method === 'POST') {
      const i = this.interactions.get(seg[1]!);
      rec.interactionToken = seg[2];
      if (!i || i.token !== seg[2]) return [404, { message: 'Unknown interaction', code: 10062 }];
      if (Date.now() - i.createdAt > this.ackDeadlineMs) return [404, { message: 'Unknown interaction', code: 10062 }];
      if (i.acked !== null) return [400, { message: 'Interaction has already been acknowledged.', code: 40060 }];
      const type = body?.type as number;
      i.acked = type;
      const data = body?.data ?? {};
      if (type === 4 || type === 5) {
        i.ephemeral = ((data.flags ?? 0) & 64) === 64;
        const msg = this.newMessage(i.channelId, type === 5 ? { ...data, content: '' } : data, files, this.botUser, {
          interaction_metadata: undefined,
          flags: (data.flags ?? 0) | (type === 5 ? 128 : 0),
          application_id: this.appId,
          webhook_id: this.appId,
        });
        i.originalId = msg.id;
        rec.message = msg;
      } else if (type === 7) {
        const msg = i.originalId ? this.messages.get(i.originalId) : undefined;
        if (msg) rec.message = this.edit(msg, data, files);
      } else if (type === 8) {
        i.autocompleteChoices = data.choices ?? [];
      } else if (type !== 6) {
        return [400, { message: `fake: unsupported callback type ${type}`, code: 50035 }];
      }
      if (query.get('with_response') === 'true') {
        return [200, { interaction: { id: i.id, type: i.type }, resource: rec.message ? { type, message: this.strip(rec.message) } : { type } }];
      }
      return [204, undefined];
    }

    // /webhooks/{appId}/{token}[/messages/{id|@original}]
    if (seg[0] === 'webhooks' && seg[1] === this.appId && seg[2]) {
      const token = seg[2];
      rec.interactionToken = token;
      const i = this.byToken(token);
      if (!i) return [404, { message: 'Unknown Webhook', code: 10015 }];
      if (Date.now() - i.createdAt > this.tokenTtlMs) return [401, { message: 'Invalid Webhook Token', code: 50027 }];
      if (seg.length === 3 && method === 'POST') {
        // A follow-up. (Real Discord would turn the first follow-up after a bare defer into the original.)
        const msg = this.newMessage(i.channelId, body, files, this.botUser, { application_id: this.appId, webhook_id: this.appId });
        i.followUps.push(msg.id);
        rec.message = msg;
        return [200, this.strip(msg)];
      }
      if (seg[3] === 'messages' && seg[4]) {
        const id = seg[4] === '@original' ? i.originalId : seg[4];
        if (i.acked === null && seg[4] === '@original') return [404, { message: 'Unknown Message', code: 10008 }];
        const msg = id ? this.messages.get(id) : undefined;
        if (!msg) return [404, { message: 'Unknown Message', code: 10008 }];
        if (method === 'GET') return [200, this.strip(msg)];
        if (method === 'PATCH') {
          rec.message = this.edit(msg, body, files);
          return [200, this.strip(msg)];
        }
        if (method === 'DELETE') {
          this.messages.delete(msg.id);
          return [204, undefined];
        }
      }
    }

    if (!this.needBot(auth)) return unauthorized;

    // PUT /applications/{app}/guilds/{guild}/commands
    if (seg[0] === 'applications' && seg[2] === 'guilds' && seg[4] === 'commands' && method === 'PUT') {
      const list = (body as any[]).map((c) => ({ ...c, id: snowflake(), application_id: this.appId, guild_id: seg[3], version: snowflake() }));
      this.commands.set(seg[3]!, list);
      return [200, list];
    }
    if (seg[0] === 'applications' && seg[2] === 'guilds' && seg[4] === 'commands' && method === 'GET') {
      return [200, this.commands.get(seg[3]!) ?? []];
    }

    if (seg[0] === 'users' && seg[1] === '@me' && seg[2] === 'channels' && method === 'POST') {
      const uid = String(body?.recipient_id);
      const u = Object.values(this.members).find((m) => m.user.id === uid)?.user;
      if (!u) return [400, { message: 'Unknown User', code: 10013 }];
      let chanId = [...this.dmChannels.entries()].find(([, x]) => x === uid)?.[0];
      if (!chanId) {
        chanId = snowflake();
        this.dmChannels.set(chanId, uid);
      }
      return [200, { id: chanId, type: ChannelType.DM, recipients: [u], last_message_id: null }];
    }
    if (seg[0] === 'users' && seg[1] && seg.length === 2 && method === 'GET') {
      const u = seg[1] === '@me' ? this.botUser : Object.values(this.members).find((m) => m.user.id === seg[1])?.user;
      return u ? [200, u] : [404, { message: 'Unknown User', code: 10013 }];
    }
    if (seg[0] === 'guilds' && seg[2] === 'members' && seg[3] && method === 'GET') {
      const m = Object.values(this.members).find((x) => x.user.id === seg[3]);
      if (!m) return [404, { message: 'Unknown Member', code: 10007 }];
      const gm: APIGuildMember = { ...this.memberPayload(m), user: m.user } as APIGuildMember;
      return [200, gm];
    }

    if (seg[0] === 'channels' && seg[1]) {
      const chanId = seg[1];
      const known = chanId === this.channelId || chanId === this.auditChannelId || this.dmChannels.has(chanId);
      if (!known) return [404, { message: 'Unknown Channel', code: 10003 }];
      if (seg.length === 2 && method === 'GET') {
        if (this.dmChannels.has(chanId)) {
          const u = Object.values(this.members).find((m) => m.user.id === this.dmChannels.get(chanId))!.user;
          return [200, { id: chanId, type: ChannelType.DM, recipients: [u] }];
        }
        return [200, { id: chanId, type: ChannelType.GuildText, guild_id: this.guildId, name: chanId === this.channelId ? 'class' : 'audit', position: 0, permission_overwrites: [] }];
      }
      if (seg[2] === 'messages' && seg.length === 3 && method === 'POST') {
        const msg = this.newMessage(chanId, body, files, this.botUser);
        rec.message = msg;
        return [200, this.strip(msg)];
      }
      if (seg[2] === 'messages' && seg[3]) {
        const msg = this.messages.get(seg[3]);
        if (!msg || msg.channel_id !== chanId) return [404, { message: 'Unknown Message', code: 10008 }];
        if (method === 'GET') return [200, this.strip(msg)];
        if (method === 'PATCH') {
          rec.message = this.edit(msg, body, files);
          return [200, this.strip(msg)];
        }
        if (method === 'DELETE') {
          this.messages.delete(msg.id);
          return [204, undefined];
        }
      }
    }
    return [404, { message: `fake: no route ${method} ${path}`, code: 0 }];
  }
}

function user(name: string, bot = false): APIUser {
  return {
    id: snowflake(),
    username: name,
    discriminator: '0',
    global_name: name,
    avatar: null,
    ...(bot ? { bot: true } : {}),
  };
}

export async function startFakeDiscord(o: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  return new FakeDiscord(o).start();
}
