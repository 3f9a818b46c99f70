import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from './run-cli.js';
import { startSimEnv } from './sim-env.js';
const env = await startSimEnv();
const users = path.join(env.dir, 'u.txt');
await writeFile(users, ['a1','a2','иванов.пётр','very.long.surname-with-a-double-barrel.of-a-student'].join('\n'));
await runCli([...env.globals, 'deploy', '--profile', 'netlab', '--users', users, '--group', 'g', '--start', '--yes']);
for (const a of [['status','--group','g','--wide'], ['deploy','--profile','netlab','--users',users,'--group','g','--dry-run'], ['status']]) {
  const r = await runCli([...env.globals, ...a], { env: { COLUMNS: process.argv[2] ?? '80' } });
  console.log(r.stdout, r.stderr);
}
await env.close();
