/**
 * The simulator in its own process for the benchmarks (so its CPU and memory are not the load generator's).
 * Usage: node --import tsx bench/sim-child.ts [nodes vms]  → prints one JSON line {url, tokenId, tokenSecret, pid}.
 */
import { bigSeed, startSimulator } from '../src/sim/index.js';

const [nodes, vms] = process.argv.slice(2).map(Number);
const sim = await startSimulator({
  timeScale: 1,
  ...(nodes && vms ? { seed: bigSeed({ nodes, vms }) } : {}),
});
process.stdout.write(JSON.stringify({ url: sim.url, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, pid: process.pid }) + '\n');
const stop = (): void => void sim.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
