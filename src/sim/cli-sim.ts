/** `stands sim`: run the simulator in the foreground and print how to connect (the CLI wires the flags here). */
import type { Writable } from 'node:stream';
import { startSimulator } from './index.js';

export interface SimCommandOptions {
  /** default 8006, PVE's port */
  port?: number;
  host?: string;
  /** YAML/JSON seed file (default: the built-in default cluster) */
  seed?: string;
  /** YAML/JSON faults file */
  faults?: string;
  /** 1 = real PVE speed (default) */
  timeScale?: number;
  /** one JSON object on one line instead of readable lines */
  json?: boolean;
  rngSeed?: number;
  /** stops the simulator like SIGINT does (tests, embedding) */
  signal?: AbortSignal;
}

/** Starts the simulator, prints URL, fingerprint and credentials, and resolves once SIGINT/SIGTERM arrives. */
export async function runSimCommand(o: SimCommandOptions, out: Writable): Promise<void> {
  const sim = await startSimulator({
    port: o.port ?? 8006,
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.faults !== undefined ? { faults: o.faults } : {}),
    ...(o.timeScale !== undefined ? { timeScale: o.timeScale } : {}),
    ...(o.rngSeed !== undefined ? { rngSeed: o.rngSeed } : {}),
  });
  if (o.json) {
    out.write(
      JSON.stringify({
        url: sim.url,
        fingerprint: sim.fingerprint,
        user: sim.user,
        password: sim.password,
        token_id: sim.tokenId,
        token_secret: sim.tokenSecret,
      }) + '\n',
    );
  } else {
    const nodes = [...sim.state.nodes.values()].map((n) => n.name).join(', ');
    out.write(
      [
        `Proxmox VE simulator (pve-manager ${sim.state.version}; nodes ${nodes}; time scale ${sim.clock.timeScale})`,
        `URL:          ${sim.url}`,
        `Fingerprint:  ${sim.fingerprint}`,
        `User:         ${sim.user}`,
        `Password:     ${sim.password}`,
        `Token ID:     ${sim.tokenId}`,
        `Token secret: ${sim.tokenSecret}`,
        'Press Ctrl+C to stop.',
        '',
      ].join('\n'),
    );
  }
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      o.signal?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (o.signal?.aborted) done();
    else o.signal?.addEventListener('abort', done, { once: true });
  });
  await sim.stop();
}
