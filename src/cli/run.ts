/**
 * Entry point of the compiled CLI (`node dist/src/cli/run.js …`, used by the Docker image); the `stands` bin
 * runs the TypeScript sources through tsx instead.
 */
import { main } from '../cli.js';

process.exitCode = await main(process.argv.slice(2));
