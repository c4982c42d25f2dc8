import { Script, createContext } from 'node:vm';
import type { Tokenizer } from '@huggingface/tokenizers';

/**
 * How long tokenizing one (already truncated) text may take when tokenizer.json brings regular expressions of its
 * own. Real tokenizers take well under a millisecond per row; a pattern with catastrophic backtracking such as
 * `(a+)+$` takes forever on a 41-character row, and a model fetched by hub id could carry one.
 */
export const TOKENIZE_TIME_LIMIT_MS = 1000;

/** The library's tokenization, without special tokens. */
export interface BoundedTokenizer {
  /** The tokens of the whole text. */
  all(text: string): string[];
  /**
   * The tokens of a text that was cut short, less those of its last pre-token (word), which the cut may have split:
   * these are exactly the leading tokens of the text before the cut, since each pre-token is tokenized on its own.
   */
  beforeLastWord(text: string): string[];
}

/**
 * When tokenizer.json holds a `Regex` pattern (a Split pre-tokenizer, a Replace normalizer…), each call runs under a
 * V8 execution timeout, which interrupts even a regular expression mid-match; a tokenizer built only from fixed
 * rules (BERT's) runs directly, as the timeout costs about 50 µs a call.
 */
export function boundedTokenize(tokenizer: Tokenizer, tokenizerJson: unknown, source: string): BoundedTokenizer {
  const tokenize = (text: string): string[] => tokenizer.tokenize(text, { add_special_tokens: false });
  const lastWordTokens = lastWordTokenCounter(tokenizer);
  const work = (text: string, cut: boolean): string[] => {
    const tokens = tokenize(text);
    return cut ? tokens.slice(0, Math.max(0, tokens.length - lastWordTokens(text))) : tokens;
  };
  const patterns = regexPatterns(tokenizerJson);
  if (patterns.length === 0) return { all: (text) => work(text, false), beforeLastWord: (text) => work(text, true) };
  const context = createContext({ work, text: '', cut: false });
  const script = new Script('work(text, cut)');
  const bounded = (text: string, cut: boolean): string[] => {
    context['text'] = text;
    context['cut'] = cut;
    try {
      return script.runInContext(context, { timeout: TOKENIZE_TIME_LIMIT_MS }) as string[];
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw error;
      throw new Error(
        `The tokenizer in ${source} took over ${TOKENIZE_TIME_LIMIT_MS} ms on one text of ${text.length} characters ("${text.slice(0, 40)}${text.length > 40 ? '…' : ''}"). ` +
          `Its tokenizer.json has the regular expression(s) ${patterns.map((pattern) => JSON.stringify(pattern)).join(', ')}; one of them backtracks catastrophically. Use a model whose tokenizer has no such pattern.`,
      );
    } finally {
      context['text'] = '';
    }
  };
  return { all: (text) => bounded(text, false), beforeLastWord: (text) => bounded(text, true) };
}

/**
 * How many tokens the last pre-token of a text gives, found as the library finds it: normalize, pre-tokenize, and
 * run the model on that word alone. Counting more than the library did (a fused unknown token) only drops more.
 */
function lastWordTokenCounter(tokenizer: Tokenizer): (text: string) => number {
  return (text) => {
    const normalized = tokenizer.normalizer ? tokenizer.normalizer(text) : text;
    const words = tokenizer.pre_tokenizer ? tokenizer.pre_tokenizer(normalized) : [normalized];
    const last = words.at(-1);
    return last === undefined || !tokenizer.model ? 0 : tokenizer.model([last]).length;
  };
}

/** Every `{"Regex": "…"}` anywhere in tokenizer.json, except inside the vocabulary. */
function regexPatterns(json: unknown): string[] {
  const found: string[] = [];
  const visit = (value: unknown, key: string): void => {
    if (key === 'vocab' || key === 'merges' || key === 'added_tokens' || typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      value.forEach((item) => visit(item, ''));
      return;
    }
    for (const [name, item] of Object.entries(value)) {
      if (name === 'Regex' && typeof item === 'string') found.push(item);
      else visit(item, name);
    }
  };
  visit(json, '');
  return found;
}
