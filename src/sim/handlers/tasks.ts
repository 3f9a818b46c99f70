/** Task endpoints (pve-manager API2/Tasks.pm): list, status (with the brief "no such task" window), log, stop. */
import { Envelope, int, type Req, str } from '../context.js';
import { paramError } from '../errors.js';
import { hasPriv, requirePriv } from '../privileges.js';
import type { Router } from '../router.js';
import type { SimTask } from '../state.js';
import { UPID_RE } from '../tasks.js';
import { taskEntry } from './cluster.js';

const isOwner = (r: Req, t: SimTask): boolean => t.user === (r.who.tokenid ?? r.who.userid) || t.user === r.who.userid;

function findTask(r: Req): SimTask {
  const upid = str(r, 'upid')!;
  const m = UPID_RE.exec(upid);
  if (!m) throw paramError({ upid: 'unable to parse worker upid' });
  const t = r.sim.state.tasks.get(upid);
  if (!t || t.node !== str(r, 'node') || r.sim.clock.now() - t.forkedAtMs < r.sim.timing.noSuchTaskWindowMs)
    throw paramError({ upid: 'no such task' });
  if (!isOwner(r, t)) requirePriv(r.sim.state, r.who, `/nodes/${t.node}`, ['Sys.Audit']);
  return t;
}

export function registerTasks(router: Router): void {
  router.add('GET', '/nodes/{node}/tasks', (r: Req) => {
    const { state } = r.sim;
    const node = str(r, 'node')!;
    const source = str(r, 'source') ?? 'archive';
    const audit = hasPriv(state, r.who, `/nodes/${node}`, ['Sys.Audit']);
    const vmid = int(r, 'vmid');
    const type = str(r, 'typefilter');
    const user = str(r, 'userfilter');
    const errors = r.params.errors === true;
    const start = int(r, 'start') ?? 0;
    const limit = int(r, 'limit') ?? 50;
    const list = state.tasksByNode.get(node) ?? [];
    const out = [];
    let skipped = 0;
    let total = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const t = list[i]!;
      if (source === 'archive' && t.status === 'running') continue;
      if (source === 'active' && t.status !== 'running') continue;
      if (!audit && !isOwner(r, t)) continue;
      if (vmid !== undefined && t.id !== String(vmid)) continue;
      if (type && t.type !== type) continue;
      if (user && !t.user.includes(user)) continue;
      if (errors && (t.status === 'running' || t.exitstatus === 'OK')) continue;
      total++;
      if (skipped < start) {
        skipped++;
        continue;
      }
      if (out.length < limit) out.push(taskEntry(t));
    }
    return new Envelope(out, { total });
  });

  router.add('GET', '/nodes/{node}/tasks/{upid}/status', (r: Req) => {
    const t = findTask(r);
    return { ...taskEntry(t), status: t.status, ...(t.status === 'stopped' ? { exitstatus: t.exitstatus } : {}) };
  });

  router.add('GET', '/nodes/{node}/tasks/{upid}/log', (r: Req) => {
    const t = findTask(r);
    const start = int(r, 'start') ?? 0;
    const limit = int(r, 'limit') ?? 50;
    const lines = t.log.length ? t.log : ['no content'];
    const data = lines.slice(start, start + limit).map((l, i) => ({ n: start + i + 1, t: l }));
    return new Envelope(data, { total: lines.length });
  });

  router.add('DELETE', '/nodes/{node}/tasks/{upid}', (r: Req) => {
    const t = findTask(r);
    if (!isOwner(r, t)) requirePriv(r.sim.state, r.who, `/nodes/${t.node}`, ['Sys.Modify']);
    return null;
  });
}
