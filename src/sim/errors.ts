/**
 * The errors a PVE handler raises. The server turns them into PVE's envelope: reason phrase = first line of the
 * message, body `{data:null, errors?, message}` (pve-http-server ≥ 5.2.0 adds `message`).
 */
export class PveError extends Error {
  override readonly name = 'PveError';
  readonly status: number;
  readonly errors: Record<string, string> | undefined;
  /** 401s carry an empty body, as PVE's auth handler sends them. */
  readonly emptyBody: boolean;
  constructor(status: number, message: string, opts?: { errors?: Record<string, string>; emptyBody?: boolean }) {
    super(message);
    this.status = status;
    this.errors = opts?.errors;
    this.emptyBody = opts?.emptyBody ?? false;
  }
}

/** `die "…\n"` inside a handler: HTTP 500 with the message (not found, locks, "already exists" …). */
export const fail = (message: string): PveError => new PveError(500, message);

/** raise_param_exc: 400 "Parameter verification failed." with per-parameter errors. */
export const paramError = (errors: Record<string, string>): PveError =>
  new PveError(400, 'Parameter verification failed.', { errors });

/** raise_perm_exc: 403 "Permission check failed (what)". */
export const permError = (what?: string): PveError =>
  new PveError(403, what ? `Permission check failed (${what})` : 'Permission check failed');

export const configNotFound = (node: string, vmid: number): PveError =>
  fail(`Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`);
