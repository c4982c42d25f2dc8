import { Script, createContext } from 'node:vm';
import type { Tokenizer } from '@huggingface/tokenizers';

/**
 * How long tokenizing one (already truncated) text may take when tokenizer.json brings regular expressions of its
 * own. Real tokenizers take well under a millisecond per row; a pattern with catastrophic backtracking such as
 * `(a+)+$` takes forever on a 41-character row, and a model fetched by hub id could carry one.
 */
export const TOKENIZE_TIME_LIMIT_MS = 1000;

/**
 * The library's tokenization, without special tokens. When tokenizer.json holds a `Regex` pattern (a Split
 * pre-tokenizer, a Replace normalizer…), each call runs under a V8 execution timeout, which interrupts even a
 * regular expression mid-match; a tokenizer built only from fixed rules (BERT's) runs directly, as the timeout
 * costs about 50 µs a call.
 */
export function boundedTokenize(tokenizer: Tokenizer, tokenizerJson: unknown, source: string): (text: string) => string[] {
  const tokenize = (text: string): string[] => tokenizer.tokenize(text, { add_special_tokens: false });
  const patterns = regexPatterns(tokenizerJson);
  if (patterns.length === 0) return tokenize;
  const context = createContext({ tokenize, text: '' });
  const script = new Script('tokenize(text)');
  return (text) => {
    context['text'] = text;
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
