// Cross-origin access for browser clients of the HTTP door: off unless allowed origins are configured
// (FSLM_ROUTER_CORS_ORIGINS: a comma-separated list of exact origins, or * for any).

export const CORS_METHODS = 'GET, HEAD, POST, OPTIONS';
/** Headers a preflight allows when the browser names none. */
const DEFAULT_ALLOWED_HEADERS = 'authorization, content-type, traceparent, tracestate, x-fslm-timeout-ms';
/** How long a browser may cache a preflight answer (seconds). */
const PREFLIGHT_MAX_AGE_S = '600';
/** A header list as browsers send it in Access-Control-Request-Headers. */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;

export class CorsPolicy {
  private readonly any: boolean;
  private readonly origins: ReadonlySet<string>;

  /** `origins`: exact origins (scheme://host[:port]) allowed, or ['*'] for any; [] turns CORS off. */
  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    this.origins = new Set(origins);
  }

  get enabled(): boolean {
    return this.any || this.origins.size > 0;
  }

  private allowed(origin: string | undefined): origin is string {
    return origin !== undefined && (this.any || this.origins.has(origin));
  }

  /** Headers for a response to a request from `origin`: none unless the origin is allowed. */
  headers(origin: string | undefined): Record<string, string> {
    if (!this.allowed(origin)) return this.enabled ? { vary: 'Origin' } : {};
    return this.any ? { 'access-control-allow-origin': '*' } : { 'access-control-allow-origin': origin, vary: 'Origin' };
  }

  /** Headers for a preflight (OPTIONS) answer; without the access-control ones the browser refuses the request. */
  preflight(origin: string | undefined, requestHeaders: string | undefined): Record<string, string> {
    const base = { allow: CORS_METHODS, ...this.headers(origin) };
    if (!this.allowed(origin)) return base;
    const asked = requestHeaders?.trim();
    return {
      ...base,
      'access-control-allow-methods': CORS_METHODS,
      'access-control-allow-headers': asked && HEADER_LIST.test(asked) ? asked : DEFAULT_ALLOWED_HEADERS,
      'access-control-max-age': PREFLIGHT_MAX_AGE_S,
    };
  }
}

/** Parses FSLM_ROUTER_CORS_ORIGINS: a comma-separated list of origins or `*`; throws on anything else. */
export function parseCorsOrigins(raw: string | undefined, name = 'FSLM_ROUTER_CORS_ORIGINS'): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const origin of list) {
    if (origin === '*') continue;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new Error(`${name}: ${JSON.stringify(origin)} is not an origin (scheme://host[:port]) or *`);
    }
    if (url.origin !== origin) throw new Error(`${name}: ${JSON.stringify(origin)} is not an origin; did you mean ${JSON.stringify(url.origin)}?`);
  }
  return list;
}
