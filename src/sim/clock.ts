/**
 * The simulator's clock. Sim time runs `1 / timeScale` times faster than real time, so every modelled duration
 * (task lengths, lock timeouts, ticket lifetime, pvestatd lag) shrinks together and their ratios stay the same.
 */
export interface SimClock {
  /** Simulated epoch milliseconds. */
  now(): number;
  /** Jump the simulated clock forward (e.g. past a ticket's 2 h lifetime). Running timers are not affected. */
  advance(ms: number): void;
  readonly timeScale: number;
  /** Real milliseconds that a simulated duration takes. */
  toReal(simMs: number): number;
  /** Wait a simulated duration. */
  sleep(simMs: number): Promise<void>;
}

export function createClock(timeScale: number, startEpochMs = Date.now()): SimClock {
  if (!(timeScale > 0)) throw new Error(`timeScale must be > 0 (got ${timeScale})`);
  const realStart = performance.now();
  let offset = 0;
  return {
    timeScale,
    now: () => startEpochMs + (performance.now() - realStart) / timeScale + offset,
    advance(ms: number) {
      offset += ms;
    },
    toReal: (simMs: number) => simMs * timeScale,
    sleep: (simMs: number) =>
      new Promise<void>((resolve) => {
        if (simMs <= 0) return resolve();
        // unref: a task still sleeping when the simulator stops must not keep the process alive
        setTimeout(resolve, simMs * timeScale).unref();
      }),
  };
}
