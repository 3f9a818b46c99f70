/**
 * The HTTPS front: /api2/json routing, body decoding (form or JSON, query over body, 512 KiB limit), auth,
 * parameter verification, permissions, pvedaemon worker limit, faults, and PVE's envelope and errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { unauthorized } from './auth.js';
import { Envelope, RawJson, type Req, type Sim } from './context.js';
import { fail, paramError, PveError } from './errors.js';
import { checkExpr } from './privileges.js';
import type { Router } from './router.js';
import { SCHEMA, validateParams } from './schema-validate.js';

const MAX_BODY = 512 * 1024;
const PREFIX = '/api2/json';
/** Endpoints that answer without credentials (BEHAVIOUR.md §2.2). */
const WORLD = new Set(['GET /access/ticket', 'POST /access/ticket']);

let dateSecond = 0;
let dateString = '';
function baseHeaders(): Record<string, string> {
  const sec = Math.floor(Date.now() / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateString = new Date(sec * 1000).toUTCString();
  }
  return { Server: 'pve-api-daemon/3.0', 'Cache-Control': 'max-age=0', Pragma: 'no-cache', Expires: dateString };
}

/** HTTP reason phrases are one line of printable ASCII: the first line of PVE's message. */
const reasonOf = (message: string): string => (message.split('\n')[0] ?? '').replace(/[^\x20-\x7e]/g, '?') || 'Error';

function sendJson(res: ServerResponse, status: number, reason: string, body: string): void {
  const headers: Record<string, string | number> = {
    ...baseHeaders(),
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(body),
  };
  // pve-http-server: keep_alive = 0 if code >= 400
  if (status >= 400) headers.Connection = 'close';
  res.writeHead(status, reason, headers);
  res.end(body);
}

function sendText(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, reasonOf(message), {
    ...baseHeaders(),
    'Content-Type': 'text/plain;charset=UTF-8',
    Connection: 'close',
  });
  res.end(`${message}\n`);
}

/** pve-http-server ≥ 5.2.0 (PVE 8.3+) also puts the message in the JSON body ("fix #6503"). */
export function sendError(res: ServerResponse, e: PveError, withMessage = true): void {
  if (e.emptyBody) {
    res.writeHead(e.status, reasonOf(e.message), { ...baseHeaders(), 'Content-Length': 0, Connection: 'close' });
    res.end();
    return;
  }
  const body: Record<string, unknown> = { data: null };
  if (e.errors) body.errors = e.errors;
  if (withMessage) body.message = e.message.endsWith('\n') ? e.message : `${e.message}\n`;
  sendJson(res, e.status, reasonOf(e.message), JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve('too-large');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decodeForm(text: string, into: Record<string, unknown>): void {
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = into[k];
    if (prev === undefined) into[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else into[k] = [prev, v];
  }
}

/** 'major.minor' as a number: 9.1 → 901. */
const versionOf = (v: string): number => {
  const [a, b] = v.split('.').map(Number);
  return (a ?? 0) * 100 + (b ?? 0);
};

/** Pool forms added in pve-manager 8.1.0 (commit 4448f8d3); 8.0 only has /pools/{poolid}. */
const POOLS_81 = new Set(['PUT /pools', 'DELETE /pools']);

export interface Dispatch {
  sim: Sim;
  router: Router;
  authFailDelayMs: number;
  /** the node whose pvedaemon serves requests that name no node */
  entryNode: () => string;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function createHandler(d: Dispatch): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(d, req, res).catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      sendError(res, e instanceof PveError ? e : fail(e instanceof Error ? e.message : String(e)));
    });
  };
}

async function handle(d: Dispatch, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { sim } = d;
  const version = versionOf(sim.state.version);
  const sendErr = (e: PveError): void => sendError(res, e, version >= 803);
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const fullPath = q < 0 ? url : url.slice(0, q);
  if (!fullPath.startsWith(`${PREFIX}/`) && fullPath !== PREFIX) {
    await readBody(req);
    return sendText(res, 501, 'no such uri');
  }
  const path = fullPath.slice(PREFIX.length).replace(/\/+$/, '') || '/';
  sim.stats.requests++;

  const body = await readBody(req);
  if (body === 'too-large') return sendText(res, 501, 'for data too large');
  const params: Record<string, unknown> = {};
  let json = false;
  if (body.length) {
    if (method !== 'POST' && method !== 'PUT') return sendErr(new PveError(501, `Unexpected content for method '${method}'`));
    const ct = (req.headers['content-type'] ?? 'application/x-www-form-urlencoded').split(';')[0]!.trim().toLowerCase();
    if (ct === 'application/json') {
      json = true;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return sendErr(new PveError(400, 'malformed JSON string'));
      }
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(params, parsed);
    } else if (ct === 'application/x-www-form-urlencoded') decodeForm(body.toString('utf8'), params);
    else return sendText(res, 506, `upload 'Content-Type '${ct}'' not implemented`);
  }
  // query-string parameters are merged over body parameters (AnyEvent.pm extract_params)
  if (q >= 0) {
    const fromQuery: Record<string, unknown> = {};
    decodeForm(url.slice(q + 1), fromQuery);
    Object.assign(params, fromQuery);
  }

  const match = d.router.match(method, path);
  if (!match) return sendErr(new PveError(501, `Method '${method} ${path}' not implemented`));
  const route = `${method} ${match.template}`;
  sim.stats.byRoute[route] = (sim.stats.byRoute[route] ?? 0) + 1;
  if (route === 'GET /nodes/{node}/tasks/{upid}/status') sim.stats.taskStatusPolls++;
  const ep = SCHEMA.endpoints[route];
  if (!ep || (version < 801 && POOLS_81.has(route))) return sendErr(new PveError(501, `Method '${method} ${path}' not implemented`));
  // PVE ≤ 8.0 has no poolid filter on the pool index (nested pools came with pve-manager 8.1.0)
  if (version < 801 && route === 'GET /pools' && params.poolid !== undefined)
    return sendErr(paramError({ poolid: 'property is not defined in schema and the schema does not allow additional properties' }));

  for (const [k, v] of Object.entries(match.pathParams)) {
    if (params[k] !== undefined && String(params[k]) !== v)
      return sendErr(paramError({ [k]: 'duplicate parameter (already defined in URI) with conflicting values!' }));
    params[k] = v;
  }

  // authentication (401s are delayed: "always delay unauthorized calls by 3 seconds")
  let who: Req['who'];
  if (WORLD.has(route)) {
    who = { userid: '', privsep: false, via: 'ticket' };
    if (!ep.allowtoken && /(?:^|\s)PVEAPIToken(?:=| )/.test(req.headers.authorization ?? ''))
      return sendErr(new PveError(403, `Permission check failed (URI '${path}' not available with API token, need proper ticket.)`));
  } else {
    try {
      who = sim.auth.authenticate(req.headers, method);
    } catch (e) {
      await realSleep(d.authFailDelayMs);
      return sendErr(e instanceof PveError ? e : unauthorized('permission denied - invalid PVE ticket'));
    }
    if (who.via === 'token' && !ep.allowtoken)
      return sendErr(new PveError(403, `Permission check failed (URI '${path}' not available with API token, need proper ticket.)`));
  }

  const r: Req = { sim, method, path, route, params, who };
  const node = typeof match.pathParams.node === 'string' ? match.pathParams.node : undefined;

  try {
    if (node !== undefined && (ep.proxyto === 'node' || route.startsWith('GET /nodes/{node}/') || ep.protected)) {
      const n = sim.state.nodes.get(node);
      if (!n) throw fail(`hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
      if (!n.online) throw new PveError(595, 'No route to host');
    }
    if (!sim.faults.empty) {
      for (const f of sim.faults.draw(['latency'], method, path)) await sim.clock.sleep(f.latencyMs ?? 1000);
      const [err] = sim.faults.draw(['error'], method, path);
      if (err) throw new PveError(err.status ?? 500, err.message ?? 'injected error');
      const [to] = sim.faults.draw(['timeout'], method, path, 'before');
      if (to) {
        await sim.clock.sleep(to.latencyMs ?? 30_000);
        throw new PveError(to.status ?? 596, to.message ?? 'Connection timed out');
      }
    }
    const run = async (): Promise<unknown> => {
      if (ep.permissions?.check) checkExpr(sim.state, who, ep.permissions.check, params);
      r.params = validateParams(ep, params, json);
      return await match.handler(r);
    };
    // protected calls are proxied to pvedaemon on the node: 3 workers, the rest wait
    const workNode = ep.protected ? (node ?? d.entryNode()) : undefined;
    const result = workNode ? await sim.workers.get(workNode)!.run(run) : await run();
    if (!sim.faults.empty) {
      const [to] = sim.faults.draw(['timeout'], method, path, 'after');
      if (to) {
        await sim.clock.sleep(to.latencyMs ?? 30_000);
        throw new PveError(to.status ?? 596, to.message ?? 'Connection timed out');
      }
    }
    if (result instanceof RawJson) return sendJson(res, 200, 'OK', `{"data":${result.json}}`);
    const env = result instanceof Envelope ? result : undefined;
    const payload = env ? { data: env.data ?? null, ...env.extra } : { data: result ?? null };
    sendJson(res, 200, 'OK', JSON.stringify(payload));
  } catch (e) {
    if (e instanceof PveError) {
      if (e.status === 401) await realSleep(d.authFailDelayMs);
      return sendErr(e);
    }
    throw e;
  }
}
