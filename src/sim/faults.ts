/**
 * Injected faults, per route and seeded. Each rule matches a method and an API path glob (`*` = one segment,
 * `**` = any rest), fires with a probability, at most `times` times, after skipping the first `skip` matches.
 *
 * kinds:
 * - task-start-failure: 500 "got no worker upid - start worker failed" instead of forking the task
 * - timeout: 596 "Connection timed out" (pveproxy's proxy leg), `when: 'before'` (nothing done) or 'after'
 *   (the write was performed, the reply lost)
 * - clone-failure: the clone task fails with `message` (default: an LVM allocation error); drawn inside the task
 *   (a clone that never started cannot fail); with `latencyMs`, it first runs that long (simulated)
 * - latency: `latencyMs` (simulated) added before the request is handled
 * - error: any status/message
 * - node-offline: `node` goes offline (at `atMs` simulated ms after the rule is added, default now)
 * - sdn-reload-failure: in the SDN apply task (`PUT /cluster/sdn`), the per-node leg `pvesh set /nodes/<n>/network`
 *   fails for the nodes whose path `PUT /nodes/<n>/network` the rule matches: the task logs `message` (default:
 *   ifupdown2 missing) and warns that the command failed, ending `WARNINGS: n`; that node's network is not
 *   reloaded, so the new VNets are no bridges there
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Rng } from './rng.js';

export const FaultRule = z.object({
  kind: z.enum(['task-start-failure', 'timeout', 'clone-failure', 'latency', 'error', 'node-offline', 'sdn-reload-failure']),
  method: z.enum(['GET', 'POST', 'PUT', 'DELETE', '*']).default('*'),
  path: z.string().default('**'),
  probability: z.number().min(0).max(1).default(1),
  times: z.number().int().positive().optional(),
  skip: z.number().int().min(0).default(0),
  when: z.enum(['before', 'after']).default('before'),
  latencyMs: z.number().min(0).optional(),
  status: z.number().int().min(400).max(599).optional(),
  message: z.string().optional(),
  node: z.string().optional(),
  atMs: z.number().min(0).optional(),
});
export type FaultRuleInput = z.input<typeof FaultRule>;
export type FaultRule = z.infer<typeof FaultRule>;


export async function loadFaultsFile(path: string): Promise<FaultRule[]> {
  const text = await readFile(path, 'utf8');
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new ConfigError({ file: path, message: (e as Error).message.split('\n')[0] ?? 'invalid YAML' });
  }
  const wrapped = !Array.isArray(data) && typeof data === 'object' && data !== null && 'faults' in data;
  const list = wrapped ? (data as { faults: unknown }).faults : data;
  const r = z.array(FaultRule).safeParse(list);
  if (!r.success)
    throw new ConfigError(
      r.error.issues.map((i) => ({
        file: path,
        path: (wrapped ? 'faults' : '') + i.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join(''),
        message: i.message,
      })),
    );
  return r.data;
}

function globToRegex(glob: string): RegExp {
  const re = glob
    .split('/')
    .map((seg) => (seg === '**' ? '.*' : seg.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')))
    .join('/');
  return new RegExp(`^${re.replace(/\/\.\*$/, '(?:/.*)?')}$`);
}

interface LiveRule {
  rule: FaultRule;
  re: RegExp;
  seen: number;
  fired: number;
}

export class Faults {
  private rules: LiveRule[] = [];
  constructor(private rng: Rng, private onNodeOffline: (rule: FaultRule) => void) {}

  add(input: FaultRuleInput | FaultRule): void {
    const rule = FaultRule.parse(input);
    if (rule.kind === 'node-offline') {
      this.onNodeOffline(rule);
    }
    this.rules.push({ rule, re: globToRegex(rule.path), seen: 0, fired: 0 });
  }
  clear(): void {
    this.rules = [];
  }
  list(): FaultRule[] {
    return this.rules.map((r) => r.rule);
  }
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** The rules of these kinds that fire for this request (each draw advances the seeded RNG). */
  draw(kinds: FaultRule['kind'][], method: string, path: string, when?: FaultRule['when']): FaultRule[] {
    const out: FaultRule[] = [];
    for (const r of this.rules) {
      if (!kinds.includes(r.rule.kind)) continue;
      if (when && r.rule.when !== when) continue;
      if (r.rule.method !== '*' && r.rule.method !== method) continue;
      if (!r.re.test(path)) continue;
      r.seen++;
      if (r.seen <= r.rule.skip) continue;
      if (r.rule.times !== undefined && r.fired >= r.rule.times) continue;
      if (r.rule.probability < 1 && this.rng.next() >= r.rule.probability) continue;
      r.fired++;
      out.push(r.rule);
    }
    return out;
  }
}
