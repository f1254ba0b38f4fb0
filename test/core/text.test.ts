import {
  excerpt,
  firstLine,
  fitted,
  forEmail,
  forGitHub,
  forHtml,
  forSlack,
  forTerminal,
  oneLine,
  plainText,
} from '../../core/text';
import {
  actingCharacters,
  expectOneInertLine,
  expectPlainInert,
  expectSlackMrkdwnInert,
  expectStillReads,
  HOSTILE,
  HOSTILE_TEXT,
  htmlShown,
  slackShown,
} from '../support/hostile-text';

describe('plainText', () => {
  it('removes colour, cursor and hyperlink sequences and keeps the text', () => {
    const coloured =
      '\u001b[31m✖ fails\u001b[39m \u001b[1;32mok\u001b[0m \u001b[2K\u001b[1Gline \u001b]8;;https://x\u0007link\u001b]8;;\u0007';
    expect(plainText(coloured)).toBe('✖ fails ok line link');
  });

  it('leaves plain text alone, tabs and newlines too', () => {
    expect(plainText('a [bracketed] text: 100%\n\tindented ✓ 😀')).toBe('a [bracketed] text: 100%\n\tindented ✓ 😀');
  });

  it('shows every other control character as U+FFFD, and makes every line break a newline', () => {
    expect(plainText('a\u0000b\u0007c\u007fd\u009be\u202ef\u2066g')).toBe(
      'a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg',
    );
    expect(plainText('1\r\n2\r3\v4\f5\u00856\u20287\u20298')).toBe('1\n2\n3\n4\n5\n6\n7\n8');
    // A title (OSC ended by ST), a reset (ESC c) and a lone ESC.
    expect(plainText('\u001b]0;title\u001b\\x\u001bcy\u001b')).toBe('xy\ufffd');
  });

  it('makes invalid UTF-16 well-formed and keeps surrogate pairs', () => {
    expect(plainText('\ud800 \udc00 \ud83d\ude00 \udc00\ud800')).toBe('\ufffd \ufffd \ud83d\ude00 \ufffd\ufffd');
  });
});

describe('oneLine and firstLine', () => {
  it('oneLine makes line breaks and tabs spaces, so a value cannot start a line of its own', () => {
    expect(oneLine('Eve\r\nApproved by alice\tvia slack')).toBe('Eve Approved by alice via slack');
    expect(oneLine(undefined)).toBe('');
  });

  it('firstLine is the plain, trimmed subject', () => {
    expect(firstLine('  fix \u001b[31mit\u001b[0m \r\nbody')).toBe('fix it');
  });
});

describe('excerpt and fitted', () => {
  it('keeps the first lines up to a length, marking the cut', () => {
    expect(excerpt('a\nb\nc', 2, 100)).toBe('a\nb…');
    expect(excerpt('abcdef', 5, 3)).toBe('abc…');
    expect(excerpt('a\nb', 5, 100)).toBe('a\nb');
  });

  it('never cuts a surrogate pair in two', () => {
    expect(excerpt('ab😀c', 1, 3)).toBe('ab…');
    expect(actingCharacters(excerpt('😀'.repeat(10), 1, 5))).toEqual([]);
  });

  it('fitted cuts the text before rendering, so no escape is split and the result is within the limit', () => {
    const rendered = fitted('&'.repeat(100), 23, forSlack.mrkdwn);
    expect(rendered).toBe(`${'&amp;'.repeat(4)}…`);
    expect(fitted('short', 10, forSlack.mrkdwn)).toBe('short');
  });
});

describe('forSlack', () => {
  it('escapes exactly &, < and >, so no mention, channel, special mention, date or link is parsed', () => {
    expect(forSlack.mrkdwn('a & b <!channel> <@U1> <#C1|x> <!subteam^S1> <!date^1^{date}|d> <https://x|y>')).toBe(
      'a &amp; b &lt;!channel&gt; &lt;@U1&gt; &lt;#C1|x&gt; &lt;!subteam^S1&gt; &lt;!date^1^{date}|d&gt; &lt;https[:]//x|y&gt;',
    );
    // Quotes and apostrophes are not entities in Slack: they stay as typed.
    expect(forSlack.mrkdwn(`it's "fine"`)).toBe(`it's "fine"`);
  });

  it('neutralises formatting at a word’s edge and every backtick, and leaves words like snake_case alone', () => {
    expect(forSlack.mrkdwn('*bold* _it_ ~s~ `c` ```f``` snake_case COMMAND_EXECUTION_ERROR :white_check_mark:')).toBe(
      '∗bold∗ ˍitˍ ∼s∼ ˋcˋ ˋˋˋfˋˋˋ snake_case COMMAND_EXECUTION_ERROR :white_check_mark:',
    );
  });

  it('keeps a quote marker from starting a line, and a bare special mention from notifying', () => {
    expect(forSlack.mrkdwn('> quoted\nline > not')).toBe('\u00ad&gt; quoted\nline &gt; not');
    expect(forSlack.mrkdwn('@here @channel @everyone @alice')).toBe(
      '@\u2060here @\u2060channel @\u2060everyone @alice',
    );
  });

  it('in a code block, only the backticks that could close it change', () => {
    expect(forSlack.code('*a* ``` <b>')).toBe('*a* ˋˋˋ &lt;b&gt;');
  });

  it('every mrkdwn object it makes is verbatim', () => {
    expect(forSlack.object('x')).toEqual({ type: 'mrkdwn', text: 'x', verbatim: true });
  });

  it('leaves nothing of the corpus acting, and the text still reads', () => {
    const rendered = forSlack.mrkdwn(HOSTILE_TEXT);
    expectSlackMrkdwnInert(rendered);
    expectStillReads(slackShown(rendered));
    expectPlainInert(forSlack.plain(HOSTILE_TEXT));
  });
});

describe('forHtml, forEmail, forGitHub, forTerminal', () => {
  it('HTML: text from a change is text, in content and in attributes', () => {
    expect(forHtml.text(HOSTILE.attribute)).toBe('&#34; onmouseover=&#34;alert(4)&#34; data-x=&#39;');
    expect(forHtml.text('<script>x</script> & https://evil.example')).toBe(
      '&#60;script&#62;x&#60;/script&#62; &#38; https[:]//evil.example',
    );
    // stepline's own links are escaped but stay links.
    expect(forHtml.own('https://a.example/?t=1&u=2')).toBe('https://a.example/?t=1&#38;u=2');
    expectStillReads(htmlShown(forHtml.text(HOSTILE_TEXT)));
  });

  it('email: a header field is one line whatever it is given; the text part is plain', () => {
    expectOneInertLine(forEmail.header(`subject\r\nBcc: eve@evil.example\n\nbody ${HOSTILE_TEXT}`));
    expect(forEmail.header('a\r\nBcc: b')).toBe('a Bcc: b');
    expectPlainInert(forEmail.text(HOSTILE_TEXT));
  });

  it('commit status descriptions: plain, one line, at most 140 characters', () => {
    const description = forGitHub.statusDescription(HOSTILE_TEXT);
    expectOneInertLine(description);
    expect(description.length).toBeLessThanOrEqual(140);
    expect(description.endsWith('…')).toBe(true);
    expect(forGitHub.statusDescription('build passed')).toBe('build passed');
  });

  it('terminal: a printed line clears, moves, recolours, retitles and links nothing, and reads', () => {
    const line = forTerminal.line(HOSTILE_TEXT);
    expectOneInertLine(line);
    expect(line).not.toContain('\u001b');
    expectStillReads(line);
    expect(forTerminal.line(HOSTILE.terminal)).toBe('red click  ');
  });
});
