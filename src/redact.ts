/**
 * Connection strings and URLs as they may be shown: scheme, hosts and path, never the user info
 * (where passwords live) nor the query (where `tlsCertificateKeyFilePassword`, `proxyPassword`,
 * `authMechanismProperties`, `access_token` and signed-URL signatures live) nor the fragment.
 */

/** What stands for a part that was removed, or for a whole value that could not be read safely. */
export const REDACTED = '***';

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * One host as connection strings write it: a name or IPv4 address, or a bracketed IPv6 address,
 * with an optional numeric port. A digit-only port is what keeps `user:secret` from passing as one.
 */
const HOST = /^(?:[a-z0-9_~%-]+(?:\.[a-z0-9_~%-]+)*\.?|\[[0-9a-f:.%a-z]+\])(?::\d{1,5})?$/i;

interface Parts {
  scheme: string;
  hosts: string;
  /** The path up to the query or fragment, `''` when there is none. */
  path: string;
}

/**
 * Splits `scheme://[userinfo@]host[,host...][/path][?query][#fragment]`, or says it cannot.
 * A password may hold `@`, `/`, `?` or `#` unescaped, so the user info ends at the LAST `@`; if the
 * text before that `@` also holds `?` or `#`, that `@` may be the query's, and the reading is given up.
 */
function parts(value: string): Parts | undefined {
  const scheme = SCHEME.exec(value);
  if (!scheme) return undefined;
  const rest = value.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  if (at >= 0 && /[?#]/.test(rest.slice(0, at))) return undefined;
  const afterUser = rest.slice(at + 1);
  const end = afterUser.search(/[/?#]/);
  const hosts = end < 0 ? afterUser : afterUser.slice(0, end);
  const tail = end < 0 ? '' : afterUser.slice(end);
  const path = tail.startsWith('/') ? tail.replace(/[?#].*$/s, '') : '';
  const hostList = hosts.split(',');
  // `file:///path` has no host; any other scheme names at least one.
  const noHost = hosts === '' && scheme[1]!.toLowerCase() === 'file' && at < 0;
  if (!noHost && !hostList.every((host) => HOST.test(host))) return undefined;
  return { scheme: scheme[1]!, hosts, path };
}

/**
 * A connection string or URL as hosts only: `mongodb://user:p@ss@db1,db2/admin?proxyPassword=x`
 * is `mongodb://db1,db2/admin`. Input that cannot be read with certainty shows only its scheme
 * (`mongodb://***`), and input without one shows nothing of itself.
 */
export function redactUri(uri: string): string {
  const value = uri.trim();
  const read = parts(value);
  if (read) return `${read.scheme}://${read.hosts}${read.path}`;
  const scheme = SCHEME.exec(value);
  return scheme ? `${scheme[1]}://${REDACTED}` : REDACTED;
}

/**
 * A repository's remote as a record may keep it: URLs through {@link redactUri}; a local path and
 * git's `user@host:path` form (which has no place for a password) as they are.
 */
export function redactRepositoryUrl(remote: string): string {
  const value = remote.trim();
  if (SCHEME.test(value)) return redactUri(value);
  // `user:password@host:path` is no form git knows, but a password written there is still dropped.
  const scpLike = /^([^@/]*)@([^/:]+:.*)$/s.exec(value);
  if (scpLike?.[1]?.includes(':')) return scpLike[2]!;
  return value;
}

/** Where a URL starts inside free text; it runs to the next blank, quote or angle bracket. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>]+/gi;
/** Punctuation that ends a sentence around a URL rather than belonging to it. */
const TRAILING = /[.,;:!)\]}]+$/;

/** Values shorter than this are not searched for verbatim: they would match ordinary words. */
const MIN_SECRET_LENGTH = 6;

/**
 * A free-form message (a driver's error, a log line) with every URL in it reduced to its hosts,
 * and every known secret value (the whole connection string, its password and options, API keys)
 * replaced wherever it appears, even outside a URL.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let result = text;
  for (const [secret, shown] of secretPieces(secrets)) result = result.split(secret).join(shown);
  return result.replace(URL_IN_TEXT, (found) => {
    const trailing = TRAILING.exec(found)?.[0] ?? '';
    const url = trailing ? found.slice(0, -trailing.length) : found;
    // Only URLs that carry user info, a query or a fragment have anything to hide.
    if (!/[@?#]/.test(url.replace(SCHEME, ''))) return found;
    return redactUri(url) + trailing;
  });
}

/** Query options whose values are credentials (`proxyPassword`, `access_token`, `X-Amz-Signature`...). */
const SECRET_OPTION = /pass|secret|token|key|sig|credential|auth/i;

/**
 * The values to search for, each with what is shown instead: a whole URL as its hosts; its user
 * info, password and credential options, written and decoded, as {@link REDACTED}. Longest first,
 * so a part never leaves the rest of a whole behind.
 */
function secretPieces(secrets: readonly string[]): Array<[string, string]> {
  const pieces = new Map<string, string>();
  const add = (piece: string | undefined, shown = REDACTED) => {
    if (!piece || piece.length < MIN_SECRET_LENGTH) return;
    pieces.set(piece, shown);
    try {
      const decoded = decodeURIComponent(piece);
      if (decoded.length >= MIN_SECRET_LENGTH) pieces.set(decoded, shown);
    } catch {
      // Not percent-encoded text: searched for as written only.
    }
  };
  for (const secret of secrets) {
    const scheme = SCHEME.exec(secret);
    add(secret, scheme ? redactUri(secret) : REDACTED);
    if (!scheme) continue;
    const rest = secret.slice(scheme[0].length);
    const at = rest.lastIndexOf('@');
    if (at >= 0) {
      const userinfo = rest.slice(0, at);
      add(userinfo);
      add(userinfo.slice(userinfo.indexOf(':') + 1));
    }
    const query = rest
      .slice(at + 1)
      .split(/[?#]/)
      .slice(1)
      .join('&');
    for (const pair of query.split('&')) {
      const equals = pair.indexOf('=');
      if (equals < 0 || !SECRET_OPTION.test(pair.slice(0, equals))) continue;
      const value = pair.slice(equals + 1);
      add(value);
      // `authMechanismProperties=AWS_SESSION_TOKEN:token,SERVICE_NAME:name`
      for (const item of value.split(',')) add(item.slice(item.indexOf(':') + 1));
    }
  }
  return [...pieces].sort(([a], [b]) => b.length - a.length);
}

/** Environment variables whose values are secrets wherever they appear. */
export const SECRET_VARIABLES = [
  'MONGODB_URI',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

/** The secret values of an environment, for {@link redactText}. */
export function secretsOf(env: NodeJS.ProcessEnv = process.env): string[] {
  return SECRET_VARIABLES.map((name) => env[name]).filter((value): value is string => !!value);
}
