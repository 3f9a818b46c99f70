import { readFile, stat } from 'node:fs/promises';
import { ConfigError, type InputIssue } from '../errors.js';

/** Configuration files are small; anything bigger is a mistake (or an attack) and is refused before parsing. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface DecodeOptions {
  /** Refuse inputs larger than this many bytes (default 1 MiB). */
  maxBytes?: number;
  /** What to call the input in the size error ("file", "user list"). */
  what?: string;
  /**
   * Accept Windows-1251 text that is not UTF-8 (Excel in a Russian locale saves "CSV" that way). Only text
   * whose non-ASCII bytes are all Cyrillic letters (or №) qualifies, so binary data is still refused.
   */
  allowCp1251?: boolean;
}

function looksLikeCp1251(bytes: Buffer): boolean {
  let nonAscii = 0;
  for (const b of bytes) {
    if (b < 0x80) continue;
    nonAscii++;
    // А–я, Ё, ё, №
    if (!(b >= 0xc0 || b === 0xa8 || b === 0xb8 || b === 0xb9)) return false;
  }
  return nonAscii > 0;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${n} bytes`;
}

/**
 * Turn uploaded or read bytes into text, or one clear issue. Binary garbage (NUL bytes, invalid UTF-8) gets one
 * error instead of hundreds of line errors; a UTF-8 BOM (Windows Notepad, Excel) is dropped; CRLF is left to the
 * parsers, which all accept it.
 */
export function decodeText(
  input: Buffer | Uint8Array | string,
  file: string,
  options: DecodeOptions = {},
): { text: string; warning?: InputIssue } | { issue: InputIssue } {
  const maxBytes = options.maxBytes ?? MAX_CONFIG_BYTES;
  const what = options.what ?? 'file';
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  if (bytes.length > maxBytes) {
    return {
      issue: { file, message: `${what} is too large (${formatBytes(bytes.length)}; the limit is ${formatBytes(maxBytes)})` },
    };
  }
  // Notepad's "Unicode" is UTF-16: say so instead of "binary".
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    return { issue: { file, message: 'the file is UTF-16 text; save it as UTF-8' } };
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    return { issue: { file, message: `not a text file (a NUL byte at offset ${nul}); expected UTF-8 text` } };
  }
  let text: string;
  let warning: InputIssue | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    if (!options.allowCp1251 || !looksLikeCp1251(bytes)) {
      return { issue: { file, message: 'not valid UTF-8 text (save the file as UTF-8)' } };
    }
    text = new TextDecoder('windows-1251').decode(bytes);
    warning = { file, message: 'read as Windows-1251 (not UTF-8); in Excel choose "CSV UTF-8" to avoid this warning' };
  }
  // eslint-disable-next-line no-control-regex
  const control = /[\u0001-\u0008\u000e-\u001f\u007f]/.exec(text);
  if (control) {
    const line = text.slice(0, control.index).split('\n').length;
    return {
      issue: {
        file,
        line,
        message: `not a text file (control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`,
      },
    };
  }
  return warning ? { text, warning } : { text };
}

/** Read a file's bytes, refusing files over `maxBytes` before reading them (a huge file never enters memory). */
export async function readBytes(path: string, maxBytes: number = MAX_CONFIG_BYTES, what = 'file', displayName: string = path): Promise<Buffer> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new ConfigError({ file: displayName, message: describeFsError(err) }, { cause: err });
  }
  if (size > maxBytes) {
    throw new ConfigError({
      file: displayName,
      message: `${what} is too large (${formatBytes(size)}; the limit is ${formatBytes(maxBytes)})`,
    });
  }
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError({ file: displayName, message: describeFsError(err) }, { cause: err });
  }
}

/** Read a configuration file as text, with the size and binary checks of `decodeText`. */
export async function readTextFile(path: string, displayName: string = path, options: DecodeOptions = {}): Promise<string> {
  const bytes = await readBytes(path, options.maxBytes ?? MAX_CONFIG_BYTES, options.what ?? 'file', displayName);
  const decoded = decodeText(bytes, displayName, options);
  if ('issue' in decoded) throw new ConfigError(decoded.issue);
  return decoded.text;
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, expected a file';
  return `cannot read: ${(err as Error | undefined)?.message ?? String(err)}`;
}
