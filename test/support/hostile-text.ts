/**
 * Text a pusher controls, written as an attacker would, and what "inert" means for each place
 * stepline shows it. The checks here say what must not survive — independently of how core/text.ts
 * renders — so a renderer that lets something through fails them.
 */

/** One hostile string per kind of attack; each keeps a few words that must still read once rendered. */
export const HOSTILE = {
  mentions: 'ping <!channel> <!here> <!everyone> <!subteam^S0123|@cab> <@U123> <#C123|general> @here @channel',
  links: 'see <https://evil.example/approve|Approve here> or https://evil.example/bare or www.evil.example',
  markup: '<script>alert(1)</script> <img src=x onerror=alert(2)> "><svg onload=alert(3)>',
  attribute: `" onmouseover="alert(4)" data-x='`,
  fences: '``` fence ``` `tick` *bold* _italic_ ~strike~',
  quote: '> quoted',
  breaks: 'first\r\nApproved by alice via slack\rthird\u2028fourth\u0085fifth\nBcc: eve@evil.example',
  controls: 'nul\u0000 bell\u0007 backspace\b del\u007f csi\u009b31m',
  terminal:
    '\u001b[2J\u001b[H\u001b[31mred\u001b[0m \u001b]8;;https://evil.example/osc\u0007click\u001b]8;;\u0007 \u001b]0;title\u001b\\ \u001bc',
  bidi: 'invoice\u202egpj.exe\u202c \u2067isolated\u2069',
  invalid: 'lone \ud800 high \udc00 low \ud83d\ude00 kept',
  long: 'y'.repeat(5000),
};

/** Every kind on one line (a commit message's subject, a name): no line break of its own. */
export const HOSTILE_LINE = [
  HOSTILE.mentions,
  HOSTILE.links,
  HOSTILE.markup,
  HOSTILE.attribute,
  HOSTILE.fences,
  HOSTILE.controls,
  HOSTILE.terminal,
  HOSTILE.bidi,
  HOSTILE.invalid,
].join(' ');

/** Every kind, one per line (a reason, a log, a test's message). */
export const HOSTILE_TEXT = Object.values(HOSTILE).join('\n');

/** Words of the corpus that a reader must still find, whatever the destination did to the rest. */
export const STILL_READS = ['alert(1)', 'Approve here', 'click', 'red', 'gpj.exe', 'isolated', '\ud83d\ude00', 'bold'];

/**
 * The characters that act instead of show: C0 but tab and newline, DEL, C1, the bidi embeddings,
 * overrides and isolates, and halves of surrogate pairs standing alone.
 */
export function actingCharacters(text: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const isHigh = code >= 0xd800 && code <= 0xdbff;
    const isLow = code >= 0xdc00 && code <= 0xdfff;
    if (isHigh && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      i++;
      continue;
    }
    const acts =
      (code < 0x20 && code !== 0x09 && code !== 0x0a) ||
      (code >= 0x7f && code <= 0x9f) ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069) ||
      isHigh ||
      isLow;
    if (acts) found.push(`U+${code.toString(16).padStart(4, '0')} at ${i}`);
  }
  return found;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Text shown as is (plain_text, an email's text, a status, a printed line): nothing acts, no link of the change's. */
export function expectPlainInert(text: string): void {
  expect(actingCharacters(text)).toEqual([]);
  expect(text).not.toMatch(/https?:\/\/evil|www\.evil/);
}

/** One printed line of a terminal, or a header field: the above, and no line break either. */
export function expectOneInertLine(text: string): void {
  expectPlainInert(text);
  expect(text).not.toMatch(/[\n\t]/);
}

/**
 * Slack mrkdwn (a text object or a message's top-level `text`): no `<…>` at all (stepline writes its
 * links as buttons, so any angle bracket would be the change's mention, channel, date or link), `&`
 * only in the three escapes, no bare special mention, none of the corpus's formatting pairs, and a
 * code fence only where stepline opened and closed one.
 */
export function expectSlackMrkdwnInert(text: string): void {
  expectPlainInert(text);
  expect(text).not.toMatch(/[<>]/);
  expect(text.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
  expect(text).not.toMatch(/@(here|channel|everyone)\b/);
  const fences = text.split('```').length - 1;
  expect([0, 2]).toContain(fences);
  if (fences === 2) expect(text).toMatch(/^[^`]*```[^`]*```$/);
  // Outside stepline's code block (where formatting shows as typed), no formatting pair survives.
  const outside = text.replace(/```[^`]*```/, '');
  for (const pair of ['*bold*', '_italic_', '~strike~', '`tick`']) expect(outside).not.toContain(pair);
  // A line that starts with a quote marker is quoted by Slack, escaped or not.
  expect(text).not.toMatch(/^(&gt;|>)/m);
}

interface SlackTexts {
  readonly mrkdwn: string[];
  readonly plain: string[];
  readonly urls: string[];
}

/** Every text of a Slack payload by kind, its top-level `text` as mrkdwn; each mrkdwn object must be verbatim. */
export function slackTexts(payload: Record<string, unknown>): SlackTexts {
  const found: SlackTexts = { mrkdwn: [], plain: [], urls: [] };
  if (typeof payload.text === 'string') found.mrkdwn.push(payload.text);
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== 'object') return;
    const node = value as Record<string, unknown>;
    if (node.type === 'mrkdwn') {
      // Without verbatim, Slack makes links of bare URLs and parses mentions on its own.
      expect(node).toMatchObject({ verbatim: true });
      found.mrkdwn.push(String(node.text));
    } else if (node.type === 'plain_text') found.plain.push(String(node.text));
    if (typeof node.url === 'string') found.urls.push(node.url);
    Object.entries(node)
      .filter(([key]) => key !== 'text' || typeof node.text !== 'string')
      .forEach(([, child]) => walk(child));
  };
  walk(payload.blocks);
  return found;
}

/** A whole Slack payload: every mrkdwn text inert, every plain text inert, buttons only to stepline's links. */
export function expectSlackInert(payload: Record<string, unknown>, ownLinks: readonly string[]): SlackTexts {
  const texts = slackTexts(payload);
  texts.mrkdwn.forEach(expectSlackMrkdwnInert);
  texts.plain.forEach(expectPlainInert);
  texts.urls.forEach((url) => expect(ownLinks).toContain(url));
  // Slack refuses a text object over 3,000 characters.
  [...texts.mrkdwn, ...texts.plain].forEach((text) => expect(text.length).toBeLessThanOrEqual(3000));
  return texts;
}

const HTML_TAGS = new Set([
  'html',
  'head',
  'meta',
  'title',
  'style',
  'body',
  'h1',
  'h2',
  'h3',
  'p',
  'b',
  'br',
  'pre',
  'a',
  'table',
  'tr',
  'th',
  'td',
  'ul',
  'li',
  'form',
  'input',
  'label',
  'textarea',
  'button',
]);
const HTML_ATTRIBUTES = new Set([
  'lang',
  'charset',
  'name',
  'content',
  'href',
  'align',
  'id',
  'method',
  'action',
  'type',
  'value',
  'for',
  'required',
  'minlength',
  'maxlength',
  'rows',
  'cols',
]);

/**
 * HTML (an email's HTML part, an approval page): only the elements and attributes stepline writes,
 * each link one of stepline's own, no text of the change's acting or offered as a link.
 */
export function expectHtmlInert(html: string, ownLinks: readonly string[]): void {
  expectPlainInert(html.replace(/<!doctype html>/i, ''));
  const body = html.replace(/<!doctype html>/i, '').replace(/<style>[^<]*<\/style>/, '');
  for (const [, name, attributes] of body.matchAll(/<\/?([A-Za-z][\w-]*)([^>]*)>/g)) {
    expect(HTML_TAGS).toContain(name!.toLowerCase());
    for (const [, attribute, value] of attributes!.matchAll(/([^\s=/]+)(?:="([^"]*)")?/g)) {
      expect(HTML_ATTRIBUTES).toContain(attribute!.toLowerCase());
      if (attribute === 'href') expect(ownLinks).toContain(value!.replace(/&#38;/g, '&'));
    }
  }
  // Whatever is left outside tags holds no angle bracket: the change's markup shows as text.
  expect(body.replace(/<\/?[A-Za-z][\w-]*[^>]*>/g, '')).not.toMatch(/[<>]/);
}

/** The corpus's words are still there once rendered (`render` undoes what a reader's client undoes). */
export function expectStillReads(rendered: string, words: readonly string[] = STILL_READS): void {
  for (const word of words) expect(rendered).toContain(word);
}

/** What Slack shows of its escapes: `&amp;` as `&`, `&lt;` as `<`, `&gt;` as `>`. */
export function slackShown(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** What a browser shows of HTML escapes. */
export function htmlShown(html: string): string {
  return html.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}
