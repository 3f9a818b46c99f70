import { readFileSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsCsv, csvCell } from '../../src/core/credentials-csv.js';
import { prettyOptions } from '../../src/log.js';
import { colorEnabled } from '../../src/color.js';
import { runCli, type CliRun } from './run-cli.js';
import { clusterSnapshot, REPO, simConnectionsYaml, startSimEnv, type SimEnv } from './sim-env.js';

const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** With --json, stdout is exactly one JSON object (one line), whatever happened. */
function onlyJson(r: CliRun): Record<string, unknown> {
  expect(r.stdout.trimEnd().split('\n'), r.stdout).toHaveLength(1);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('a conventional CLI: --version, exit codes, --json in every outcome', () => {
  let env: SimEnv;
  let users: string;
  const conn = (text: string): Promise<void> => writeFile(path.join(env.configDir, 'connections.yml'), text);

  beforeAll(async () => {
    env = await startSimEnv();
    users = path.join(env.dir, 'two.txt');
    await writeFile(users, 'anna\nборис\n');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('--version prints the version of package.json; --help documents every exit code', async () => {
    const v = await runCli(['--version']);
    expect(v).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    const help = (await runCli(['--help'])).stdout;
    for (const line of [/^ {2}0 +success$/m, /^ {2}1 +some stands failed/m, /^ {2}2 +bad input, bad config, a refused plan or a declined confirmation/m, /^ {2}3 +the cluster could not be used: unreachable, TLS mismatch, bad credentials,\n {7}missing privileges$/m, /^ {2}130 +interrupted by Ctrl\+C/m]) {
      expect(help).toMatch(line);
    }
  });

  it('bad input: exit 2 with and without --json; the JSON error carries every problem with file and line', async () => {
    const bad = path.join(env.dir, 'bad.txt');
    await writeFile(bad, 'ok1\nbad user!\n');
    const argv = [...env.globals, 'deploy', '--profile', 'basic', '--users', bad, '--yes'];
    const plain = await runCli(argv);
    const json = await runCli([...argv, '--json']);
    expect(plain.code).toBe(2);
    expect(json.code).toBe(2);
    const { error } = onlyJson(json) as { error: { code: string; message: string; problems: { file: string; line: number; message: string }[] } };
    expect(error.code).toBe('bad-input');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ file: bad, line: 2 });
    expect(plain.stderr).toContain(`${bad}:2: `);
  });

  it('usage errors, a refused plan and a declined confirmation: exit 2, one JSON object', async () => {
    const usage = await runCli([...env.globals, 'status', '--no-such-option', '--json']);
    expect(usage.code).toBe(2);
    expect(onlyJson(usage)).toEqual({ error: { code: 'usage', message: "unknown option '--no-such-option'", problems: [] } });

    const refused = await runCli([...env.globals, 'deploy', '--profile', 'basic', '--users', users, '--placement', 'node:pve3', '--json']);
    expect(refused.code).toBe(2);
    const r = onlyJson(refused) as { error: { code: string; problems: { file: string; message: string }[] } };
    expect(r.error.code).toBe('plan-refused');
    expect(r.error.problems[0]).toEqual({ file: 'pve3', message: expect.stringContaining('pending network edits by someone else') });

    const before = clusterSnapshot(env.sim);
    const declined = await runCli([...env.globals, 'deploy', '--profile', 'basic', '--users', users, '--json']);
    expect(declined.code).toBe(2);
    expect((onlyJson(declined) as { error: { code: string } }).error.code).toBe('not-confirmed');
    expect(clusterSnapshot(env.sim)).toEqual(before);
  });

  it('a cluster that cannot be used is exit 3: unreachable, TLS mismatch, bad credentials', async () => {
    try {
      await conn(simConnectionsYaml({ ...env.sim, url: 'https://127.0.0.1:1' }));
      const down = await runCli([...env.globals, 'status', '--json']);
      expect(down.code, down.stderr).toBe(3);
      expect((onlyJson(down) as { error: { code: string } }).error.code).toBe('unreachable');
      expect((await runCli([...env.globals, 'status'])).code).toBe(3);

      await conn(simConnectionsYaml({ ...env.sim, fingerprint: 'AA:'.repeat(31) + 'AA' }));
      const tls = await runCli([...env.globals, 'status', '--json']);
      expect(tls.code, tls.stderr).toBe(3);
      expect((onlyJson(tls) as { error: { code: string } }).error.code).toBe('tls-mismatch');

      const secret = '00000000-1111-2222-3333-444444444444';
      await conn(simConnectionsYaml({ ...env.sim, tokenSecret: secret }));
      const creds = await runCli([...env.globals, 'status', '--json']);
      expect(creds.code, creds.stderr).toBe(3);
      expect((onlyJson(creds) as { error: { code: string } }).error.code).toBe('bad-credentials');
      expect(creds.stdout + creds.stderr).not.toContain(secret);
    } finally {
      await conn(simConnectionsYaml(env.sim));
    }
  });

  it('list and templates read only the state file: no Proxmox secret needed; status still demands it (exit 2)', async () => {
    const d = await runCli([...env.globals, 'deploy', '--profile', 'basic', '--users', users, '--group', 'nosecret', '--yes', '--json']);
    expect(d.code, d.stderr).toBe(0);
    try {
      await conn(simConnectionsYaml(env.sim).replace(/token_secret: "[^"]+"/, 'token_secret: ${STANDS_TEST_UNSET_SECRET}'));
      const list = await runCli([...env.globals, 'list', '--json']);
      expect(list.code, list.stderr).toBe(0);
      expect((onlyJson(list) as { groups: { name: string }[] }).groups.map((g) => g.name)).toContain('nosecret');
      const templates = await runCli([...env.globals, 'templates', '--json']);
      expect(templates.code, templates.stderr).toBe(0);
      expect(onlyJson(templates)).toMatchObject({ presenceChecked: false });
      expect(templates.stderr).toContain('presence not checked');
      const status = await runCli([...env.globals, 'status', '--json']);
      expect(status.code).toBe(2);
      expect(onlyJson(status)).toMatchObject({ error: { code: 'bad-input', problems: [{ message: expect.stringContaining('STANDS_TEST_UNSET_SECRET is not set') }] } });
    } finally {
      await conn(simConnectionsYaml(env.sim));
    }
  });

  it('--credentials-out writes a 0600 CSV instead of printing passwords, and never overwrites without --force', async () => {
    const file = path.join(env.dir, 'creds.csv');
    const fresh = path.join(env.dir, 'fresh.txt');
    await writeFile(fresh, 'vera\nвладимир\n');
    const argv = [...env.globals, 'deploy', '--profile', 'basic', '--users', fresh, '--group', 'csv', '--yes', '--credentials-out', file];
    const r = await runCli(argv);
    expect(r.code, r.stderr).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines[0]).toBe('user,password,console,pool,group');
    expect(lines.map((l) => l.split(',')[0]).slice(1).sort()).toEqual(['vera@pve', 'владимир@pve']);
    for (const l of lines.slice(1)) {
      const [user, password] = l.split(',');
      expect(env.sim.state.users.get(user!)?.password).toBe(password);
      // the passwords are in the file, not on the screen
      expect(r.stdout).not.toContain(password);
    }
    expect(r.stdout).toContain(`2 new passwords written to ${file} (mode 0600`);

    const content = await readFile(file, 'utf8');
    const before = clusterSnapshot(env.sim);
    const again = await runCli(argv.map((a) => (a === 'csv' ? 'csv2' : a)));
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`error: --credentials-out ${file}: the file exists; nothing was done (add --force to replace it)\n`);
    expect(await readFile(file, 'utf8')).toBe(content);
    expect(clusterSnapshot(env.sim)).toEqual(before);

    // --force replaces it (a re-run creates no user, so only the header is left), still 0600
    const forced = await runCli([...argv, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(file, 'utf8')).toBe('user,password,console,pool,group\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    // a bad path stops the deploy before anything is created
    const nodir = await runCli([...env.globals, 'deploy', '--profile', 'basic', '--users', users, '--group', 'csv3', '--yes', '--credentials-out', path.join(env.dir, 'no', 'x.csv')]);
    expect(nodir.code).toBe(2);
    expect(nodir.stderr).toMatch(/no directory .*; nothing was done/);
    expect(clusterSnapshot(env.sim)).toEqual(before);
  });

  it('password --out writes the new password to a 0600 CSV', async () => {
    const file = path.join(env.dir, 'pw.csv');
    try {
      await conn(simConnectionsYaml(env.sim).replace('    tls:', `    user: root@pam\n    password: "${env.sim.password}"\n    tls:`));
      const r = await runCli([...env.globals, 'password', '--user', 'anna@pve', '--out', file]);
      expect(r.code, r.stderr).toBe(0);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const [head, row] = (await readFile(file, 'utf8')).trimEnd().split('\n');
      expect(head).toBe('user,password,console,pool,group');
      const password = row!.split(',')[1]!;
      expect(env.sim.state.users.get('anna@pve')?.password).toBe(password);
      expect(r.stdout).not.toContain(password);
      const again = await runCli([...env.globals, 'password', '--user', 'anna@pve', '--out', file]);
      expect(again.code).toBe(2);
      // refused before the password was changed
      expect(env.sim.state.users.get('anna@pve')?.password).toBe(password);
    } finally {
      await conn(simConnectionsYaml(env.sim));
    }
  });
});

describe('small conventions', () => {
  it('CSV cells a spreadsheet would run as a formula are neutralised', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    for (const v of ['+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(csvCell(v).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell('Abc-=+@')).toBe('Abc-=+@');
    expect(csvCell('a;b')).toBe('"a;b"');
    expect(credentialsCsv([{ userid: '=cmd|calc@pve', password: 'Xy-1', pool: 'p', group: 'g' }])).toBe(
      "user,password,console,pool,group\n'=cmd|calc@pve,Xy-1,,p,g\n",
    );
  });

  it('colour: FORCE_COLOR wins, then NO_COLOR, else a terminal; the pretty log follows', () => {
    expect(colorEnabled({}, true)).toBe(true);
    expect(colorEnabled({}, false)).toBe(false);
    expect(colorEnabled({ NO_COLOR: '1' }, true)).toBe(false);
    expect(colorEnabled({ NO_COLOR: '' }, true)).toBe(true);
    expect(colorEnabled({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(colorEnabled({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(colorEnabled({ FORCE_COLOR: '1', NO_COLOR: '1' }, false)).toBe(true);
    expect(prettyOptions({ NO_COLOR: '1' }, true).colorize).toBe(false);
    expect(prettyOptions({ FORCE_COLOR: '1' }, false).colorize).toBe(true);
  });
});
