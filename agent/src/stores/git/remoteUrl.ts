/**
 * Remote URLs of the Git state store: credentials embedded in an http(s) URL are taken out
 * (they are passed to git through the askpass helper instead of argv), and what is shown in
 * logs and errors never contains them.
 */

export interface SplitUrl {
  /** The URL git is given: no password in it. */
  url: string;
  /** Credentials found in the URL's user-info part, if any. */
  credentials?: { username: string; password: string };
}

/** Validates `raw` (the `store.url` setting) and separates embedded credentials. */
export function splitRemoteUrl(raw: string): SplitUrl {
  if (raw.length === 0) throw new Error('store.url: must not be empty');
  if (raw.startsWith('-')) throw new Error(`store.url: "${redactUrl(raw)}" must not start with '-'`);
  if (/[\s\0]/.test(raw)) throw new Error(`store.url: "${redactUrl(raw)}" must not contain white space or NUL`);
  if (!/^https?:\/\//i.test(raw)) return { url: raw };
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error(`store.url: "${redactUrl(raw)}" is not a valid URL`);
  }
  if (parsed.username === '' && parsed.password === '') return { url: raw };
  const credentials = { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), credentials };
}

/** `raw` with any user-info (`user:password@`) of a URL replaced by `***@`. */
export function redactUrl(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}
