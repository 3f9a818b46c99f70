import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const COMMANDS = ['deploy', 'resume', 'status', 'list', 'cleanup', 'rollback', 'start', 'shutdown', 'stop', 'expire', 'recover',
  'templates', 'password', 'check', 'sim', 'demo', 'bot', 'register', 'health'];

describe('stands --help', () => {
  it('lists every command and the global --config/--state options, exit 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(r.stdout).toContain('--config <dir>');
    expect(r.stdout).toContain('--state <file>');
    // Proxmox's word first; the old name stays as an alias, and says so
    expect(r.stdout).toMatch(/^ {2}rollback\|reset \[options\] +roll the stands back to their `start` snapshot \(alias: reset, its old\s+name\)/m);
    expect(r.stderr).toBe('');
  });

  it('--version prints the version from package.json, exit 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, `${version}\n`, '']);
    }
  });

  it('shows a subcommand\'s options together with the global ones', async () => {
    const r = await runCli(['deploy', '--help']);
    expect(r.code).toBe(0);
    for (const o of ['--profile <name|file>', '--users <file>', '--dry-run', '--yes', '--json', '--rollback-failed',
      '--apply-foreign-pending', '--config <dir>', '--state <file>']) {
      expect(r.stdout).toContain(o);
    }
  });

  it('an unknown command or a missing required option is bad input: exit 2, message on stderr', async () => {
    const unknown = await runCli(['deplyo']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("error: unknown command 'deplyo'");
    const missing = await runCli(['deploy', '--users', 'x.txt']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error: required option '--profile <name|file>' not specified");
    expect(missing.stdout).toBe('');
  });
});

describe('stands bot / register without Discord credentials', () => {
  it('refuse with the missing variables named (exit 2), before connecting anywhere', async () => {
    const reg = await runCli(['register'], { env: {} });
    expect(reg.code).toBe(2);
    expect(reg.stderr).toBe(
      'error: 2 problems found:\nenvironment: DISCORD_TOKEN: not set (the bot token)\nenvironment: DISCORD_APP_ID: not set (the application id)\n',
    );
    const bot = await runCli(['bot'], { env: {} });
    expect(bot.code).toBe(2);
    expect(bot.stderr).toBe('error: environment: DISCORD_TOKEN: not set (the bot token)\n');
  });
});
