import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bertPoolerWeightShapes, expectedBertWeightShapes, parseBertConfig, type BertConfig } from '../../src/trainer/model/bertConfig';
import { elementCount, hostTensor, type NamedTensors } from '../../src/trainer/model/namedTensors';
import { writeSafetensors } from '../../src/trainer/model/safetensors';

/**
 * A tiny random BERT written in the real on-disk format (config.json, model.safetensors, a WordPiece tokenizer.json
 * and vocab.txt), shaped like `hf-internal-testing/tiny-random-bert`. The files are written out here as the Python
 * libraries write them, independently of the code under test, so tests that load them check that code against the
 * format rather than against itself.
 */

export interface TinyBertOptions {
  layers?: number;
  hidden?: number;
  heads?: number;
  intermediate?: number;
  /** Words placed after the special tokens, instead of the built-in English list. */
  vocabWords?: string[];
  seed?: number;
  maxPositions?: number;
  /** Also write the sentence-transformers modules of all-MiniLM-L6-v2: mean pooling, then normalization. */
  withPoolingModules?: boolean;
}

export interface TinyBert {
  folder: string;
  config: BertConfig;
  /** Tokens by id, as in vocab.txt. */
  vocab: string[];
  /** What model.safetensors holds. */
  weights: NamedTensors;
}

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

const ENGLISH_WORDS = `the of and to a in is it you that he was for on are with as his they be at one have this from or had by
not word but what some we can out other were all there when up use your how said an each she which do their time if
will way about many then them write would like so these her long make thing see him two has look more day could go come
did number sound no most people my over know water than call first who may down side been now find any new work part
take get place made live where after back little only round man year came show every good me give our under name very
through just form sentence great think say help low line differ turn cause much mean before move right boy old too same
tell does set three want air well also play small end put home read hand port large spell add even land here must big
high such follow act why ask men change went light kind off need house picture try us again animal point mother world
near build self earth father head stand own page should country found answer school grow study still learn plant cover
food sun four between state keep eye never last let thought city tree cross farm hard start might story saw far sea draw
left late run while press close night real life few north open seem together next white children begin got walk example
ease paper group always music those both mark often letter until mile river car feet care second book carry took science
eat room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl
usual young ready above ever red list though feel talk bird soon body dog family direct pose leave song measure door
product black short numeral class wind question happen complete ship area half rock order fire south problem piece told
knew pass since top whole king space heard best hour better true during hundred five remember step early hold west
ground interest reach fast verb sing listen six table travel less morning ten simple several toward war lay against
pattern slow center love person money serve appear road map rain rule govern pull cold notice voice unit power town
fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest correct able pound done
beauty drive stood contain front teach week final gave green oh quick develop ocean warm free minute strong special mind
behind clear tail produce fact street inch multiply nothing course stay wheel full force blue object decide surface deep
moon island foot system busy test record boat common gold possible plane stead dry wonder laugh thousand ago ran check
game shape equate hot miss brought heat snow tire bring yes distant fill east paint language among hello brown fox jump
lazy cafe naive model train embed token search query document answer match vector`
  .split(/\s+/)
  .filter(Boolean);

const SUFFIXES = [
  '##s',
  '##es',
  '##ed',
  '##ing',
  '##ly',
  '##er',
  '##est',
  '##ness',
  '##tion',
  '##able',
  '##ment',
  '##ful',
  '##less',
  '##y',
];
const LETTERS_AND_DIGITS = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
const PUNCTUATION = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];

/** The vocabulary: specials, the words, then every letter and digit alone and as a `##` piece, so any ASCII text tokenizes without [UNK]. */
export function tinyVocabulary(words: readonly string[] = ENGLISH_WORDS): string[] {
  const ordered = [
    ...SPECIAL_TOKENS,
    ...words,
    ...SUFFIXES,
    ...LETTERS_AND_DIGITS,
    ...PUNCTUATION,
    ...LETTERS_AND_DIGITS.map((c) => `##${c}`),
  ];
  return [...new Set(ordered)];
}

export function buildTinyBert(dir: string, options: TinyBertOptions = {}): TinyBert {
  const { layers = 2, hidden = 32, heads = 4, intermediate = 64, seed = 1, maxPositions = 64, withPoolingModules = false } = options;
  const vocab = tinyVocabulary(options.vocabWords);
  mkdirSync(dir, { recursive: true });

  const configJson = {
    architectures: ['BertModel'],
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: hidden,
    initializer_range: 0.02,
    intermediate_size: intermediate,
    layer_norm_eps: 1e-12,
    max_position_embeddings: maxPositions,
    model_type: 'bert',
    num_attention_heads: heads,
    num_hidden_layers: layers,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    transformers_version: '4.41.2',
    type_vocab_size: 2,
    use_cache: true,
    vocab_size: vocab.length,
  };
  writeJson(join(dir, 'config.json'), configJson);
  const config = parseBertConfig(configJson, dir);

  const weights = randomWeights(config, seed);
  writeSafetensors(join(dir, 'model.safetensors'), weights, { format: 'pt' });
  writeTokenizerFiles(dir, vocab, maxPositions);
  if (withPoolingModules) writeMiniLmModules(dir, hidden, maxPositions);

  return { folder: dir, config, vocab, weights };
}

/** LayerNorm scales 1 and shifts 0, as a fresh `BertModel` has; every other weight N(0, 0.02²) from the seed. */
function randomWeights(config: BertConfig, seed: number): NamedTensors {
  const normal = seededNormal(seed);
  const weights: NamedTensors = new Map();
  for (const [name, shape] of [...expectedBertWeightShapes(config), ...bertPoolerWeightShapes(config)]) {
    const data = new Float32Array(elementCount(shape));
    if (name.endsWith('LayerNorm.weight')) data.fill(1);
    else if (!name.endsWith('LayerNorm.bias')) for (let i = 0; i < data.length; i++) data[i] = normal() * 0.02;
    weights.set(name, hostTensor(shape, data));
  }
  return weights;
}

/** mulberry32 for uniforms and Box–Muller for normals: small, seedable and the same on every platform. */
function seededNormal(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** tokenizer.json as `transformers`' BertConverter writes it, plus the files a slow BertTokenizer reads. */
function writeTokenizerFiles(dir: string, vocab: readonly string[], maxPositions: number): void {
  const ids = (token: string): number => vocab.indexOf(token);
  const special = (token: string, typeId: number) => ({ SpecialToken: { id: token, type_id: typeId } });
  writeJson(join(dir, 'tokenizer.json'), {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((token) => ({
      id: ids(token),
      content: token,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]', 0)],
      pair: [
        special('[CLS]', 0),
        { Sequence: { id: 'A', type_id: 0 } },
        special('[SEP]', 0),
        { Sequence: { id: 'B', type_id: 1 } },
        special('[SEP]', 1),
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [ids('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [ids('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((token, id) => [token, id])),
    },
  });
  writeFileSync(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  writeJson(join(dir, 'tokenizer_config.json'), {
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_basic_tokenize: true,
    do_lower_case: true,
    mask_token: '[MASK]',
    model_max_length: maxPositions,
    never_split: null,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  });
  writeJson(join(dir, 'special_tokens_map.json'), {
    cls_token: '[CLS]',
    mask_token: '[MASK]',
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    unk_token: '[UNK]',
  });
}

function writeMiniLmModules(dir: string, hidden: number, maxSeqLength: number): void {
  writeJson(join(dir, 'modules.json'), [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
  ]);
  writeJson(join(dir, 'sentence_bert_config.json'), { max_seq_length: maxSeqLength, do_lower_case: false });
  writeJson(join(dir, 'config_sentence_transformers.json'), {
    __version__: { sentence_transformers: '2.0.0' },
    prompts: {},
    default_prompt_name: null,
  });
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  writeJson(join(dir, '1_Pooling', 'config.json'), {
    word_embedding_dimension: hidden,
    pooling_mode_cls_token: false,
    pooling_mode_mean_tokens: true,
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
  });
  mkdirSync(join(dir, '2_Normalize'), { recursive: true });
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
