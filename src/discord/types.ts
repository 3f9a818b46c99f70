/**
 * The shapes shared by the router and the command files. Commands import these; the router never imports
 * commands (the entry point hands it the list).
 */
import type {
  ApplicationCommandOptionChoiceData,
  AutocompleteInteraction,
  ButtonInteraction,
  ChatInputCommandInteraction,
  Client,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Logger } from '../log.js';
import type { AppContext } from '../core/context.js';
import type { AccessLevel, MemberLevel } from './access.js';
import type { Lang, Messages } from './i18n.js';
import type { DiscordSettings } from './settings.js';
import type { JobManager } from './jobs.js';
import type { PendingStore } from './pending.js';
import type { AuditInput } from './audit.js';

/** Everything the bot holds for its whole life, built once in main.ts. */
export interface Bot {
  app: AppContext;
  client: Client;
  settings: DiscordSettings;
  logger: Logger;
  jobs: JobManager;
  pending: PendingStore;
  audit(entry: AuditInput): Promise<void>;
}

interface BaseContext {
  bot: Bot;
  app: AppContext;
  logger: Logger;
  lang: Lang;
  m: Messages;
  level: MemberLevel;
  /** Stores the action in the audit log and posts it to the audit channel. */
  audit(action: string, outcome: AuditInput['outcome'], extra?: Omit<AuditInput, 'actor' | 'actorId' | 'action' | 'outcome'>): Promise<void>;
}

export interface CommandContext extends BaseContext {
  interaction: ChatInputCommandInteraction;
}

export interface AutocompleteContext extends BaseContext {
  interaction: AutocompleteInteraction;
}

export interface ButtonContext extends BaseContext {
  interaction: ButtonInteraction;
  /** Ephemeral refusal (and an audit entry): the button is not this member's to press. */
  refuse(text: string): Promise<void>;
}

export interface ButtonHandler {
  access: AccessLevel;
  /** Must acknowledge within 3 s (update / deferUpdate / reply). `arg` is the rest of the custom_id. */
  run(cx: ButtonContext, arg: string): Promise<void>;
}

export interface BotCommand {
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  /** Access needed, per subcommand when the command has several. */
  access: AccessLevel | ((subcommand: string | null) => AccessLevel);
  /** Decided before deferring: Discord cannot change it later. */
  ephemeral: boolean;
  run(cx: CommandContext): Promise<void>;
  autocomplete?(cx: AutocompleteContext): Promise<ApplicationCommandOptionChoiceData[]>;
  /** Buttons whose custom_id is `<command>:<action>:<arg>`, handled even after a restart. */
  buttons?: Record<string, ButtonHandler>;
}

/** custom_id of a button: `<command>:<action>:<arg>` (≤ 100 characters). */
export function buttonId(command: string, action: string, arg: string): string {
  const id = `${command}:${action}:${arg}`;
  if (id.length > 100) throw new Error(`custom_id too long: ${id}`);
  return id;
}
