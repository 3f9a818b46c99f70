#!/usr/bin/env node
// Entry point of the `stands` command. In a checkout (src/ present, dev dependencies installed) it runs the
// TypeScript sources through tsx, so `npm run demo` works right after `npm ci` with no build step. An installed
// package (`npm install -g ./pve-stands-*.tgz`) has no src/ and no tsx: it runs the compiled dist/ (built by
// `npm pack`'s prepack), as the Docker image does.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const compiled = new URL('../dist/src/cli/run.js', import.meta.url);

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND') return undefined; // dev dependencies not installed
    throw err;
  }
}

const register = existsSync(source) ? await tsxRegister() : undefined;
if (register) {
  register();
  const { main } = await import(source);
  process.exitCode = await main(process.argv.slice(2));
} else if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href); // dist/src/cli/run.js runs main() and sets the exit code
} else {
  process.stderr.write('stands: neither the sources with tsx (run `npm ci`) nor a build (run `npm run build`) found\n');
  process.exitCode = 2;
}
