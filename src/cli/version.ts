/** The package's version, read from its package.json (found upwards: src/cli/ from a checkout, dist/src/cli/ built). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function packageVersion(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'pve-stands' && typeof pkg.version === 'string') return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}
