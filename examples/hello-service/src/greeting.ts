/**
 * Pure logic of hello-service: routing, name validation and the greeting itself.
 * No AWS types and no I/O here, so it is trivially unit-testable; src/handler.ts adapts it to API Gateway.
 */

export const NAME_MIN_LENGTH = 1;
export const NAME_MAX_LENGTH = 64;
export const DEFAULT_VERSION = 'dev';

/** Letters (any script), ASCII digits, space and '-'. Lengths are counted in Unicode code points. */
const NAME_CHAR = /^[\p{L}0-9 -]$/u;

export type NameCheck = { ok: true; name: string } | { ok: false; error: string };

/** Checks a `name` query parameter; on failure the error says exactly what is wrong. */
export function checkName(name: string | undefined): NameCheck {
  if (name === undefined) {
    return { ok: false, error: "query parameter 'name' is required" };
  }
  const chars = [...name];
  if (chars.length < NAME_MIN_LENGTH || chars.length > NAME_MAX_LENGTH) {
    return {
      ok: false,
      error: `query parameter 'name' must be ${NAME_MIN_LENGTH}-${NAME_MAX_LENGTH} characters long, got ${chars.length}`,
    };
  }
  const bad = chars.findIndex((c) => !NAME_CHAR.test(c));
  if (bad !== -1) {
    return {
      ok: false,
      error:
        `query parameter 'name' may contain only letters, digits, spaces and '-': ` +
        `found ${JSON.stringify(chars[bad])} at position ${bad + 1}`,
    };
  }
  return { ok: true, name };
}

export function greeting(name: string): string {
  return `Hello, ${name}!`;
}

/** The version reported to callers: `APP_VERSION` when set and not empty, else "dev". */
export function resolveVersion(appVersion: string | undefined): string {
  return appVersion ? appVersion : DEFAULT_VERSION;
}

export interface HelloRequest {
  method: string;
  path: string;
  name: string | undefined;
  version: string;
}

export type HelloBody = { message: string; version: string } | { error: string };

export interface HelloResponse {
  statusCode: 200 | 400 | 404;
  body: HelloBody;
}

/** Routes a request: `GET /hello?name=X` greets, a bad name is a 400, anything else a 404. */
export function respond(req: HelloRequest): HelloResponse {
  if (req.method !== 'GET' || req.path !== '/hello') {
    return { statusCode: 404, body: { error: `no route for ${req.method} ${req.path}` } };
  }
  const check = checkName(req.name);
  if (!check.ok) {
    return { statusCode: 400, body: { error: check.error } };
  }
  return { statusCode: 200, body: { message: greeting(check.name), version: req.version } };
}
