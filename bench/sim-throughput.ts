/**
 * Simulator benchmarks (issue 3): read-mix throughput over 8 keep-alive connections, and the resident memory of
 * a 32-node, 3000-VM cluster. Run: npx tsx bench/sim-throughput.ts [seconds]. Prints one JSON object.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { Client } from 'undici';

interface Child {
  proc: ChildProcess;
  url: string;
  auth: string;
  pid: number;
}

async function spawnSim(args: string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', new URL('./sim-child.ts', import.meta.url).pathname, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: proc.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    proc.once('exit', (c) => reject(new Error(`simulator exited (${c})`)));
  });
  rl.close();
  const info = JSON.parse(line) as { url: string; tokenId: string; tokenSecret: string; pid: number };
  return { proc, url: info.url, auth: `PVEAPIToken=${info.tokenId}=${info.tokenSecret}`, pid: info.pid };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
  return Math.round((kb / 1024) * 10) / 10;
}

/** CPU seconds the process has used (utime + stime from /proc, in clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** 8 connections, each a keep-alive client issuing the read mix back to back for `seconds`. */
async function readMix(sim: Child, seconds: number): Promise<{
  requests: number; errors: number; perSecond: number; p50ms: number; p99ms: number; simCpuMsPerRequest: number; perSecondPerSimCore: number;
}> {
  const auth = { authorization: sim.auth };
  const res = await fetchJson(sim, '/cluster/resources?type=vm');
  const vms = (res as { vmid: number; node: string }[]).slice(0, 64);
  const paths = (i: number): string[] => {
    const vm = vms[i % vms.length]!;
    return ['/version', '/cluster/resources', `/nodes/${vm.node}/qemu/${vm.vmid}/config`, `/nodes/${vm.node}/qemu/${vm.vmid}/status/current`];
  };
  const clients = Array.from({ length: 8 }, () => new Client(sim.url, { connect: { rejectUnauthorized: false }, pipelining: 1 }));
  let requests = 0;
  let errors = 0;
  const cpu0 = cpuSeconds(sim.pid);
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    clients.map(async (c, ci) => {
      let i = ci;
      while (performance.now() < end) {
        for (const path of paths(i++)) {
          const t0 = performance.now();
          const r = await c.request({ method: 'GET', path: `/api2/json${path}`, headers: auth });
          await r.body.arrayBuffer();
          lat.push(performance.now() - t0);
          requests++;
          if (r.statusCode !== 200) errors++;
        }
      }
    }),
  );
  const cpu = cpuSeconds(sim.pid) - cpu0;
  await Promise.all(clients.map((c) => c.close()));
  lat.sort((a, b) => a - b);
  return {
    requests,
    errors,
    perSecond: Math.round(requests / seconds),
    p50ms: Math.round(lat[Math.floor(lat.length * 0.5)]! * 100) / 100,
    p99ms: Math.round(lat[Math.floor(lat.length * 0.99)]! * 100) / 100,
    // on a loaded machine wall-clock throughput says little; the simulator's own CPU per request does
    simCpuMsPerRequest: Math.round(((cpu * 1000) / requests) * 1000) / 1000,
    perSecondPerSimCore: Math.round(requests / cpu),
  };
}

async function fetchJson(sim: Child, path: string): Promise<unknown> {
  const c = new Client(sim.url, { connect: { rejectUnauthorized: false } });
  const r = await c.request({ method: 'GET', path: `/api2/json${path}`, headers: { authorization: sim.auth } });
  const body = (await r.body.json()) as { data: unknown };
  await c.close();
  return body.data;
}

function stopSim(sim: Child): Promise<void> {
  return new Promise((resolve) => {
    sim.proc.once('exit', () => resolve());
    sim.proc.kill('SIGTERM');
  });
}

const seconds = Number(process.argv[2] ?? 5);
const out: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model };

const small = await spawnSim();
out.readMixDefaultSeed = { connections: 8, seconds, ...(await readMix(small, seconds)), goalPerSecond: 2000 };
await stopSim(small);

const big = await spawnSim(['32', '3000']);
const idle = rssMiB(big.pid);
const res = (await fetchJson(big, '/cluster/resources')) as unknown[];
out.bigCluster = {
  nodes: 32,
  vms: 3003,
  resourcesEntries: res.length,
  rssIdleMiB: idle,
  readMix: { connections: 8, seconds, ...(await readMix(big, seconds)) },
  rssAfterLoadMiB: rssMiB(big.pid),
  goalRssMiB: 200,
};
await stopSim(big);
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
