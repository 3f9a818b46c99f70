/**
 * A loopback HTTPS proxy in front of the simulator that can drop a connection before forwarding a request, or
 * after the simulator has handled it (the "connection reset after send" case a client cannot tell apart).
 */
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { Agent, request } from 'undici';

/** `not-implemented`: answer 501 like a PVE that lacks the endpoint. */
export type ProxyAction = 'pass' | 'reset-before' | 'reset-after' | 'not-implemented';

export interface ResetProxy {
  url: string;
  fingerprint: string;
  /** requests seen, as 'METHOD /path' (path without /api2/json and query) */
  seen: string[];
  /** every request's headers, as sent by the client */
  headers: Record<string, string>[];
  stop(): Promise<void>;
}

export async function startResetProxy(
  upstream: string,
  decide: (method: string, path: string) => ProxyAction,
): Promise<ResetProxy> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], { keySize: 2048, algorithm: 'sha256' });
  const fingerprint = new X509Certificate(pems.cert).fingerprint256;
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  const seen: string[] = [];
  const seenHeaders: Record<string, string>[] = [];
  const server: Server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const path = (req.url ?? '').replace(/^\/api2\/json/, '').replace(/\?.*$/, '');
        const method = req.method ?? 'GET';
        seen.push(`${method} ${path}`);
        seenHeaders.push(Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])));
        const action = decide(method, path);
        if (action === 'not-implemented') {
          const msg = `Method '${method} ${path}' not implemented`;
          res.writeHead(501, msg, { 'content-type': 'application/json;charset=UTF-8', connection: 'close' });
          res.end(JSON.stringify({ data: null, message: `${msg}\n` }));
          return;
        }
        if (action === 'reset-before') {
          req.socket.resetAndDestroy();
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
        }
        const up = await request(`${upstream}${req.url}`, {
          method: method as 'GET',
          headers,
          body: chunks.length ? Buffer.concat(chunks) : undefined,
          dispatcher,
        });
        const body = Buffer.from(await up.body.arrayBuffer());
        if (action === 'reset-after') {
          req.socket.resetAndDestroy();
          return;
        }
        res.writeHead(up.statusCode, up.statusText, { 'content-type': 'application/json;charset=UTF-8' });
        res.end(body);
      })().catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    fingerprint,
    seen,
    headers: seenHeaders,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dispatcher.close();
    },
  };
}
