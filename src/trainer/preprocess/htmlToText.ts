import { Parser } from 'htmlparser2';

/** Elements whose content a reader never sees as text: code, styling, and the document's metadata. */
const HIDDEN_ELEMENTS = new Set(['script', 'style', 'template', 'noscript', 'head', 'iframe', 'object', 'svg', 'math']);

/**
 * Elements that start a new line or cell when a browser renders them. Their boundaries become whitespace,
 * so that `<p>one</p><p>two</p>` reads "one two" and not "onetwo".
 */
const BREAKING_ELEMENTS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'br',
  'caption',
  'dd',
  'details',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'li',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'title',
  'tr',
  'ul',
]);

/** Text with no `<` and no `&` has no markup to remove, which is most rows of most files. */
const MAY_HOLD_MARKUP = /[<&]/;

/**
 * The text a reader sees in an HTML fragment: tags and comments removed, entities decoded, the content of
 * scripts, styles and other hidden elements dropped, and block boundaries turned into line breaks. Malformed
 * markup (unclosed or stray tags, bare `<` and `&`) is read the forgiving way browsers read it, by htmlparser2.
 */
export function htmlToText(html: string): string {
  if (!MAY_HOLD_MARKUP.test(html)) return html;
  let text = '';
  let hiddenDepth = 0;
  const parser = new Parser(
    {
      onopentagname(name) {
        if (HIDDEN_ELEMENTS.has(name)) hiddenDepth++;
        else if (BREAKING_ELEMENTS.has(name)) text += '\n';
      },
      onclosetag(name) {
        if (HIDDEN_ELEMENTS.has(name)) hiddenDepth = Math.max(0, hiddenDepth - 1);
        else if (BREAKING_ELEMENTS.has(name)) text += '\n';
      },
      ontext(data) {
        if (hiddenDepth === 0) text += data;
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  return text;
}
