import { markUserPasswordShown, setPassword } from '../../core/credentials.js';
import { CredentialsFile } from '../credentials-file.js';
import { withContext } from '../engine.js';
import { EXIT_OK } from '../errors.js';
import { print, printJson } from '../output.js';
import type { CommandEnv } from '../program.js';
import { say } from '../../i18n/index.js';
import { langOf } from '../lang.js';

export interface PasswordOptions {
  user: string;
  cluster?: string;
  out?: string;
  force?: boolean;
  json?: boolean;
}

/**
 * `stands password --user U`: a new generated password for a user pve-stands created, printed once — or, with
 * `--out FILE`, written to a CSV created 0600 (checked before the password is changed).
 */
export async function passwordCommand(opts: PasswordOptions, env: CommandEnv): Promise<number> {
  const { io } = env;
  const lang = langOf(env);
  const file = opts.out !== undefined ? await CredentialsFile.reserve(opts.out, { force: opts.force, cwd: io.cwd, option: '--out' }) : undefined;
  let written = false;
  try {
    return await withContext(env, { cluster: opts.cluster }, async (ctx) => {
      const r = await setPassword(ctx, opts.user, opts.cluster ? { cluster: opts.cluster } : {});
      const shown = (how: string) => markUserPasswordShown(ctx, opts.cluster ?? ctx.defaultCluster, r.userid, how);
      if (file) {
        try {
          await file.write([{ userid: r.userid, password: r.password }]);
          written = true;
        } catch (err) {
          // the new password exists only here now: show it rather than lose it
          print(io, say(lang, 'out.newPassword', { user: r.userid, password: r.password }));
          await shown('stands password (printed)');
          throw err;
        }
        await shown(`stands password (written to ${file.file})`);
        if (opts.json) printJson(io, { userid: r.userid, file: file.file });
        else print(io, say(lang, 'out.newPasswordFile', { user: r.userid, file: file.file }));
        return EXIT_OK;
      }
      if (opts.json) printJson(io, r);
      else print(io, say(lang, 'out.newPassword', { user: r.userid, password: r.password }));
      await shown('stands password (printed)');
      return EXIT_OK;
    });
  } finally {
    if (file && !written) await file.discard().catch(() => undefined);
  }
}
