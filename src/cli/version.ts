import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The version in the project's package.json, found from this file upwards (src/cli via tsx, dist/src/cli compiled). */
export function packageVersion(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'pve-stands' && pkg.version) return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}
