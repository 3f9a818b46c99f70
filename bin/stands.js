#!/usr/bin/env node
// Entry point of the `stands` command. It runs the TypeScript sources through tsx, so `npx stands`
// works right after `npm ci` with no build step; the Docker image runs the compiled dist/ instead.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

register();
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const { main } = await import(cli);
process.exitCode = await main(process.argv.slice(2));
