/**
 * Text that came from a change — commit messages, author names, branches, file paths, test names,
 * build output, reasons people type — made inert wherever stepline shows it. Whoever can push writes
 * this text, and stepline puts it in front of the people who approve releases: it must never act.
 * No mention, link or formatting in Slack, no markup in HTML or email, no header line of its own, no
 * control sequence in a terminal.
 *
 * Two steps, in this order:
 * 1. `plainText` / `oneLine` make any string plain, the same for every destination: well-formed
 *    UTF-16 (a lone surrogate becomes U+FFFD), terminal escape sequences removed whole (colours,
 *    cursor moves, OSC 8 hyperlinks, titles), every other control character shown as U+FFFD (C0 but
 *    tab and newline, DEL, C1, and the bidirectional embeddings, overrides and isolates U+202A–U+202E,
 *    U+2066–U+2069 that make text display in an order other than the one it is read in), and every
 *    line break (CR LF, CR, VT, FF, NEL, U+2028, U+2029) a plain `\n`. Message builders make each value
 *    from a change `oneLine` before they compose it, so that no value can start a line of its own.
 * 2. One renderer per destination (`forSlack`, `forHtml`, `forEmail`, `forTerminal`, `forGitHub`)
 *    escapes what that destination would parse. Each renderer applies step 1 itself, so it is safe
 *    whatever it is given. A URL in text from a change is shown defanged (`https[:]//…`) everywhere:
 *    mail clients and terminals make links of bare URLs on their own, and the only links in
 *    stepline's messages are the ones stepline writes (approve, reject, the run, its log).
 */

// Escape sequences, removed whole so that coloured build output reads as its text:
// CSI (ESC [ … final byte: colours, cursor moves, screen clears); the string sequences OSC, DCS, SOS,
// PM, APC (ESC ] P X ^ _ … ended by BEL or ST: titles, OSC 8 hyperlinks); and the other escapes
// (ESC, intermediate bytes, a final byte: charset switches, resets).
const ESCAPE_SEQUENCES =
  // eslint-disable-next-line no-control-regex
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b[\]PX^_][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[ -/]*[0-~]/g;
const LINE_BREAKS = /\r\n|[\r\v\f\u0085\u2028\u2029]/g;
/** C0 but tab and newline, DEL, C1, and the bidi embeddings, overrides and isolates. */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** What stands for a character that would act instead of show, as for a character that is not one. */
export const REPLACEMENT = '\ufffd';

/** The text as plain lines: well-formed, without escape sequences or control characters, `\n` between lines. */
export function plainText(text: string): string {
  return text
    .replace(LONE_SURROGATES, REPLACEMENT)
    .replace(ESCAPE_SEQUENCES, '')
    .replace(LINE_BREAKS, '\n')
    .replace(CONTROLS, REPLACEMENT);
}

/** The text as one plain line: `plainText` with its line breaks and tabs made spaces. */
export function oneLine(text: string | undefined): string {
  return plainText(text ?? '').replace(/[\t\n]+/g, ' ');
}

/** The first line of a text (a commit message's subject), plain and trimmed. */
export function firstLine(text: string | undefined): string {
  return plainText(text ?? '')
    .split('\n')[0]!
    .replace(/\t/g, ' ')
    .trim();
}

/** The first `lines` lines of a text, at most `characters` long, marked `…` where it was cut. */
export function excerpt(text: string, lines: number, characters: number): string {
  const kept = text.split('\n').slice(0, lines).join('\n');
  const cut = kept.length > characters ? `${prefix(kept, characters)}…` : kept;
  return cut.length < text.length && !cut.endsWith('…') ? `${cut}…` : cut;
}

/** The first `length` UTF-16 units of a text, one fewer where the cut would split a surrogate pair. */
function prefix(text: string, length: number): string {
  const high = text.charCodeAt(length - 1);
  return text.slice(0, high >= 0xd800 && high <= 0xdbff ? length - 1 : length);
}

/**
 * `render(text)`, cut (and marked `…`) so that what is rendered is at most `max` long: the cut is
 * made in the text before it is rendered, so it never splits an escape such as `&amp;`.
 */
export function fitted(text: string, max: number, render: (text: string) => string): string {
  const whole = render(text);
  if (whole.length <= max) return whole;
  let fits = 0;
  let tooLong = text.length;
  while (tooLong - fits > 1) {
    const middle = Math.floor((fits + tooLong) / 2);
    if (render(`${prefix(text, middle)}…`).length <= max) fits = middle;
    else tooLong = middle;
  }
  return render(`${prefix(text, fits)}…`);
}

/** A URL shown, never offered as a link: `https://x` → `https[:]//x`, `www.x` → `www[.]x`. */
function defanged(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]{0,30}):\/\//gi, '$1[:]//').replace(/\bwww\./gi, 'www[.]');
}

/**
 * Slack, as its "Formatting text for app surfaces" says
 * (https://api.slack.com/reference/surfaces/formatting#escaping): `&`, `<` and `>` are its control
 * characters and are sent as `&amp;`, `&lt;`, `&gt;` — nothing else is entity-encoded — so text from a
 * change never becomes a mention (`<@U…>`), a channel link (`<#C…>`), a special mention (`<!here>`,
 * `<!channel>`, `<!everyone>`, `<!subteam^…>`), a date token or a link (`<url|label>`). Every mrkdwn
 * text object stepline sends is `verbatim` (`forSlack.object`), which keeps Slack from making links of
 * bare URLs and channel names and from parsing mentions on its own
 * (https://docs.slack.dev/reference/block-kit/composition-objects/text-object).
 *
 * mrkdwn has no escape for its formatting characters, and formats only at a word's edge (`snake_case`
 * stays as it is): so `*`, `_` and `~` at a word's edge become look-alikes that format nothing (∗ ˍ ∼),
 * every backtick becomes ˋ (so text inside stepline's code block cannot close it), a `&gt;` that
 * starts a line gets a soft hyphen before it (Slack quotes a line that starts with one), and
 * `@here`, `@channel`, `@everyone` get a word joiner after the `@`.
 */
export const forSlack = {
  /** Text from a change, for a mrkdwn text object or a message's top-level `text`. */
  mrkdwn(text: string): string {
    return slackEscaped(shown(text))
      .replace(/(?<![\p{L}\p{N}])[*_~]|[*_~](?![\p{L}\p{N}])/gu, (c) => LOOK_ALIKES[c]!)
      .replace(/`/g, LOOK_ALIKES['`']!);
  },
  /** Text from a change, for inside stepline's code block (```): formatting shows as is there. */
  code(text: string): string {
    return slackEscaped(shown(text)).replace(/`/g, LOOK_ALIKES['`']!);
  },
  /** Text from a change, for a `plain_text` object: Slack parses nothing there; it stays plain. */
  plain(text: string): string {
    return shown(text);
  },
  /** A mrkdwn text object, verbatim: Slack adds no link or mention of its own. */
  object(text: string): { type: 'mrkdwn'; text: string; verbatim: true } {
    return { type: 'mrkdwn', text, verbatim: true };
  },
};

const LOOK_ALIKES: Record<string, string> = { '*': '\u2217', _: '\u02cd', '~': '\u223c', '`': '\u02cb' };

/** Text from a change as every message shows it: plain, its URLs defanged. */
function shown(text: string): string {
  return defanged(plainText(text));
}

function slackEscaped(text: string): string {
  return text
    .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)
    .replace(/^&gt;/gm, '\u00ad&gt;')
    .replace(/@(here|channel|everyone)\b/gi, '@\u2060$1');
}

/** HTML (emails, the approval pages): text from a change as text, never markup. */
export const forHtml = {
  /** Text from a change, for an element's content or an attribute's value. */
  text(text: string): string {
    return htmlEscaped(shown(text));
  },
  /** Text stepline wrote itself (a link it signed, a form's action): escaped, its links left as they are. */
  own(value: string): string {
    return htmlEscaped(plainText(value));
  },
};

function htmlEscaped(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Email: the plain-text part, and header fields (a subject), which never carry a line break. */
export const forEmail = {
  /** Text from a change, for the plain-text body. */
  text(text: string): string {
    return shown(text);
  },
  /** A header field's value: one line, so that it cannot end the header and start another. */
  header(text: string): string {
    return defanged(oneLine(text));
  },
};

/**
 * A terminal (the CLI, `npm start`): escape sequences removed, other control characters shown as
 * U+FFFD, so nothing printed can clear the screen, move the cursor, recolour, retitle or plant a
 * hyperlink; a URL is shown defanged, since terminals make links of bare URLs.
 */
export const forTerminal = {
  /** One printed line: its line breaks made spaces, so a value cannot start a line of its own. */
  line(text: string): string {
    return defanged(oneLine(text));
  },
};

/** GitHub refuses a commit status description over 140 characters (422). */
const STATUS_DESCRIPTION_MAX = 140;

/** GitHub's commit statuses: a description is plain text, one line, at most 140 characters. */
export const forGitHub = {
  statusDescription(text: string): string {
    return fitted(text, STATUS_DESCRIPTION_MAX, (t) => defanged(oneLine(t)));
  },
};
