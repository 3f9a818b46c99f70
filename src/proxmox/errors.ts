/**
 * Errors of the Proxmox client. None of them ever carries a credential: messages are built from the method, the
 * path (no query string with secrets: we never put secrets in query strings) and what PVE said.
 */

export type ParamErrors = Record<string, string>;

/** What PVE (or the HTTP layer between us and PVE) answered, or why no answer came. */
export class ProxmoxApiError extends Error {
  override readonly name: string = 'ProxmoxApiError';
  /** HTTP status; 0 when no response arrived (network error, timeout). */
  readonly status: number;
  readonly method: string;
  readonly path: string;
  /** PVE's message: the JSON `message`, else the reason phrase, else the network error text. */
  readonly pveMessage: string;
  readonly paramErrors: ParamErrors;
  /** True when repeating the request cannot do the operation twice (nothing reached PVE, or it is a read). */
  readonly retrySafe: boolean;
  /** True when we cannot know whether the write happened (timeout, 596, reset after send). */
  readonly ambiguous: boolean;
  /** Network error code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT …) when no response came. */
  readonly code: string | undefined;
  readonly cluster: string | undefined;

  constructor(init: {
    status: number;
    method: string;
    path: string;
    pveMessage: string;
    paramErrors?: ParamErrors;
    retrySafe: boolean;
    ambiguous?: boolean;
    code?: string;
    cluster?: string;
    cause?: unknown;
  }) {
    const params = Object.entries(init.paramErrors ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ');
    const where = init.cluster ? `${init.cluster}: ` : '';
    const what = init.status === 0 ? 'no response' : String(init.status);
    super(
      `${where}${init.method} ${init.path} failed: ${what} ${init.pveMessage}${params ? ` (${params})` : ''}`.trim(),
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.pveMessage = init.pveMessage;
    this.paramErrors = init.paramErrors ?? {};
    this.retrySafe = init.retrySafe;
    this.ambiguous = init.ambiguous ?? false;
    this.code = init.code;
    this.cluster = init.cluster;
  }

  /** The whole text PVE gave, params included, for pattern matching. */
  get fullText(): string {
    return [this.pveMessage, ...Object.values(this.paramErrors)].join('\n');
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      status: this.status,
      method: this.method,
      path: this.path,
      pveMessage: this.pveMessage,
      paramErrors: this.paramErrors,
      retrySafe: this.retrySafe,
      ambiguous: this.ambiguous,
      code: this.code,
      cluster: this.cluster,
    };
  }
}

/** A task ended with an error exit status. Carries the last lines of its log (PVE's reason is usually there). */
export class TaskFailedError extends Error {
  override readonly name: string = 'TaskFailedError';
  readonly upid: string;
  readonly node: string;
  readonly type: string;
  readonly exitstatus: string;
  readonly logTail: string[];
  constructor(init: { upid: string; node: string; type: string; exitstatus: string; logTail: string[] }) {
    const tail = init.logTail.length ? `\n${init.logTail.map((l) => `  ${l}`).join('\n')}` : '';
    super(`task ${init.type} on ${init.node} failed: ${init.exitstatus}${tail}`);
    this.upid = init.upid;
    this.node = init.node;
    this.type = init.type;
    this.exitstatus = init.exitstatus;
    this.logTail = init.logTail;
  }
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, upid: this.upid, exitstatus: this.exitstatus, logTail: this.logTail };
  }
}

/** A VM's config carries a lock that no running task holds (a crashed operation left it). */
export class VmLockedError extends Error {
  override readonly name = 'VmLockedError';
  constructor(
    message: string,
    readonly vmid: number,
    readonly lock: string,
  ) {
    super(message);
  }
}

/** waitTask / waitUnlocked ran past its deadline. The operation may still finish on the server. */
export class TaskTimeoutError extends Error {
  override readonly name: string = 'TaskTimeoutError';
  constructor(
    message: string,
    readonly upid: string | undefined,
  ) {
    super(message);
  }
}

/** The server's certificate is not the pinned one. */
export class TlsFingerprintMismatchError extends Error {
  override readonly name: string = 'TlsFingerprintMismatchError';
  readonly code = 'ERR_TLS_FINGERPRINT_MISMATCH';
  constructor(
    readonly seen: string,
    readonly expected: string,
    readonly host: string,
  ) {
    super(
      `TLS certificate fingerprint mismatch for ${host}: seen ${seen}, expected ${expected} ` +
        `(if the certificate was renewed on purpose, update tls.fingerprint in connections.yml)`,
    );
  }
}

const LOCK_PATTERNS = [
  /VM is locked \(/,
  /CT is locked \(/,
  /can't lock file '[^']*' - got timeout/,
  /cfs-lock '[^']*' error: got lock request timeout/,
  /got lock request timeout/,
];

/** PVE refused because a lock was busy: nothing was done, a later retry can succeed. */
export function isLockError(text: string): boolean {
  return LOCK_PATTERNS.some((re) => re.test(text));
}

/** pvedaemon could not fork a worker: the task never started, so repeating the request is safe. */
export function isNoWorker(text: string): boolean {
  return /got no worker upid - start worker failed/.test(text);
}

export function isAlreadyExists(text: string): boolean {
  return /already exists|already defined|already a pool member/.test(text);
}

export function isNotFound(text: string): boolean {
  return /does not exist|no such (user|pool|vm|task|interface)|not found/i.test(text);
}
