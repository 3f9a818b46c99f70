/** The configuration layer: every file the CLI and the bot read, parsed with line-numbered errors. */
export * from './connections.js';
export * from './profile.js';
export * from './user-list.js';
export * from './settings.js';
export * from './bot.js';
export * from './env.js';
export * from './network-alias.js';
export * from './slug.js';
export * from './duration.js';
export { formatPath, parseYaml, lineOf, type YamlSource } from './yaml-source.js';
