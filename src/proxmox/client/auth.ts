/** Auth: API token or ticket + CSRF (renewed by posting the ticket as password; a 401 logs in again once). */
import { performance } from 'node:perf_hooks';
import { UserError } from '../../errors.js';
import { ProxmoxApiError } from '../errors.js';
import { send, type RawResponse } from '../http.js';
import { TicketResponse } from '../types.js';
import { type TicketState, type AuthKind, type RequestOptions, isTlsTrustError, ClientBase } from './base.js';

export class AuthClient extends ClientBase {
  protected async login(reason: string): Promise<TicketState> {
    if (this.loginInFlight) return this.loginInFlight;
    const p = (async () => {
      const { user, password } = this.cluster;
      if (!user || !password) {
        throw new UserError(
          `cluster ${this.cluster.name}: no credentials: set tokenId/tokenSecret or user/password in connections.yml`,
        );
      }
      const previous = this.ticketState;
      // Renew with the current ticket as the password (PVE: "This can also be a valid ticket") so a long run does
      // not need the password again; fall back to the password if the old ticket is no longer accepted.
      if (previous && reason === 'renew') {
        try {
          const t = await this.postTicket(user, previous.ticket);
          this.stats.renewals++;
          this.log.debug({ reason }, 'ticket renewed');
          return t;
        } catch (err) {
          if (!(err instanceof ProxmoxApiError && err.status === 401)) throw err;
          this.log.debug('ticket renewal refused, logging in with the password');
        }
      }
      const t = await this.postTicket(user, password);
      this.log.debug({ reason, user }, 'logged in');
      return t;
    })();
    this.loginInFlight = p;
    try {
      const t = await p;
      this.ticketState = t;
      return t;
    } finally {
      this.loginInFlight = undefined;
    }
  }

  /** POST /access/ticket. Creates nothing on the server, so network errors and 5xx/59x are simply retried. */
  protected async postTicket(username: string, password: string): Promise<TicketState> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.postTicketOnce(username, password);
      } catch (err) {
        const retry =
          err instanceof ProxmoxApiError && attempt + 1 < this.maxAttempts && !isTlsTrustError(err) && (err.status === 0 || err.status >= 500);
        if (!retry) throw err;
        this.stats.retries++;
        await this.sleep(this.backoffMs(attempt));
      }
    }
  }

  protected async postTicketOnce(username: string, password: string): Promise<TicketState> {
    this.stats.logins++;
    const release = await this.slots.acquire();
    try {
      this.count('POST');
      const res = await send({
        agent: this.agent,
        origin: this.origin,
        method: 'POST',
        path: '/access/ticket',
        body: { username, password },
        headers: {},
        timeoutMs: this.requestTimeoutMs,
        cluster: this.cluster.name,
      });
      const t = this.parse(TicketResponse, res.body, 'POST', '/access/ticket');
      return { ticket: t.ticket, csrf: t.CSRFPreventionToken, obtainedAt: this.now() };
    } catch (err) {
      if (err instanceof ProxmoxApiError && err.status === 401) {
        throw new ProxmoxApiError({
          status: 401,
          method: 'POST',
          path: '/access/ticket',
          pveMessage: `authentication failure for ${username} (wrong user or password)`,
          retrySafe: false,
          cluster: this.cluster.name,
        });
      }
      throw err;
    } finally {
      release();
    }
  }

  protected async ticket(): Promise<TicketState> {
    const t = this.ticketState;
    if (!t) return this.login('first request');
    if (this.now() - t.obtainedAt >= this.ticketRenewAgeMs) return this.login('renew');
    return t;
  }

  protected async authHeaders(kind: AuthKind, method: string): Promise<{ headers: Record<string, string>; ticket?: TicketState }> {
    if (kind === 'token') {
      return {
        headers: { authorization: `PVEAPIToken=${this.cluster.tokenId}=${this.cluster.tokenSecret}` },
      };
    }
    const t = await this.ticket();
    const headers: Record<string, string> = { cookie: `PVEAuthCookie=${encodeURIComponent(t.ticket)}` };
    // CSRF token on every non-GET with ticket auth, else 401 "Permission denied - invalid csrf token".
    if (method !== 'GET') headers.csrfpreventiontoken = t.csrf;
    return { headers, ticket: t };
  }

  protected count(method: string): void {
    this.stats.requests++;
    this.stats.byMethod[method] = (this.stats.byMethod[method] ?? 0) + 1;
  }

  /** One authenticated exchange; a 401 with a ticket triggers one fresh login and one resend. */
  protected async sendAuthed(method: string, path: string, o: RequestOptions): Promise<RawResponse> {
    const kind = o.auth ?? this.authMode;
    for (let attempt = 0; ; attempt++) {
      const { headers, ticket } = await this.authHeaders(kind, method);
      const release = await this.slots.acquire();
      const t0 = performance.now();
      try {
        this.count(method);
        const res = await send({
          agent: this.agent,
          origin: this.origin,
          method,
          path,
          query: o.query,
          body: o.body,
          headers,
          timeoutMs: this.requestTimeoutMs,
          cluster: this.cluster.name,
        });
        this.log.trace({ method, path, status: res.status, ms: Math.round(performance.now() - t0) }, 'pve request');
        return res;
      } catch (err) {
        const status = err instanceof ProxmoxApiError ? err.status : undefined;
        this.log.debug(
          { method, path, status, ms: Math.round(performance.now() - t0), err: (err as Error).message },
          'pve request failed',
        );
        if (status === 401 && kind === 'ticket' && attempt === 0) {
          // Expired or revoked ticket (2 h lifetime): log in again once. Only the first of many parallel 401s logs in.
          if (this.ticketState === ticket) this.ticketState = undefined;
          continue;
        }
        throw err;
      } finally {
        release();
      }
    }
  }
}
