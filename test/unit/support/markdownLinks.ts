import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';

/** A link or image in a Markdown file: where it is and what it points at. */
export interface MarkdownLink {
  readonly file: string;
  readonly line: number;
  readonly target: string;
  readonly image: boolean;
}

/**
 * The inline links and images of a Markdown text (`[text](target)`, `![alt](target)`, `<img src="…">`), outside
 * fenced code blocks and code spans, where GitHub would not render them as links either.
 */
export function markdownLinks(file: string, text: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  let fenced = false;
  text.split('\n').forEach((raw, index) => {
    if (/^\s*(```|~~~)/.test(raw)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    const line = raw.replace(/`[^`]*`/g, '');
    for (const match of line.matchAll(/(!?)\[(?:[^\]]|\\\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
      links.push({ file, line: index + 1, target: match[2]!, image: match[1] === '!' });
    for (const match of line.matchAll(/<img\s[^>]*src="([^"]+)"/g)) links.push({ file, line: index + 1, target: match[1]!, image: true });
  });
  return links;
}

/** The anchors GitHub gives a Markdown file's headings (github-slugger's rule, with -1, -2 … for repeats). */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Why a relative link is broken (a missing file, folder or heading), or null when it resolves. External links are not checked. */
export function brokenReason(link: MarkdownLink): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) return null;
  const [path = '', anchor] = decodeURIComponent(link.target).split('#', 2);
  const target = path === '' ? link.file : resolve(dirname(link.file), path);
  if (!existsSync(target)) return `${path} does not exist`;
  if (link.image && !/\.(png|jpe?g|gif|svg|webp)$/i.test(target)) return `${path} is not an image`;
  if (anchor === undefined || anchor === '') return null;
  if (statSync(target).isDirectory() || extname(target).toLowerCase() !== '.md') return null;
  if (headingAnchors(readFileSync(target, 'utf8')).has(anchor)) return null;
  return `${path === '' ? 'this file' : path} has no heading #${anchor}`;
}

/** Every broken relative link of the given Markdown files, as `file:line: target (reason)`. */
export function brokenLinks(files: readonly string[], root: string): string[] {
  return files.flatMap((file) =>
    markdownLinks(file, readFileSync(file, 'utf8')).flatMap((link) => {
      const reason = brokenReason(link);
      return reason ? [`${join(relative(root, file))}:${link.line}: ${link.target} (${reason})`] : [];
    }),
  );
}
