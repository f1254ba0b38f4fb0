/** Text from build logs and test reports, made fit to store and show: no terminal control codes. */

// CSI sequences (colours, cursor moves), OSC sequences (titles, links) and other two-byte escapes.
// eslint-disable-next-line no-control-regex
const TERMINAL_CODES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

/** The text without ANSI escape sequences (what a terminal would not print as characters). */
export function plainText(text: string): string {
  return text.replace(TERMINAL_CODES, '');
}

/** The first `lines` lines of a text, at most `characters` long, marked `…` where it was cut. */
export function excerpt(text: string, lines: number, characters: number): string {
  const kept = text.split('\n').slice(0, lines).join('\n');
  const cut = kept.length > characters ? `${kept.slice(0, characters)}…` : kept;
  return cut.length < text.length && !cut.endsWith('…') ? `${cut}…` : cut;
}
