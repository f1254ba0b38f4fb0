import { excerpt, plainText } from '../../core/text';

describe('plainText', () => {
  it('removes colour, cursor and hyperlink sequences and keeps the text', () => {
    const coloured =
      '\u001b[31m✖ fails\u001b[39m \u001b[1;32mok\u001b[0m \u001b[2K\u001b[1Gline \u001b]8;;https://x\u0007link\u001b]8;;\u0007';
    expect(plainText(coloured)).toBe('✖ fails ok line link');
  });

  it('leaves plain text alone', () => {
    expect(plainText('a [bracketed] text: 100%')).toBe('a [bracketed] text: 100%');
  });
});

describe('excerpt', () => {
  it('keeps the first lines up to a length, marking the cut', () => {
    expect(excerpt('a\nb\nc', 2, 100)).toBe('a\nb…');
    expect(excerpt('abcdef', 5, 3)).toBe('abc…');
    expect(excerpt('a\nb', 5, 100)).toBe('a\nb');
  });
});
