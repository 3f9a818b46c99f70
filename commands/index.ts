/** Every slash command of the bot: a typed static list (no folder scanning), handed to the router by main.ts. */
import type { BotCommand } from '../src/discord/types.js';
import { cleanup } from './cleanup.js';
import { deploy } from './deploy.js';
import { link } from './link.js';
import { reset } from './reset.js';
import { stand } from './stand.js';
import { status } from './status.js';
import { templates } from './templates.js';
import { unlink } from './unlink.js';

export const commands: readonly BotCommand[] = [deploy, cleanup, reset, status, stand, link, unlink, templates];
