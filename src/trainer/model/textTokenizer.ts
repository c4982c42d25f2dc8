import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { boundedTokenize, type BoundedTokenizer } from './boundedTokenize';
import { PrecompiledCharsmap } from './precompiledCharsmap';
import { readRegularFile, readRegularJson } from '../../shared/model/regularFile';

/** Token ids for a batch, row-major [batchSize, seqLength], padded to the batch's longest sequence. */
export interface EncodedBatch {
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
  batchSize: number;
  seqLength: number;
}

type JsonObject = Record<string, unknown>;

/** The role names `transformers` uses for special tokens, in the order special_tokens_map.json lists them. */
const SPECIAL_TOKEN_ROLES = ['cls_token', 'mask_token', 'pad_token', 'sep_token', 'unk_token'] as const;
type SpecialTokenRole = (typeof SPECIAL_TOKEN_ROLES)[number];

const BERT_SPECIAL_TOKENS: Readonly<Record<SpecialTokenRole, string>> = {
  cls_token: '[CLS]',
  mask_token: '[MASK]',
  pad_token: '[PAD]',
  sep_token: '[SEP]',
  unk_token: '[UNK]',
};

/** `model_max_length` that `transformers` writes when a model has no limit (int(1e30)); it means "unknown". */
const NO_LENGTH_LIMIT = 1e29;

/** Keys in a tokenizer_config.json that point at files where the tokenizer was loaded from; stale once it is saved elsewhere. */
const LOCATION_KEYS = ['tokenizer_file', 'name_or_path', 'special_tokens_map_file'];

/**
 * A Hugging Face tokenizer read from a model folder, encoding batches the way
 * `tokenizer(texts, padding=True, truncation=True, max_length=n)` does in `transformers`. Tokenization itself is
 * `@huggingface/tokenizers`; this class adds what that library leaves to its caller: the folder's files, the
 * tokenizer_config.json overrides, truncation that keeps [CLS]/[SEP], padding, and saving.
 */
export class TextTokenizer {
  /** Ids the model must have embeddings for, added tokens included (`len(tokenizer)` in Python). */
  readonly vocabSize: number;
  readonly padTokenId: number;
  /** The tokenizer's own length limit (`model_max_length`), when it declares a real one. */
  readonly modelMaxLength: number | undefined;
  private readonly unkTokenId: number;
  /** How many special tokens a single sequence gets ([CLS] and [SEP] for BERT), counted from the template. */
  private readonly specialTokenCount: number;
  private readonly matchRustNormalizer: (text: string) => string;
  /** The library's tokenization of already aligned text, bounded in time when tokenizer.json brings its own regexes. */
  private readonly tokenizeAll: BoundedTokenizer;
  /** Texts the library keeps whole wherever they appear ([CLS], <mask>…): a cut must not fall inside one. */
  private readonly addedTokenContents: readonly string[];

  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly tokenizerJson: JsonObject,
    private readonly tokenizerConfig: JsonObject,
    source: string,
  ) {
    const model = tokenizer.model;
    if (!model) throw new Error(`The tokenizer in ${source} has no model section.`);
    this.vocabSize = model.vocab.length;
    this.unkTokenId = requireId(
      tokenizer,
      specialToken(tokenizerConfig, 'unk_token') ?? model.unk_token ?? '[UNK]',
      source,
      'unknown-word',
    );
    this.padTokenId = findPadTokenId(tokenizer, tokenizerJson, tokenizerConfig, source);
    const limit = tokenizerConfig['model_max_length'];
    this.modelMaxLength = typeof limit === 'number' && limit > 0 && limit < NO_LENGTH_LIMIT ? limit : undefined;
    this.specialTokenCount = tokenizer.post_processor ? tokenizer.post_processor([], null, true).tokens.length : 0;
    this.matchRustNormalizer = rustNormalizerAlignment(tokenizerJson['normalizer'], tokenizerJson['pre_tokenizer'], source);
    this.tokenizeAll = boundedTokenize(tokenizer, tokenizerJson, source);
    this.addedTokenContents = addedTokenContents(tokenizerJson);
  }

  /**
   * Reads `tokenizer.json` (with `tokenizer_config.json` when present), or builds the equivalent BERT WordPiece
   * tokenizer from `vocab.txt` alone, as `transformers` converts a slow BertTokenizer to a fast one.
   */
  static fromFolder(folder: string): TextTokenizer {
    const configPath = join(folder, 'tokenizer_config.json');
    const tokenizerConfig = existsSync(configPath) ? readJsonObject(configPath) : {};
    const tokenizerPath = join(folder, 'tokenizer.json');
    const vocabPath = join(folder, 'vocab.txt');
    let tokenizerJson: JsonObject;
    if (existsSync(tokenizerPath)) tokenizerJson = applyLowercaseSetting(readJsonObject(tokenizerPath), tokenizerConfig);
    else if (existsSync(vocabPath)) tokenizerJson = bertTokenizerJsonFromVocab(readVocabFile(vocabPath), tokenizerConfig, vocabPath);
    else throw new Error(`${folder} has neither tokenizer.json nor vocab.txt, so its tokenizer cannot be loaded.`);
    return TextTokenizer.fromJson(tokenizerJson, tokenizerConfig, folder);
  }

  static fromJson(tokenizerJson: JsonObject, tokenizerConfig: JsonObject, source: string): TextTokenizer {
    const json = { added_tokens: [], ...tokenizerJson };
    let tokenizer: Tokenizer;
    try {
      // A leading Precompiled normalizer runs in rustNormalizerAlignment instead, from its real table.
      tokenizer = new Tokenizer({ ...json, normalizer: withoutLeadingPrecompiled(tokenizerJson['normalizer']) }, tokenizerConfig);
    } catch (error) {
      throw new Error(`The tokenizer in ${source} could not be loaded: ${(error as Error).message}`);
    }
    return new TextTokenizer(tokenizer, json, tokenizerConfig, source);
  }

  /** The tokens of one text with its special tokens, at most `maxLength` in all. */
  tokenize(text: string, maxLength: number): string[] {
    return this.processedTokens(text, maxLength).tokens;
  }

  /** Token ids and token type ids of one text with its special tokens, at most `maxLength` in all. */
  encode(text: string, maxLength: number): { ids: number[]; typeIds: number[] } {
    const { tokens, typeIds } = this.processedTokens(text, maxLength);
    return { ids: tokens.map((token) => this.tokenizer.token_to_id(token) ?? this.unkTokenId), typeIds };
  }

  private processedTokens(text: string, maxLength: number): { tokens: string[]; typeIds: number[] } {
    if (!Number.isInteger(maxLength) || maxLength <= this.specialTokenCount) {
      throw new Error(
        `maxLength must be an integer above ${this.specialTokenCount} (the special tokens every sequence gets), but is ${maxLength}.`,
      );
    }
    // Truncation drops tokens from the end of the text, never the special tokens, as `truncation=True` does.
    const kept = this.leadingTokens(text, maxLength - this.specialTokenCount);
    if (!this.tokenizer.post_processor) return { tokens: kept, typeIds: kept.map(() => 0) };
    const processed = this.tokenizer.post_processor(kept, null, true);
    return { tokens: processed.tokens, typeIds: processed.token_type_ids ?? processed.tokens.map(() => 0) };
  }

  /**
   * The first `count` tokens of `text`, tokenizing only as much of it as they need: a 20 MB row cost 2.4 GB and 21 s
   * to keep 30 tokens. The text is cut at a character (never inside a surrogate pair, before a combining mark or
   * inside an added token), wherever that falls, since a row of CJK, base64 or a URL may have no whitespace at all;
   * the tokens of the word the cut may have split are dropped, so those left are the leading tokens of the whole
   * text. The cut is moved on until they number `count`, or the whole text is tokenized (a single word that long).
   */
  private leadingTokens(text: string, count: number): string[] {
    for (let length = Math.max(PREFIX_MIN_CHARS, count * PREFIX_CHARS_PER_TOKEN); length < text.length; length *= PREFIX_GROWTH) {
      const end = this.characterCutAtOrAfter(text, length);
      if (end >= text.length) break;
      const tokens = this.tokenizeAll.beforeLastWord(this.matchRustNormalizer(text.slice(0, end)));
      if (tokens.length >= count) return tokens.slice(0, count);
    }
    return this.tokenizeAll.all(this.matchRustNormalizer(text)).slice(0, count);
  }

  /** The first index at or after `from` where a cut splits no character (its surrogates, combining marks) and no added token. */
  private characterCutAtOrAfter(text: string, from: number): number {
    let cut = from;
    for (let moved = true; moved && cut < text.length; ) {
      const before = cut;
      while (cut < text.length && JOINS_PREVIOUS.test(text[cut]!)) cut++;
      for (const content of this.addedTokenContents) {
        const windowStart = Math.max(0, cut - content.length + 1);
        const found = text.slice(windowStart, cut + content.length - 1).indexOf(content);
        if (found >= 0 && windowStart + found < cut) cut = windowStart + found + content.length;
      }
      moved = cut !== before;
    }
    return cut;
  }

  /** Encodes `texts`, truncating each to `maxLength` tokens and padding all to the longest one. */
  encodeBatch(texts: readonly string[], maxLength: number): EncodedBatch {
    const encoded = texts.map((text) => this.encode(text, maxLength));
    const batchSize = texts.length;
    const seqLength = encoded.reduce((longest, { ids }) => Math.max(longest, ids.length), 0);
    const inputIds = new Int32Array(batchSize * seqLength).fill(this.padTokenId);
    const attentionMask = new Int32Array(batchSize * seqLength);
    const tokenTypeIds = new Int32Array(batchSize * seqLength);
    encoded.forEach(({ ids, typeIds }, row) => {
      const offset = row * seqLength;
      inputIds.set(ids, offset);
      attentionMask.fill(1, offset, offset + ids.length);
      tokenTypeIds.set(typeIds, offset);
    });
    return { inputIds, attentionMask, tokenTypeIds, batchSize, seqLength };
  }

  /**
   * Writes the files `AutoTokenizer.from_pretrained(folder)` reads: tokenizer.json, tokenizer_config.json,
   * special_tokens_map.json, and vocab.txt for WordPiece so the slow tokenizer loads too. `modelMaxLength` records
   * the length the model was trained with, as sentence-transformers does when it saves.
   */
  saveTo(folder: string, options: { modelMaxLength?: number } = {}): void {
    mkdirSync(folder, { recursive: true });
    writeJson(join(folder, 'tokenizer.json'), this.tokenizerJson);

    const specials = Object.fromEntries(
      SPECIAL_TOKEN_ROLES.flatMap((role) => {
        const token = specialToken(this.tokenizerConfig, role) ?? (this.isWordPiece() ? BERT_SPECIAL_TOKENS[role] : undefined);
        return token !== undefined && this.tokenizer.token_to_id(token) !== undefined ? [[role, token]] : [];
      }),
    );
    const config: JsonObject = { ...this.tokenizerConfig };
    for (const key of LOCATION_KEYS) delete config[key];
    Object.assign(config, specials);
    config['clean_up_tokenization_spaces'] ??= true;
    if (this.isWordPiece()) config['tokenizer_class'] ??= 'BertTokenizer';
    const normalizer = this.tokenizerJson['normalizer'] as JsonObject | null | undefined;
    if (normalizer?.['type'] === 'BertNormalizer') config['do_lower_case'] = normalizer['lowercase'] === true;
    const maxLength = options.modelMaxLength ?? this.modelMaxLength;
    if (maxLength !== undefined) config['model_max_length'] = maxLength;
    writeJson(join(folder, 'tokenizer_config.json'), config);
    writeJson(join(folder, 'special_tokens_map.json'), specials);

    if (this.isWordPiece()) writeFileSync(join(folder, 'vocab.txt'), `${this.wordPieceVocabulary().join('\n')}\n`);
  }

  private isWordPiece(): boolean {
    return (this.tokenizerJson['model'] as JsonObject | undefined)?.['type'] === 'WordPiece';
  }

  /** The WordPiece vocabulary in id order; vocab.txt gives each token the id of its line, so there can be no gaps. */
  private wordPieceVocabulary(): string[] {
    const vocab = (this.tokenizerJson['model'] as JsonObject)['vocab'] as Record<string, number>;
    const tokens: string[] = [];
    for (const [token, id] of Object.entries(vocab)) tokens[id] = token;
    const gap = tokens.findIndex((token) => token === undefined);
    if (gap !== -1 || tokens.length !== Object.keys(vocab).length)
      throw new Error(`The WordPiece vocabulary has no token with id ${gap}, so it cannot be written as vocab.txt.`);
    return tokens;
  }
}

/** The first prefix tried holds this many characters per kept token (English averages about 4), and at least PREFIX_MIN_CHARS. */
const PREFIX_CHARS_PER_TOKEN = 8;
const PREFIX_MIN_CHARS = 256;
const PREFIX_GROWTH = 4;

/** A character that belongs with the one before it: a low surrogate, a combining mark, a joiner, a variation selector. */
const JOINS_PREVIOUS = /[\uDC00-\uDFFF\p{M}\u200C\u200D]/u;

/** The added tokens' texts longer than one character (a cut can fall inside only those). */
function addedTokenContents(tokenizerJson: JsonObject): string[] {
  const added = tokenizerJson['added_tokens'];
  if (!Array.isArray(added)) return [];
  return added.flatMap((token) => {
    const content = (token as JsonObject | null)?.['content'];
    return typeof content === 'string' && content.length > 1 ? [content] : [];
  });
}

/** CJK ideographs outside the Basic Multilingual Plane, in the ranges the Rust BertNormalizer spaces (note 0x2B920, not 0x2B820). */
const ASTRAL_CJK = /([\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B920}-\u{2CEAF}\u{2F800}-\u{2FA1F}])/gu;

/**
 * Rewrites text so that `@huggingface/tokenizers` produces what the Rust `tokenizers` library (and so Python) does,
 * where the two differ: the JS BertNormalizer checks CJK ideographs one UTF-16 unit at a time and so never spaces
 * those outside the BMP, and `String.prototype.toLowerCase` turns a word-final Σ into ς where Rust, lowercasing
 * character by character, gives σ. Both rewrites leave the text unchanged for every other tokenizer step.
 */
function rustNormalizerAlignment(normalizer: unknown, preTokenizer: unknown, source: string): (text: string) => string {
  const steps: ((text: string) => string)[] = [];
  const charsmap = leadingPrecompiled(normalizer)?.['precompiled_charsmap'];
  if (typeof charsmap === 'string' && charsmap !== '') {
    let table: PrecompiledCharsmap;
    try {
      table = new PrecompiledCharsmap(charsmap);
    } catch (error) {
      throw new Error(`The tokenizer in ${source} could not be loaded: ${(error as Error).message}`);
    }
    steps.push((text) => table.normalize(text));
  }
  if (isBertNormalizer(normalizer) && normalizer['handle_chinese_chars'] === true) steps.push((text) => text.replace(ASTRAL_CJK, ' $1 '));
  if (lowercases(normalizer)) steps.push((text) => text.replaceAll('\u03A3', '\u03C3'));
  // Rust's WhitespaceSplit splits at U+0085 (char::is_whitespace); the library's /\s/ does not. A space splits alike.
  if (hasPreTokenizer(preTokenizer, 'WhitespaceSplit')) steps.push((text) => text.replaceAll('\u0085', ' '));
  return (text) => steps.reduce((current, step) => step(current), text);
}

function hasPreTokenizer(preTokenizer: unknown, type: string): boolean {
  if (typeof preTokenizer !== 'object' || preTokenizer === null) return false;
  const config = preTokenizer as JsonObject;
  if (config['type'] === type) return true;
  return config['type'] === 'Sequence' && Array.isArray(config['pretokenizers'])
    ? config['pretokenizers'].some((inner) => hasPreTokenizer(inner, type))
    : false;
}

/** The Precompiled normalizer that `normalizer` starts with (itself, or the first of a Sequence), if any. */
function leadingPrecompiled(normalizer: unknown): JsonObject | undefined {
  if (typeof normalizer !== 'object' || normalizer === null) return undefined;
  const config = normalizer as JsonObject;
  if (config['type'] === 'Precompiled') return config;
  const first = config['type'] === 'Sequence' && Array.isArray(config['normalizers']) ? (config['normalizers'][0] as unknown) : undefined;
  return typeof first === 'object' && first !== null && (first as JsonObject)['type'] === 'Precompiled' ? (first as JsonObject) : undefined;
}

/**
 * `normalizer` for `@huggingface/tokenizers`, less a leading Precompiled step: the library approximates SentencePiece's
 * table with NFKC, so EmbedTune applies the real table to the text first (rustNormalizerAlignment) and the library
 * runs the rest of the sequence.
 */
function withoutLeadingPrecompiled(normalizer: unknown): unknown {
  if (!leadingPrecompiled(normalizer)) return normalizer;
  const config = normalizer as JsonObject;
  if (config['type'] === 'Precompiled') return null;
  const rest = (config['normalizers'] as unknown[]).slice(1);
  return rest.length === 0 ? null : { ...config, normalizers: rest };
}

function isBertNormalizer(normalizer: unknown): normalizer is JsonObject {
  return typeof normalizer === 'object' && normalizer !== null && (normalizer as JsonObject)['type'] === 'BertNormalizer';
}

function lowercases(normalizer: unknown): boolean {
  if (typeof normalizer !== 'object' || normalizer === null) return false;
  const config = normalizer as JsonObject;
  if (config['type'] === 'Lowercase') return true;
  if (config['type'] === 'BertNormalizer') return config['lowercase'] === true;
  if (config['type'] === 'Sequence' && Array.isArray(config['normalizers'])) return config['normalizers'].some(lowercases);
  return false;
}

/**
 * `transformers`' BertTokenizerFast rebuilds the BertNormalizer when tokenizer_config.json disagrees with
 * tokenizer.json about lowercasing, accents or CJK spacing, so tokenizer_config.json wins; we do the same.
 */
function applyLowercaseSetting(tokenizerJson: JsonObject, tokenizerConfig: JsonObject): JsonObject {
  const normalizer = tokenizerJson['normalizer'] as JsonObject | null | undefined;
  const lowercase = tokenizerConfig['do_lower_case'];
  if (normalizer?.['type'] !== 'BertNormalizer' || typeof lowercase !== 'boolean') return tokenizerJson;
  const stripAccents = tokenizerConfig['strip_accents'] ?? null;
  const chineseChars = tokenizerConfig['tokenize_chinese_chars'] ?? true;
  const current = [normalizer['lowercase'] ?? true, normalizer['strip_accents'] ?? null, normalizer['handle_chinese_chars'] ?? true];
  if (current[0] === lowercase && current[1] === stripAccents && current[2] === chineseChars) return tokenizerJson;
  return { ...tokenizerJson, normalizer: { ...normalizer, lowercase, strip_accents: stripAccents, handle_chinese_chars: chineseChars } };
}

/** The tokenizer.json `transformers`' BertConverter makes from a vocab.txt, honouring tokenizer_config.json's settings. */
function bertTokenizerJsonFromVocab(vocab: readonly string[], tokenizerConfig: JsonObject, source: string): JsonObject {
  const token = (role: SpecialTokenRole): string => specialToken(tokenizerConfig, role) ?? BERT_SPECIAL_TOKENS[role];
  const ids = new Map(vocab.map((entry, id) => [entry, id] as const));
  for (const role of ['cls_token', 'sep_token', 'unk_token'] as const) {
    if (!ids.has(token(role))) throw new Error(`${source} has no ${token(role)} token, which a BERT tokenizer needs as its ${role}.`);
  }
  const cls = token('cls_token');
  const sep = token('sep_token');
  const specials = [...new Set(SPECIAL_TOKEN_ROLES.map(token))].filter((entry) => ids.has(entry)).sort((a, b) => ids.get(a)! - ids.get(b)!);
  const specialItem = (content: string, typeId: number) => ({ SpecialToken: { id: content, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content) => ({
      id: ids.get(content)!,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: tokenizerConfig['tokenize_chinese_chars'] ?? true,
      strip_accents: tokenizerConfig['strip_accents'] ?? null,
      lowercase: tokenizerConfig['do_lower_case'] ?? true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [specialItem(cls, 0), { Sequence: { id: 'A', type_id: 0 } }, specialItem(sep, 0)],
      pair: [
        specialItem(cls, 0),
        { Sequence: { id: 'A', type_id: 0 } },
        specialItem(sep, 0),
        { Sequence: { id: 'B', type_id: 1 } },
        specialItem(sep, 1),
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [ids.get(cls)!], tokens: [cls] },
        [sep]: { id: sep, ids: [ids.get(sep)!], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: token('unk_token'),
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(ids),
    },
  };
}

/** One token per line, its id the line number, as `transformers.models.bert.load_vocab` reads it. */
function readVocabFile(path: string): string[] {
  const lines = readRegularFile(path, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => line.replace(/\r$/, ''));
}

/** A special token from tokenizer_config.json, written either as a string or as a serialized AddedToken. */
function specialToken(tokenizerConfig: JsonObject, role: SpecialTokenRole): string | undefined {
  const value = tokenizerConfig[role];
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as JsonObject)['content'] === 'string')
    return (value as JsonObject)['content'] as string;
  return undefined;
}

function findPadTokenId(tokenizer: Tokenizer, tokenizerJson: JsonObject, tokenizerConfig: JsonObject, source: string): number {
  const configured = specialToken(tokenizerConfig, 'pad_token');
  if (configured !== undefined) return requireId(tokenizer, configured, source, 'padding');
  const padding = tokenizerJson['padding'] as JsonObject | null | undefined;
  if (typeof padding?.['pad_id'] === 'number') return padding['pad_id'];
  const bertPad = tokenizer.token_to_id(BERT_SPECIAL_TOKENS.pad_token);
  if (bertPad !== undefined) return bertPad;
  throw new Error(`The tokenizer in ${source} has no padding token: set "pad_token" in its tokenizer_config.json.`);
}

function requireId(tokenizer: Tokenizer, token: string, source: string, role: string): number {
  const id = tokenizer.token_to_id(token);
  if (id === undefined)
    throw new Error(
      `The tokenizer in ${source} names ${JSON.stringify(token)} as its ${role} token, but its vocabulary has no such token.`,
    );
  return id;
}

function readJsonObject(path: string): JsonObject {
  const value = readRegularJson(path);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path} is not a JSON object.`);
  return value as JsonObject;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
