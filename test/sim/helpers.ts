/** Plain HTTPS calls to the simulator, as any PVE client would make them (undici, trusting the sim's cert). */
import { Agent, request } from 'undici';
import { type RunningSimulator, startSimulator, type StartSimulatorOptions } from '../../src/sim/index.js';

export interface Reply {
  status: number;
  reason: string;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export type AuthMode = 'token' | 'none' | { ticket: string; csrf?: string } | { header: string };

export interface TestSim {
  sim: RunningSimulator;
  api(method: string, path: string, params?: Record<string, string | number | string[]>, auth?: AuthMode, opts?: { json?: boolean; headers?: Record<string, string> }): Promise<Reply>;
  login(username?: string, password?: string): Promise<{ ticket: string; csrf: string }>;
  /** poll a task until it stops; returns its final status */
  waitTask(upid: string): Promise<{ status: string; exitstatus: string; log: string[] }>;
  stop(): Promise<void>;
}

export async function startTestSim(o: StartSimulatorOptions = {}): Promise<TestSim> {
  const sim = await startSimulator({ timeScale: 0.01, authFailDelayMs: 5, ...o });
  const dispatcher = new Agent({ connect: { ca: sim.caPem }, connections: 16 });
  const api: TestSim['api'] = async (method, path, params, auth = 'token', opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (auth === 'token') headers.authorization = `PVEAPIToken=${sim.tokenId}=${sim.tokenSecret}`;
    else if (auth !== 'none' && 'ticket' in auth) {
      headers.cookie = `PVEAuthCookie=${encodeURIComponent(auth.ticket)}`;
      if (auth.csrf) headers.csrfpreventiontoken = auth.csrf;
    } else if (auth !== 'none') headers.authorization = auth.header;
    let url = `${sim.url}/api2/json${path}`;
    let body: string | undefined;
    if (params) {
      if (method === 'GET' || method === 'DELETE') {
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) qs.append(k, String(x));
        url += (url.includes('?') ? '&' : '?') + qs.toString();
      } else if (opts.json) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(params);
      } else {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) qs.append(k, String(x));
        body = qs.toString();
      }
    }
    const r = await request(url, { method: method as 'GET', headers, body, dispatcher });
    const text = await r.body.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: r.statusCode, reason: r.statusText, headers: r.headers, text, body: parsed };
  };
  const login: TestSim['login'] = async (username = 'root@pam', password = sim.password) => {
    const r = await api('POST', '/access/ticket', { username, password }, 'none');
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.reason}`);
    return { ticket: r.body.data.ticket, csrf: r.body.data.CSRFPreventionToken };
  };
  const waitTask: TestSim['waitTask'] = async (upid) => {
    const node = upid.split(':')[1]!;
    for (;;) {
      const r = await api('GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);
      if (r.status === 200 && r.body.data.status === 'stopped') {
        const log = await api('GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/log`, { limit: 1000 });
        return { status: 'stopped', exitstatus: r.body.data.exitstatus, log: log.body.data.map((l: { t: string }) => l.t) };
      }
      if (r.status !== 200 && !(r.status === 400 && r.body?.errors?.upid === 'no such task')) throw new Error(`task status: ${r.status} ${r.reason}`);
      await new Promise((res) => setTimeout(res, 5));
    }
  };
  return {
    sim,
    api,
    login,
    waitTask,
    async stop() {
      await dispatcher.close();
      await sim.stop();
    },
  };
}
