/**
 * A parameter that is itself a message (`{code, params}`): `render` renders it in the same language before the
 * catalogue sees it, so inside a catalogue it is always a string; `t` says so to the compiler.
 */
export type Nested = string | { code: string; params?: unknown };

export function t(x: Nested): string {
  return typeof x === 'string' ? x : x.code;
}
