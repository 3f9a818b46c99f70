/**
 * The simulator in its own process, so a benchmark measures the deployer's CPU and memory alone. Started by
 * sim-process.ts with the options as a JSON file; prints one JSON line with the connection details, then answers
 * one-line commands on stdin: `stats` (request counters, RSS, CPU), `exit`.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { startSimulator, type StartSimulatorOptions } from '../../src/sim/index.js';

const opts = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as StartSimulatorOptions;
const sim = await startSimulator(opts);
const out = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');
out({
  url: sim.url,
  fingerprint: sim.fingerprint,
  user: sim.user,
  password: sim.password,
  tokenId: sim.tokenId,
  tokenSecret: sim.tokenSecret,
  timing: sim.timing,
  pid: process.pid,
});
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'stats') {
    out({
      requests: sim.stats.requests,
      taskStatusPolls: sim.stats.taskStatusPolls,
      byRoute: sim.stats.byRoute,
      rss: process.memoryUsage().rss,
      maxRSS: process.resourceUsage().maxRSS * 1024,
      cpu: process.cpuUsage(),
      vms: sim.state.vms.size,
    });
  } else if (cmd === 'reset') {
    sim.stats.reset();
    out({ ok: true });
  } else if (cmd === 'exit') {
    void sim.stop().then(() => process.exit(0));
  }
});
rl.on('close', () => void sim.stop().then(() => process.exit(0)));
