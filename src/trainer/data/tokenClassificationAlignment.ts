import type { TokenBatch } from '../model/bert/bertEncoder';
import type { TextTokenizer } from '../model/textTokenizer';

/**
 * Sentences given as words, tokenized into word pieces with a record of which piece starts each word: the
 * alignment Hugging Face's token-classification examples use (`is_split_into_words=True`, the label on the first
 * sub-token of each word, the other sub-tokens ignored by the loss and at decoding).
 */
export interface AlignedBatch {
  /** Word pieces of every row with the special tokens, padded to the longest row. */
  readonly tokens: TokenBatch;
  /** Per row, the indices of the words that got a first piece, in order: every word, unless truncation or an empty tokenization dropped some. */
  readonly taggedWords: readonly (readonly number[])[];
  /** Tagged words in each row (`taggedWords[b].length`). */
  readonly lengths: readonly number[];
  /** The most tagged words of any row: the width of the emission matrix. */
  readonly words: number;
  /**
   * Row-major [batch, words]: the position of each tagged word's first piece in the flattened [batch × seqLength]
   * token outputs; padding points at the row's first position and is masked by `lengths`.
   */
  readonly firstPieces: Int32Array;
}

/** Length passed to the tokenizer for one word: far above any word, so that it is never truncated on its own. */
const UNLIMITED = 1 << 20;

/** Tokenizes words one at a time (cached), as a fast tokenizer does with pre-split input, and assembles aligned batches. */
export class WordPieceAligner {
  private readonly pieces = new Map<string, number[]>();
  private readonly prefix: { ids: number[]; typeIds: number[] };
  private readonly suffix: { ids: number[]; typeIds: number[] };

  constructor(private readonly tokenizer: TextTokenizer) {
    // The special tokens of a single sequence, split around where its content goes (e.g. [CLS] … [SEP]).
    const empty = tokenizer.encode('', UNLIMITED);
    const one = tokenizer.encode('a', UNLIMITED);
    let before = 0;
    while (before < empty.ids.length && empty.ids[before] === one.ids[before]) before++;
    this.prefix = { ids: empty.ids.slice(0, before), typeIds: empty.typeIds.slice(0, before) };
    this.suffix = { ids: empty.ids.slice(before), typeIds: empty.typeIds.slice(before) };
  }

  /** The word-piece ids of one word, without special tokens; empty for a word the tokenizer drops (e.g. a control character). */
  wordPieces(word: string): number[] {
    let ids = this.pieces.get(word);
    if (!ids) {
      const encoded = this.tokenizer.encode(word, UNLIMITED).ids;
      ids = encoded.slice(this.prefix.ids.length, encoded.length - this.suffix.ids.length);
      this.pieces.set(word, ids);
    }
    return ids;
  }

  /** How many words of `sentences` would not be tagged at `maxLength` (cut off, or with no pieces), and in how many sentences. */
  untaggedWords(sentences: readonly (readonly string[])[], maxLength: number): { words: number; untagged: number; sentences: number } {
    let words = 0;
    let untagged = 0;
    let affected = 0;
    for (const sentence of sentences) {
      const tagged = this.align([sentence], maxLength).lengths[0]!;
      words += sentence.length;
      untagged += sentence.length - tagged;
      if (tagged < sentence.length) affected++;
    }
    return { words, untagged, sentences: affected };
  }

  /**
   * Encodes sentences of words to at most `maxLength` pieces each, special tokens included, cutting pieces off the
   * end as `transformers` truncates. Words left with no piece are not tagged; a caller predicting for them says 'O'.
   */
  align(sentences: readonly (readonly string[])[], maxLength: number): AlignedBatch {
    const room = maxLength - this.prefix.ids.length - this.suffix.ids.length;
    if (room < 1)
      throw new Error(
        `model.max_seq_length ${maxLength} leaves no room for words after the ${this.prefix.ids.length + this.suffix.ids.length} special tokens.`,
      );
    const rows = sentences.map((words) => {
      const ids = [...this.prefix.ids];
      const firsts: number[] = [];
      const tagged: number[] = [];
      for (let w = 0; w < words.length; w++) {
        const pieces = this.wordPieces(words[w]!);
        if (pieces.length === 0) continue;
        const left = room - (ids.length - this.prefix.ids.length);
        if (left <= 0) break;
        firsts.push(ids.length);
        tagged.push(w);
        // Truncation keeps the pieces that fit, as `truncation=True` does: a word cut inside is still tagged at its first piece.
        ids.push(...pieces.slice(0, left));
      }
      const typeIds = [...this.prefix.typeIds, ...new Array<number>(ids.length - this.prefix.ids.length).fill(0), ...this.suffix.typeIds];
      ids.push(...this.suffix.ids);
      return { ids, typeIds, firsts, tagged };
    });

    const batchSize = rows.length;
    const seqLength = Math.max(1, ...rows.map((row) => row.ids.length));
    const words = Math.max(1, ...rows.map((row) => row.firsts.length));
    const inputIds = new Int32Array(batchSize * seqLength).fill(this.tokenizer.padTokenId);
    const attentionMask = new Int32Array(batchSize * seqLength);
    const tokenTypeIds = new Int32Array(batchSize * seqLength);
    const firstPieces = new Int32Array(batchSize * words);
    rows.forEach((row, b) => {
      inputIds.set(row.ids, b * seqLength);
      attentionMask.fill(1, b * seqLength, b * seqLength + row.ids.length);
      tokenTypeIds.set(row.typeIds, b * seqLength);
      firstPieces.fill(b * seqLength, b * words, (b + 1) * words);
      row.firsts.forEach((position, w) => (firstPieces[b * words + w] = b * seqLength + position));
    });
    return {
      tokens: { inputIds, attentionMask, tokenTypeIds, batchSize, seqLength },
      taggedWords: rows.map((row) => row.tagged),
      lengths: rows.map((row) => row.firsts.length),
      words,
      firstPieces,
    };
  }
}
