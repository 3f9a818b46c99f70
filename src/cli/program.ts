import { Command, Option } from 'commander';
import type { Logger } from '../log.js';
import type { ProxmoxClientOptions } from '../proxmox/client.js';
import { cliLogger, resolvePaths, type GlobalOptions, type ResolvedPaths } from './context.js';
import { terminalWidth, type CliIo } from './io.js';
import { packageVersion } from './version.js';

/** What every command action receives: its streams, the resolved paths and a logger. */
export interface CommandEnv {
  io: CliIo;
  paths: ResolvedPaths;
  globals: GlobalOptions;
  logger: Logger;
  /** Passed to every Proxmox client (the demo passes the simulator's time scale). */
  clientOptions?: Omit<ProxmoxClientOptions, 'logger'>;
}

export type Action<O> = (opts: O, env: CommandEnv) => Promise<number>;

export interface ProgramState {
  exitCode: number;
  logger?: Logger;
}

const DESCRIPTION = `Deploy, inspect and clean up per-student training stands on Proxmox VE.

Exit codes:
  0    success
  1    some stands failed (the others are done)
  2    bad input, bad config, a refused plan or a declined confirmation
  3    the cluster could not be used: unreachable, TLS mismatch, bad credentials,
       missing privileges
  130  interrupted by Ctrl+C (\`stands resume\` finishes)

--json: stdout holds exactly one JSON object, errors included:
  {"error": {"code", "message", "problems": [{"file", "line", "message"}]}}
Tables fit the terminal (else COLUMNS, else 100 columns); NO_COLOR and FORCE_COLOR
are honoured; warnings go to stderr.`;

/**
 * Builds the `stands` command line. Heavy modules (engine, simulator, Discord) are imported lazily inside
 * the actions, so `stands --help` and `stands sim` do not load what they do not use.
 */
export function buildProgram(io: CliIo, state: ProgramState): Command {
  const program = new Command('stands');
  program
    .description(DESCRIPTION)
    .version(packageVersion(), '-V, --version', 'print the version of pve-stands')
    .option('--config <dir>', 'configuration directory (env STANDS_CONFIG, default ./data)')
    .option('--state <file>', 'state: a SQLite file, postgres://… or redis://… (env STANDS_STATE, default <config>/state.sqlite)')
    .addOption(new Option('--log-level <level>', 'log level on stderr (env STANDS_LOG_LEVEL, default warn)'))
    .addOption(new Option('--lang <lang>', 'language of messages (default: from LC_ALL / LC_MESSAGES / LANG, ru* → ru, else en)').choices(['ru', 'en']))
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false, helpWidth: terminalWidth(io) })
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run `stands --help` for usage)')
    .exitOverride();

  function run<O>(cmd: Command, load: () => Promise<Action<O>>): void {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
    cmd.action(async (opts: O, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const logger = cliLogger(globals, io);
      state.logger = logger;
      const action = await load();
      state.exitCode = await action(opts, { io, paths: resolvePaths(globals, io), globals, logger });
    });
  }

  const json = () => new Option('--json', 'print a machine-readable result: stdout ends with one JSON object');
  const wide = () => new Option('--wide', 'every detail (each VM, networks, errors in full), wrapped to the terminal');
  const yes = () => new Option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)');

  run(
    program
      .command('deploy')
      .description('plan and deploy stands: one per user of the list, from a profile')
      .requiredOption('--profile <name|file>', 'profile name (profiles/<name>.yml in the config dir) or a file path')
      .requiredOption('--users <file>', 'user list (.txt, .csv or .yml)')
      .option('--group <name>', 'group name (default <profile>-<list>)')
      .option('--cluster <name>', 'cluster from connections.yml (default: its `default`)')
      .option('--placement <strategy>', 'balanced | round-robin | pack | node:<name>')
      .addOption(new Option('--clone <mode>', 'clone mode (default: the profile\'s)').choices(['linked', 'full']))
      .option('--lease <duration>', 'stands expire after this long, e.g. 4h, 2d')
      .option('--start', 'start the VMs after deploying')
      .option('--dry-run', 'print the plan and stop (nothing is created)')
      .addOption(yes())
      .addOption(json())
      .option('--credentials-out <file>', 'write the new users\' passwords to this CSV (mode 0600) instead of the screen')
      .option('--force', 'with --credentials-out: replace an existing file')
      .addOption(wide())
      .option('--rollback-failed', 'remove what a failed stand created')
      .option('--apply-foreign-pending', 'apply network changes even where someone else has pending edits (warned)'),
    async () => (await import('./commands/deploy.js')).deployCommand,
  );
  run(
    program
      .command('resume')
      .description('finish interrupted deploy jobs (idempotent: completes what is missing)')
      .option('--group <name>', 'only this group')
      .addOption(wide())
      .addOption(json()),
    async () => (await import('./commands/resume.js')).resumeCommand,
  );
  run(
    program
      .command('status')
      .description('nodes, groups, one line per stand (VM states, console link); --user for one stand\'s details')
      .option('--group <name>', 'only this group')
      .option('--user <userid>', 'every detail of this user\'s stand')
      .addOption(wide())
      .option('--cluster <name>', 'cluster from connections.yml')
      .option('--node <name>', 'only this node')
      .addOption(json()),
    async () => (await import('./commands/status.js')).statusCommand,
  );
  run(
    program.command('list').description('groups and their stands, from the state file').addOption(json()),
    async () => (await import('./commands/list.js')).listCommand,
  );
  run(
    program
      .command('cleanup')
      .description('stop and remove the stands of a group: only objects recorded as ours and marked ours')
      .requiredOption('--group <name>', 'group to clean up')
      .option('--user <userid>', 'only this user\'s stand')
      .option('--dry-run', 'show what would be removed and stop')
      .addOption(yes())
      .addOption(json()),
    async () => (await import('./commands/cleanup.js')).cleanupCommand,
  );
  // Proxmox's words: a rollback returns to a snapshot (`qm rollback`); `qm reset` is a hard reset, so `reset`
  // stays only as an alias of `rollback`
  for (const [name, action, what] of [
    ['rollback', 'reset', 'roll the stands back to their `start` snapshot (alias: reset, its old name)'],
    ['start', 'start', 'start the stands\' VMs'],
    ['shutdown', 'shutdown', 'shut the stands\' VMs down: ACPI power button, stopped if still running after --timeout'],
    ['stop', 'stop', 'stop the stands\' VMs at once (like pulling the plug)'],
  ] as const) {
    const cmd = program
      .command(name)
      .description(what)
      .requiredOption('--group <name>', 'group')
      .option('--user <userid>', 'only this user\'s stand');
    if (name === 'rollback') cmd.alias('reset');
    if (name === 'shutdown') cmd.option('--timeout <duration>', 'time for the guest to power off before it is stopped (default leases.shutdown_timeout, 1m)');
    run(cmd.addOption(yes()).addOption(json()), async () => (await import('./commands/power.js')).powerCommand(action));
  }
  run(
    program.command('expire').description('shut down, stop or remove stands whose lease has ended (stands.yml leases.action)').addOption(json()),
    async () => (await import('./commands/expire.js')).expireCommand,
  );
  const stateCmd = program.command('state').description('move the state between a SQLite file and a PostgreSQL or Redis server');
  run(
    stateCmd
      .command('copy')
      .description('copy every record to an empty target (file path, postgres://… or redis://…) and verify it')
      .requiredOption('--from <file|url>', 'the state to copy (e.g. data/state.sqlite)')
      .requiredOption('--to <file|url>', 'the empty target (e.g. postgres://stands@db.example/stands)')
      .addOption(json()),
    async () => (await import('./commands/state.js')).stateCopyCommand,
  );
  run(
    program
      .command('recover')
      .description('rebuild the state file from the tags and comments on the cluster')
      .option('--cluster <name>', 'cluster from connections.yml')
      .addOption(json()),
    async () => (await import('./commands/recover.js')).recoverCommand,
  );
  run(
    program
      .command('templates')
      .description('list template replicas made for linked clones on other nodes; --prepare makes them ahead of class')
      .option('--prune', 'remove replicas no stand uses')
      .option('--prepare', 'make (or verify) every replica a deploy of --profile would need')
      .option('--profile <name|file>', 'profile to prepare (with --prepare)')
      .option('--cluster <name>', 'cluster from connections.yml')
      .option('--nodes <a,b>', 'only these nodes (with --prepare; default: every online node)')
      .addOption(yes())
      .addOption(json()),
    async () => (await import('./commands/templates.js')).templatesCommand,
  );
  run(
    program
      .command('password')
      .description('set a new generated password for a user we created (printed once; needs ticket auth)')
      .requiredOption('--user <userid>', 'PVE user id, e.g. ivanov@pve')
      .option('--cluster <name>', 'cluster from connections.yml')
      .option('--out <file>', 'write the password to this CSV (mode 0600) instead of the screen')
      .option('--force', 'with --out: replace an existing file')
      .addOption(json()),
    async () => (await import('./commands/password.js')).passwordCommand,
  );
  run(
    program
      .command('check')
      .description('test the connection: reachability, TLS, credentials, privileges (exit 0 ok, 3 unusable, 2 bad config)')
      .option('--cluster <name>', 'cluster from connections.yml')
      .addOption(json()),
    async () => (await import('./commands/check.js')).checkCommand,
  );
  run(
    program
      .command('sim')
      .description('run the Proxmox VE simulator (HTTPS) until interrupted')
      .option('--port <port>', 'port (0 = any free port)', '8006')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--seed <file>', 'seed file (YAML/JSON): nodes, storages, templates, existing objects')
      .option('--faults <file>', 'fault rules file (YAML/JSON)')
      .option('--time-scale <x>', '1 = real Proxmox VE speed; 0.1 = ten times faster', '1')
      .addOption(json()),
    async () => (await import('./commands/sim.js')).simCommand,
  );
  run(
    program
      .command('demo')
      .description('start the simulator, deploy the example profile for data/users.example.txt, show status')
      .option('--time-scale <x>', 'simulator time scale (env STANDS_DEMO_TIME_SCALE, default 0.5)')
      .addOption(new Option('--profile <name>', 'example profile to deploy').default('netlab').hideHelp())
      .option('--keep', 'keep the simulator running afterwards (Ctrl+C to stop)'),
    async () => (await import('./commands/demo.js')).demoCommand,
  );
  run(
    program.command('bot').description('run the Discord bot (same as npm start)'),
    async () => (await import('./commands/bot.js')).botCommand,
  );
  run(
    program.command('register').description('register the Discord slash commands for the guild (same as npm run register)'),
    async () => (await import('./commands/bot.js')).registerCommand,
  );
  run(
    program
      .command('health')
      .description("exit 0 while the bot is connected to Discord's gateway, 1 when not (the container's HEALTHCHECK)")
      .option('--file <path>', 'the bot\'s health file (env STANDS_HEALTH_FILE)')
      .option('--max-age <seconds>', 'longest tolerated loss of the gateway connection (default 60)'),
    async () => (await import('./commands/health.js')).healthCommand,
  );
  return program;
}
