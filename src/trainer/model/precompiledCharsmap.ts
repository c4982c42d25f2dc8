/**
 * SentencePiece's precompiled normalization (the `Precompiled` normalizer of XLM-RoBERTa's and other SentencePiece
 * tokenizer.json files), as the Rust `tokenizers` library applies it: a double-array trie over UTF-8 bytes maps
 * strings to their normalized form (nmt_nfkc: NFKC plus SentencePiece's control-character and space rules).
 * `@huggingface/tokenizers` approximates it with String.normalize('NFKC') and two regexes, which differs on zero-width
 * joiners, line and paragraph separators and some compatibility characters; this reads the real table.
 */
export class PrecompiledCharsmap {
  private readonly trie: Uint32Array;
  private readonly normalized: Uint8Array;
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();
  private readonly graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });

  /** `base64`: the `precompiled_charsmap` of tokenizer.json (a u32 trie size in bytes, the trie, then the normalized strings). */
  constructor(base64: string) {
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.length < 4) throw new Error('the precompiled_charsmap is shorter than its header');
    const trieBytes = bytes.readUInt32LE(0);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > bytes.length) throw new Error('the precompiled_charsmap has a damaged trie size');
    this.trie = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.trie.length; i++) this.trie[i] = bytes.readUInt32LE(4 + i * 4);
    this.normalized = new Uint8Array(bytes.subarray(4 + trieBytes));
  }

  /** The text normalized grapheme by grapheme, as the Rust Precompiled normalizer does. */
  normalize(text: string): string {
    let out = '';
    for (const { segment } of this.graphemes.segment(text)) {
      // Rust looks a whole grapheme up only when it is under 6 bytes, and otherwise (or when absent) each character.
      const whole = this.encoder.encode(segment).length < 6 ? this.transform(segment) : undefined;
      if (whole !== undefined) {
        out += whole;
        continue;
      }
      for (const character of segment) out += this.transform(character) ?? character;
    }
    return out;
  }

  /** The replacement of the shortest prefix of `chunk` the table holds, for the whole chunk (as spm_precompiled does). */
  private transform(chunk: string): string | undefined {
    const index = this.firstPrefixMatch(this.encoder.encode(chunk));
    if (index === undefined) return undefined;
    let end = index;
    while (end < this.normalized.length && this.normalized[end] !== 0) end++;
    return this.decoder.decode(this.normalized.subarray(index, end));
  }

  /** darts-clone's common prefix search, stopped at its first result. */
  private firstPrefixMatch(key: Uint8Array): number | undefined {
    const unit = (position: number): number => {
      const value = this.trie[position];
      if (value === undefined) throw new Error('the precompiled_charsmap trie points outside itself');
      return value;
    };
    let position = offsetOf(unit(0));
    for (const byte of key) {
      if (byte === 0) break;
      position ^= byte;
      const current = unit(position);
      if (labelOf(current) !== byte) return undefined;
      position ^= offsetOf(current);
      if (hasLeaf(current)) return valueOf(unit(position));
    }
    return undefined;
  }
}

const hasLeaf = (unit: number): boolean => ((unit >>> 8) & 1) === 1;
const valueOf = (unit: number): number => unit & 0x7fffffff;
const labelOf = (unit: number): number => (unit & 0x800000ff) >>> 0;
const offsetOf = (unit: number): number => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
