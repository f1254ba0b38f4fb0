/**
 * Who may use the console: whoever holds the address `--serve` printed. Local mode makes a random token at each
 * start; the first request carrying it (`?token=`) gets a cookie holding it (HttpOnly: no script reads it;
 * SameSite=Strict: no other site's page sends it) and is redirected to the same address without it, so it leaves
 * the address bar and the history, as notebook servers do. Every other request needs the cookie. A state-changing
 * request is a POST whose Origin is the console's own (a cross-site form or fetch names its own origin).
 *
 * The endpoint in front of it refuses a request addressed to any name but a loopback one (local/local-address.ts:
 * DNS rebinding), and local mode listens on the loopback interface only.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A token of 32 random bytes, URL-safe. */
export function newConsoleToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The cookie's name carries the port: browsers send a host's cookies to every port of it, and two local modes on one
 * machine (two state directories) each have their own.
 */
export function cookieName(port: number): string {
  return `stepline-console-${port}`;
}

export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of one cookie of the request. */
export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** The Set-Cookie header giving the token: for the console's paths, this session only. */
export function tokenCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; Path=/console/; HttpOnly; SameSite=Strict`;
}

/**
 * Whether a state-changing request comes from a console page: its Origin is the address it was sent to
 * (`http://<Host>`; the endpoint admits only loopback Hosts with its port). A browser sends Origin with every POST
 * (https://fetch.spec.whatwg.org/#origin-header); a request without one is refused.
 */
export function fromConsoleOrigin(req: IncomingMessage): boolean {
  const { origin, host } = req.headers;
  return origin !== undefined && host !== undefined && origin === `http://${host}`;
}
