/**
 * The console's HTML: a tagged template whose every interpolated value is escaped (core/text.ts `forHtml.text`: text
 * from a push never becomes markup, whoever wrote it), but for fragments the template itself made. Pages are whole
 * documents around one layout; their scripts are files (`/console/static/…`), so the Content-Security-Policy admits
 * no inline script or style at all.
 */
import { forHtml } from '../../core/text';

/** Markup the console wrote: passed through an `html` template unescaped. */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

type Value = Html | string | number | boolean | undefined | null | readonly Value[];

/** `html\`<p>${text}</p>\``: each value escaped as text, an Html or an array of them kept as markup. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  return new Html(strings.reduce((out, part, i) => out + part + (i < values.length ? rendered(values[i]) : ''), ''));
}

function rendered(value: Value): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return (value as readonly Value[]).map(rendered).join('');
  return forHtml.text(String(value as string | number | boolean));
}

/**
 * The console's Content-Security-Policy: scripts, styles and connections from the console itself only, no inline
 * script or style, no plugin, no framing, forms posting nowhere else
 * (https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Content-Security-Policy).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_PATH = '/console/';

const NAV = [
  ['pipelines', CONSOLE_PATH],
  ['runs', `${CONSOLE_PATH}runs`],
  ['approvals', `${CONSOLE_PATH}approvals`],
  ['metrics', `${CONSOLE_PATH}metrics`],
] as const;

/**
 * A whole page: its title, which navigation entry it is, its body; `live` names what its live updates follow;
 * `scripts`, the console's other script files it loads (static/), in order.
 */
export function page(
  title: string,
  current: string,
  body: Html,
  live?: { runId?: string },
  scripts: readonly string[] = [],
): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · stepline</title>
        <link rel="stylesheet" href="${CONSOLE_PATH}static/console.css" />
        <script src="${CONSOLE_PATH}static/console.js" defer></script>
        ${scripts.map((file) => html`<script src="${CONSOLE_PATH}static/${file}" defer></script>`)}
      </head>
      <body data-live="${live ? 'on' : 'off'}" data-run="${live?.runId ?? ''}">
        <header>
          <a class="brand" href="${CONSOLE_PATH}">stepline</a>
          <nav>
            ${NAV.map(([name, href]) => html`<a href="${href}" ${new Html(name === current ? ' aria-current="page"' : '')}>${name}</a>`)}
          </nav>
          <span class="live-status" id="live-status"></span>
        </header>
        <main>${body}</main>
      </body>
    </html> `.markup;
}

/** A status as a badge: its class is the status in lower case (colours in console.css). */
export function badge(status: string): Html {
  return html`<span class="badge status-${status.toLowerCase()}">${status}</span>`;
}

/** A duration in words: 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A time as the console shows it: UTC, to the second. */
export function time(iso: string | undefined): Html {
  if (!iso) return html``;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}</time>`;
}
