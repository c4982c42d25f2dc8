/**
 * A 3×5 pixel font for labels on generated images (the contact sheet), so that no font file or text-rendering
 * library is needed. Upper case, digits and the punctuation of file names; lower case is drawn as upper case and any
 * other character as '?'.
 */

const GLYPHS: Readonly<Record<string, string>> = {
  A: '.#. #.# ### #.# #.#',
  B: '##. #.# ##. #.# ##.',
  C: '.## #.. #.. #.. .##',
  D: '##. #.# #.# #.# ##.',
  E: '### #.. ##. #.. ###',
  F: '### #.. ##. #.. #..',
  G: '.## #.. #.# #.# .##',
  H: '#.# #.# ### #.# #.#',
  I: '### .#. .#. .#. ###',
  J: '..# ..# ..# #.# .#.',
  K: '#.# #.# ##. #.# #.#',
  L: '#.. #.. #.. #.. ###',
  M: '#.# ### #.# #.# #.#',
  N: '##. #.# #.# #.# #.#',
  O: '.#. #.# #.# #.# .#.',
  P: '##. #.# ##. #.. #..',
  Q: '.#. #.# #.# ##. .##',
  R: '##. #.# ##. #.# #.#',
  S: '.## #.. .#. ..# ##.',
  T: '### .#. .#. .#. .#.',
  U: '#.# #.# #.# #.# ###',
  V: '#.# #.# #.# #.# .#.',
  W: '#.# #.# ### ### #.#',
  X: '#.# #.# .#. #.# #.#',
  Y: '#.# #.# .#. .#. .#.',
  Z: '### ..# .#. #.. ###',
  '0': '### #.# #.# #.# ###',
  '1': '.#. ##. .#. .#. ###',
  '2': '##. ..# .#. #.. ###',
  '3': '##. ..# .#. ..# ##.',
  '4': '#.# #.# ### ..# ..#',
  '5': '### #.. ##. ..# ##.',
  '6': '.## #.. ### #.# ###',
  '7': '### ..# .#. .#. .#.',
  '8': '### #.# ### #.# ###',
  '9': '### #.# ### ..# ##.',
  ' ': '... ... ... ... ...',
  '-': '... ... ### ... ...',
  '.': '... ... ... ... .#.',
  ',': '... ... ... .#. #..',
  _: '... ... ... ... ###',
  '/': '..# ..# .#. #.. #..',
  ':': '... .#. ... .#. ...',
  '(': '.#. #.. #.. #.. .#.',
  ')': '.#. ..# ..# ..# .#.',
  '#': '#.# ### #.# ### #.#',
  '+': '... .#. ### .#. ...',
  '=': '... ### ... ### ...',
  '×': '... #.# .#. #.# ...',
  '?': '##. ..# .#. ... .#.',
};

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;

/** The 15 pixels (row by row) of a character's glyph, true where ink is; patterns are written as five rows of three. */
export function glyphOf(character: string): readonly boolean[] {
  const pattern = (GLYPHS[character.toUpperCase()] ?? GLYPHS['?']!).replaceAll(' ', '');
  return Array.from({ length: GLYPH_WIDTH * GLYPH_HEIGHT }, (_, i) => pattern[i] === '#');
}

/** Width in pixels of `text` drawn at `scale`, one blank column between characters. */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : [...text].length * (GLYPH_WIDTH + 1) * scale - scale;
}

/**
 * Draws `text` into an RGBA buffer `sheetWidth` pixels wide, its top-left at (x, y), each font pixel a scale×scale
 * square; characters that would pass `maxWidth` are left out, the last shown one replaced by '.' to say so.
 */
export function drawText(
  rgba: Buffer,
  sheetWidth: number,
  text: string,
  at: { x: number; y: number },
  options: { scale: number; maxWidth: number; color: readonly [number, number, number] },
): void {
  const advance = (GLYPH_WIDTH + 1) * options.scale;
  const fits = Math.max(0, Math.floor((options.maxWidth + options.scale) / advance));
  let characters = [...text];
  if (characters.length > fits) characters = [...characters.slice(0, Math.max(0, fits - 2)), '.', '.'].slice(0, fits);
  characters.forEach((character, index) => {
    const glyph = glyphOf(character);
    for (let row = 0; row < GLYPH_HEIGHT; row++)
      for (let column = 0; column < GLYPH_WIDTH; column++)
        if (glyph[row * GLYPH_WIDTH + column])
          square(rgba, sheetWidth, at.x + index * advance + column * options.scale, at.y + row * options.scale, options);
  });
}

function square(
  rgba: Buffer,
  sheetWidth: number,
  left: number,
  top: number,
  options: { scale: number; color: readonly [number, number, number] },
): void {
  for (let y = top; y < top + options.scale; y++)
    for (let x = left; x < left + options.scale; x++) {
      const i = (y * sheetWidth + x) * 4;
      if (i < 0 || i + 3 >= rgba.length) continue;
      rgba[i] = options.color[0];
      rgba[i + 1] = options.color[1];
      rgba[i + 2] = options.color[2];
      rgba[i + 3] = 255;
    }
}
