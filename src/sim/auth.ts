/**
 * Authentication as pve-manager's HTTPServer auth_handler does it: `PVEAuthCookie` tickets (2 h, on the sim
 * clock), a CSRFPreventionToken on every non-GET request made with a ticket, and `PVEAPIToken=` headers.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SimClock } from './clock.js';
import { PveError } from './errors.js';
import type { Principal } from './privileges.js';
import type { SimState } from './state.js';

export const unauthorized = (message: string): PveError => new PveError(401, message, { emptyBody: true });

const hex8 = (n: number): string => Math.floor(n).toString(16).toUpperCase().padStart(8, '0');

export class Auth {
  private key = randomBytes(32);
  constructor(private state: SimState, private clock: SimClock, private lifetimeMs: number) {}

  private sign(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64').replace(/=+$/, '');
  }

  /** `PVE:<userid>:<HEXTIME>::<signature>` (pve-common Ticket.pm assemble_rsa_ticket shape). */
  createTicket(userid: string): { ticket: string; csrf: string } {
    const t = hex8(this.clock.now() / 1000);
    const plain = `PVE:${userid}:${t}`;
    return { ticket: `${plain}::${this.sign(plain)}`, csrf: `${t}:${this.sign(`${t}:${userid}`)}` };
  }

  /** The userid of a valid, unexpired ticket, or undefined. */
  verifyTicket(ticket: string): string | undefined {
    const m = /^(PVE:([^:]+):([0-9A-F]{8}))::(.+)$/.exec(ticket);
    if (!m) return undefined;
    const sig = Buffer.from(this.sign(m[1]!));
    const got = Buffer.from(m[4]!);
    if (sig.length !== got.length || !timingSafeEqual(sig, got)) return undefined;
    const age = this.clock.now() / 1000 - parseInt(m[3]!, 16);
    if (age < -300 || age > this.lifetimeMs / 1000) return undefined;
    const user = this.state.users.get(m[2]!);
    if (!user || !user.enable) return undefined;
    return m[2];
  }

  verifyCsrf(token: string | undefined, userid: string): boolean {
    if (!token) return false;
    const m = /^([0-9A-F]{8}):(.+)$/.exec(token);
    if (!m) return false;
    if (this.sign(`${m[1]}:${userid}`) !== m[2]) return false;
    const age = this.clock.now() / 1000 - parseInt(m[1]!, 16);
    return age >= -300 && age <= this.lifetimeMs / 1000;
  }

  /** Username + password (or a still-valid ticket as password, which renews it). */
  login(username: string, password: string, realm?: string): string | undefined {
    const userid = realm && !username.includes('@') ? `${username}@${realm}` : username;
    if (password.startsWith('PVE:')) {
      const from = this.verifyTicket(password);
      return from === userid ? userid : undefined;
    }
    const user = this.state.users.get(userid);
    if (!user || !user.enable || user.password === undefined || user.password !== password) return undefined;
    return userid;
  }

  /**
   * Who sent this request. Throws 401 (PVE ≤ 9.1 texts) for missing/invalid credentials or a missing CSRF token
   * on a ticket-authenticated write.
   */
  authenticate(headers: IncomingHttpHeaders, method: string): Principal & { via: 'ticket' | 'token' } {
    const authz = headers.authorization;
    if (authz) {
      const m = /(?:^|\s)PVEAPIToken(?:=| )([^;]*)/.exec(authz);
      if (m) {
        const value = m[1]!.trim();
        const eq = value.indexOf('=');
        const tokenid = eq < 0 ? value : value.slice(0, eq);
        const secret = eq < 0 ? '' : value.slice(eq + 1);
        const token = this.state.tokens.get(tokenid);
        if (!token) throw unauthorized('permission denied - invalid PVE ticket');
        if (token.secret !== secret) throw unauthorized('invalid token value!');
        const user = this.state.users.get(token.userid);
        if (!user || !user.enable) throw unauthorized('permission denied - invalid PVE ticket');
        return { userid: token.userid, tokenid: token.id, privsep: token.privsep, via: 'token' };
      }
    }
    let ticket: string | undefined;
    const cookie = headers.cookie;
    if (cookie) {
      const m = /(?:^|;\s*)PVEAuthCookie=([^;]*)/.exec(cookie);
      if (m) ticket = decodeURIComponent(m[1]!);
    }
    if (!ticket && authz) {
      const m = /PVEAuthCookie=([^;]*)/.exec(authz);
      if (m) ticket = decodeURIComponent(m[1]!);
    }
    if (!ticket) throw unauthorized('No ticket');
    const userid = this.verifyTicket(ticket);
    if (!userid) throw unauthorized('permission denied - invalid PVE ticket');
    if (method !== 'GET') {
      const csrf = headers.csrfpreventiontoken;
      if (!this.verifyCsrf(Array.isArray(csrf) ? csrf[0] : csrf, userid))
        throw unauthorized('Permission denied - invalid csrf token');
    }
    return { userid, privsep: false, via: 'ticket' };
  }
}
