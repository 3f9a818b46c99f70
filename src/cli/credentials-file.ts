import { constants } from 'node:fs';
import { chmod, open, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { credentialsCsv } from '../core/credentials-csv.js';
import type { StandCredential } from '../core/credentials.js';
import { UserError } from '../errors.js';
import { describeFsError } from '../config/text-input.js';
import { msg } from '../i18n/index.js';

/**
 * `--credentials-out FILE` / `password --out FILE`: a CSV for the teacher, created mode 0600 before the run starts
 * (a bad path or an existing file stops us before anything is created), filled when the passwords are known.
 * An existing file is kept unless `--force`; then it is removed and created anew (never written through a
 * symlink: O_EXCL).
 */
export class CredentialsFile {
  private constructor(
    readonly file: string,
    private handle: FileHandle | undefined,
  ) {}

  static async reserve(file: string, o: { force?: boolean; cwd: string; option: string }): Promise<CredentialsFile> {
    const abs = path.resolve(o.cwd, file);
    const exists = await stat(abs).then(
      (s) => s,
      () => undefined,
    );
    if (exists?.isDirectory()) throw new UserError(msg('opt.fileIsDir', { option: o.option, file }));
    if (exists && !o.force) {
      throw new UserError(msg('opt.fileExists', { option: o.option, file }));
    }
    try {
      if (exists) await rm(abs, { force: true });
      const handle = await open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      // the umask can only take bits away; say 0600 exactly
      await chmod(abs, 0o600);
      return new CredentialsFile(abs, handle);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? msg('opt.noDir', { dir: path.dirname(abs) }) : msg('txt.quoted', { text: describeFsError(err) });
      throw new UserError(msg('opt.fileFailed', { option: o.option, file, why }));
    }
  }

  /** Writes the CSV and closes the file. */
  async write(creds: readonly Partial<StandCredential>[]): Promise<void> {
    const h = this.handle;
    if (!h) throw new Error('credentials file already closed');
    this.handle = undefined;
    try {
      await h.writeFile(credentialsCsv(creds), 'utf8');
      await h.sync();
    } finally {
      await h.close();
    }
  }

  /** Nothing to write (the run stopped before it started): remove the empty file again. */
  async discard(): Promise<void> {
    const h = this.handle;
    if (!h) return;
    this.handle = undefined;
    await h.close();
    await rm(this.file, { force: true });
  }
}
