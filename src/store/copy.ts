/**
 * `stands state copy`: moves an installation's records from one state to another (a SQLite file to a
 * PostgreSQL or Redis server, or back), then reads every record back from the target and compares it.
 * Leases (locks, reservations, the leader lease) are not copied: they belong to running processes, so the copy
 * refuses while a job holds a group lock on the source. The target must be empty: two installations are never
 * merged by accident.
 */
import { isDeepStrictEqual } from 'node:util';
import { UserError } from '../errors.js';
import { openStore, type Store } from './store.js';

export interface CopyResult {
  from: string;
  to: string;
  records: number;
  /** Records per collection (`stand`, `journal`, `job`, …). */
  collections: Record<string, number>;
}

async function decode(store: Store, value: string): Promise<unknown> {
  const de = store.backend.keyv.deserialize ?? ((text: string) => JSON.parse(text) as unknown);
  return ((await de(value)) as { value?: unknown } | undefined)?.value;
}

export async function copyState(from: string, to: string): Promise<CopyResult> {
  if (from.trim() === to.trim()) throw new UserError('state copy: --from and --to name the same state');
  const src = await openStore(from);
  let dst: Store | undefined;
  try {
    const busy = await src.backend.list('group:');
    if (busy.length) {
      const b = busy[0]!;
      throw new UserError(
        `state copy: ${b.holder} is running on group ${b.name.slice('group:'.length)} in ${src.file}; ` +
          'let it finish (or stop the bot and CLI runs) and copy again',
      );
    }
    dst = await openStore(to);
    const already = await dst.backend.scan('', { limit: 1 });
    if (already.length) throw new UserError(`state copy: ${dst.file} already holds records; copy into an empty state only`);

    const entries = await src.backend.scan('');
    const collections: Record<string, number> = {};
    const values = new Map<string, unknown>();
    for (const e of entries) values.set(e.key, await decode(src, e.value));
    const keys = [...values.keys()];
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((k) => dst!.backend.keyv.set(k, values.get(k))));
    }
    // verify: the target holds exactly these records, each equal to its source
    const back = await dst.backend.scan('');
    if (back.length !== keys.length) {
      throw new Error(`state copy: wrote ${keys.length} records but ${dst.file} holds ${back.length}; the target is incomplete`);
    }
    for (const e of back) {
      if (!values.has(e.key) || !isDeepStrictEqual(await decode(dst, e.value), values.get(e.key))) {
        throw new Error(`state copy: record ${e.key} in ${dst.file} differs from the source; the target is not usable`);
      }
      const c = e.key.slice(0, e.key.indexOf(':'));
      collections[c] = (collections[c] ?? 0) + 1;
    }
    return { from: src.file, to: dst.file, records: keys.length, collections };
  } finally {
    await src.close();
    await dst?.close();
  }
}
