/**
 * Tokenizers of Hugging Face checkpoints: a thin layer over @huggingface/tokenizers (pure JS, no Node
 * built-ins), which normalizes, segments and decodes, adding what it lacks: the special tokens
 * resolved the way transformers does it, truncation, padding, batches, and token type ids for pairs.
 *
 * The Nyströmformer checkpoints (uw-madison/nystromformer-512, …) use ALBERT's lower-cased
 * SentencePiece Unigram tokenizer: [CLS] A [SEP] (B [SEP]), pad <pad>, mask [MASK]. Only the
 * `tokenizer.json` ("fast") format is read. Node's fs is imported lazily, inside fromDir, so this
 * module also loads in browsers (use fromJSON there).
 *
 * Regular expressions in tokenizer.json (Replace and Split patterns of the normalizer, pre-tokenizer
 * and decoder) run inside the library, where nothing can interrupt them: a pattern that backtracks
 * catastrophically, such as (a+)+$, hangs on a few dozen characters. A tokenizer whose patterns hold
 * such a construct (nested quantifiers, or a repeated group whose alternatives overlap; see
 * regex-safety.ts) is refused as it loads, naming the pattern. Folders from untrusted sources may
 * still hold patterns that are slow (polynomial) on long inputs: bound the text you pass them.
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { exponentialBacktracking } from './regex-safety.js';

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

export interface EncodeOptions {
  /** Add [CLS]/[SEP] (the tokenizer's post-processing template); default true. */
  addSpecialTokens?: boolean;
  /** Length limit, special tokens included (for padding 'max_length' too); default modelMaxLength. */
  maxLength?: number;
  /** true = 'longest_first'. Defaults to true when maxLength is given, as in transformers. */
  truncation?: boolean | TruncationStrategy;
  /** true = 'longest'. Default false for encode, 'longest' for encodeBatch. Pads on the right. */
  padding?: boolean | 'longest' | 'max_length';
  /** Round the padded length up to a multiple of this. */
  padToMultipleOf?: number;
}

export interface Encoding {
  inputIds: number[];
  attentionMask: number[];
  tokenTypeIds: number[];
  tokens: string[];
}

export interface BatchEncoding {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
}

export interface TextInput {
  text: string;
  pair?: string;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  /** transformers' " ." → "." clean-up; default: tokenizer_config.json's, else true. */
  cleanUpTokenizationSpaces?: boolean;
}

type Json = Record<string, unknown>;
/** A post-processing template: `'A'`/`'B'` stand for the sequences, numbers are special token ids. */
type Template = { item: 'A' | 'B' | number; typeId: number }[];
type SpecialName = 'cls' | 'sep' | 'pad' | 'unk' | 'mask';

const SPECIALS: SpecialName[] = ['cls', 'sep', 'pad', 'unk', 'mask'];
/** Usual spellings, for tokenizer.json files that come without a tokenizer_config.json. */
const USUAL: Record<SpecialName, string[]> = {
  cls: ['[CLS]', '<s>', '<cls>'], sep: ['[SEP]', '</s>', '<sep>'], pad: ['<pad>', '[PAD]'],
  unk: ['<unk>', '[UNK]'], mask: ['[MASK]', '<mask>'],
};
/** transformers writes int(1e30) as model_max_length when a checkpoint sets none. */
const NO_LIMIT = 1e18;
/** Placeholders no special token can equal: they mark where the sequences go in a template. */
const SEQ_A = '\u0000A';
const SEQ_B = '\u0000B';

const isJson = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
/** A special token as transformers stores it: a string, or an AddedToken object `{content, …}`. */
const tokenName = (x: unknown): string | undefined => (typeof x === 'string' ? x : isJson(x) && typeof x.content === 'string' ? x.content : undefined);

export class Tokenizer {
  readonly clsToken: string;
  readonly sepToken: string;
  readonly padToken: string;
  readonly unkToken: string;
  readonly maskToken: string;
  readonly clsTokenId: number;
  readonly sepTokenId: number;
  readonly padTokenId: number;
  readonly unkTokenId: number;
  readonly maskTokenId: number;
  /** Rows an embedding table needs: the highest id + 1. */
  readonly vocabSize: number;
  /** tokenizer_config.json's model_max_length; Infinity when unset. */
  readonly modelMaxLength: number;
  #lib: HfTokenizer;
  #source: string;
  /** The files it was made from, as given, for save. */
  #files: Record<string, object | undefined>;
  #single: Template;
  #pair: Template;

  /**
   * A folder's tokenizer, or in Node a Hub repository's by id (`owner/name`, fetched into
   * huggingface_hub's cache; a folder that exists wins over an id).
   */
  static async fromPretrained(idOrDir: string, options: import('./hub/settings.js').HubOptions = {}): Promise<Tokenizer> {
    const { resolveModelDir } = await import('./hub/model-files.js');
    return Tokenizer.fromDir(await resolveModelDir(idOrDir, { ...options, files: 'tokenizer' }));
  }

  /** Reads `dir`/tokenizer.json and, when present, tokenizer_config.json and special_tokens_map.json. */
  static async fromDir(dir: string): Promise<Tokenizer> {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    await (await import('./folder-check.js')).assertFolder(dir);
    const read = async (name: string): Promise<Json | undefined> => {
      const path = join(dir, name);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return undefined;
        throw new Error(`${path}: ${(err as Error).message}`, { cause: err });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
      }
      if (!isJson(parsed)) throw new Error(`${path}: expected a JSON object, got ${Array.isArray(parsed) ? 'an array' : String(parsed)}`);
      return parsed;
    };
    const tokenizerJson = await read('tokenizer.json');
    if (!tokenizerJson) {
      throw new Error(
        `${dir}: no tokenizer.json; a tokenizer.json is needed (folders with only a SentencePiece spiece.model, ` +
        `"slow" tokenizers, are not supported: convert once with transformers, ` +
        `AutoTokenizer.from_pretrained(dir).save_pretrained(dir))`,
      );
    }
    return new Tokenizer(tokenizerJson, await read('tokenizer_config.json'), await read('special_tokens_map.json'), dir);
  }

  /** From already parsed files (in browsers: fetched JSON). */
  static fromJSON(tokenizerJson: object, tokenizerConfig?: object, specialTokensMap?: object): Tokenizer {
    return new Tokenizer(tokenizerJson, tokenizerConfig, specialTokensMap, 'tokenizer.json');
  }

  private constructor(tokenizerJson: object, tokenizerConfig: object | undefined, specialTokensMap: object | undefined, source: string) {
    this.#source = source;
    this.#files = { 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': tokenizerConfig, 'special_tokens_map.json': specialTokensMap };
    if (!isJson(tokenizerJson) || !isJson(tokenizerJson.model)) this.#fail(`tokenizer.json has no "model" object (is this a tokenizer.json?)`);
    for (const section of ['normalizer', 'pre_tokenizer', 'decoder']) this.#refuseExponentialPatterns(tokenizerJson[section], section);
    const config = isJson(tokenizerConfig) ? tokenizerConfig : {};
    const map = isJson(specialTokensMap) ? specialTokensMap : {};
    // The library insists on every top-level key, and wants plain strings for the special tokens.
    const json = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...tokenizerJson };
    const libConfig: Json = { ...config, ...map };
    for (const [key, value] of Object.entries(libConfig)) {
      if (key.endsWith('_token') && tokenName(value) !== undefined) libConfig[key] = tokenName(value);
    }
    if (Array.isArray(libConfig.additional_special_tokens)) {
      libConfig.additional_special_tokens = libConfig.additional_special_tokens.map(tokenName).filter((t) => t !== undefined);
    }
    try {
      this.#lib = new HfTokenizer(json, libConfig);
    } catch (err) {
      this.#fail(`@huggingface/tokenizers cannot load it: ${(err as Error).message}`, err);
    }
    const model: { vocab: string[]; unk_token?: string } | null = this.#lib.model;
    this.vocabSize = model?.vocab.length ?? 0;
    const maxLen = config.model_max_length;
    this.modelMaxLength = typeof maxLen === 'number' && maxLen > 0 && maxLen < NO_LIMIT ? maxLen : Infinity;
    this.#single = this.#template(false);
    this.#pair = this.#template(true);

    // transformers: special_tokens_map.json over tokenizer_config.json; then what tokenizer.json implies.
    const templateSpecials = this.#single.filter((t) => typeof t.item === 'number').map((t) => this.idToToken(t.item as number));
    const padding = isJson(tokenizerJson.padding) ? tokenizerJson.padding.pad_token : undefined;
    const implied: Record<SpecialName, unknown> = {
      cls: templateSpecials[0], sep: templateSpecials.at(-1), pad: padding, unk: model?.unk_token, mask: undefined,
    };
    const resolved = {} as Record<SpecialName, [string, number]>;
    for (const name of SPECIALS) {
      const key = `${name}_token`;
      let from = 'special_tokens_map.json';
      let token = tokenName(map[key]);
      if (token === undefined) [from, token] = ['tokenizer_config.json', tokenName(config[key])];
      if (token === undefined) [from, token] = ['tokenizer.json', tokenName(implied[name]) ?? USUAL[name].find((t) => this.tokenToId(t) !== undefined)];
      if (token === undefined) this.#fail(`cannot tell which token is the ${name} token: set ${key} in tokenizer_config.json`);
      const id = this.tokenToId(token);
      if (id === undefined) this.#fail(`${from} names ${key} '${token}', which is not in the vocabulary`);
      resolved[name] = [token, id];
    }
    [this.clsToken, this.clsTokenId] = resolved.cls;
    [this.sepToken, this.sepTokenId] = resolved.sep;
    [this.padToken, this.padTokenId] = resolved.pad;
    [this.unkToken, this.unkTokenId] = resolved.unk;
    [this.maskToken, this.maskTokenId] = resolved.mask;
  }

  /**
   * Writes tokenizer.json, and tokenizer_config.json and special_tokens_map.json when it was made
   * with them, into `dir` (Node only), so that a saved model folder is complete.
   */
  async save(dir: string): Promise<void> {
    const { mkdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { writeFileAtomicSync } = await import('./atomic.js');
    mkdirSync(dir, { recursive: true });
    for (const [name, json] of Object.entries(this.#files)) {
      if (json !== undefined) writeFileAtomicSync(join(dir, name), JSON.stringify(json, null, 2) + '\n');
    }
  }

  tokenToId(token: string): number | undefined {
    return this.#lib.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.#lib.id_to_token(id);
  }

  /** One text or text pair. Token type ids: 0 for the first text and its specials, 1 for the pair's. */
  encode(text: string | TextInput, options?: EncodeOptions): Encoding;
  encode(text: string, pair: string, options?: EncodeOptions): Encoding;
  encode(input: string | TextInput, pairOrOptions?: string | EncodeOptions, maybeOptions?: EncodeOptions): Encoding {
    const text: unknown = isJson(input) ? input.text : input;
    const pair: unknown = isJson(input) ? input.pair : typeof pairOrOptions === 'string' ? pairOrOptions : undefined;
    const options = (typeof pairOrOptions === 'string' ? maybeOptions : pairOrOptions) ?? {};
    if (typeof text !== 'string') this.#fail(`encode: the text must be a string, got ${typeof text}`);
    if (pair !== undefined && typeof pair !== 'string') this.#fail(`encode: the pair must be a string, got ${typeof pair}`);
    const encoded = this.#encodeOne(text, pair, options);
    const padding = options.padding === true ? 'longest' : options.padding ?? false;
    return padding === false ? encoded : this.#pad([encoded], padding, options)[0];
  }

  /** Texts or [text, pair] tuples, padded to the longest by default. */
  encodeBatch(inputs: readonly (string | readonly [string, string] | TextInput)[], options: EncodeOptions = {}): BatchEncoding {
    if (!Array.isArray(inputs)) this.#fail(`encodeBatch: expected an array of texts, got ${typeof inputs}`);
    const padding = options.padding === true ? 'longest' : options.padding ?? 'longest';
    const encoded = inputs.map((x, i) => {
      const [text, pair] = typeof x === 'string' ? [x, undefined] : Array.isArray(x) ? x : [(x as TextInput).text, (x as TextInput).pair];
      if (typeof text !== 'string' || (pair !== undefined && typeof pair !== 'string')) {
        this.#fail(`encodeBatch: input ${i} is not a string, a [text, pair] tuple or {text, pair}`);
      }
      return this.#encodeOne(text, pair, options);
    });
    const out = padding === false ? encoded : this.#pad(encoded, padding, options);
    return { inputIds: out.map((e) => e.inputIds), attentionMask: out.map((e) => e.attentionMask), tokenTypeIds: out.map((e) => e.tokenTypeIds) };
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) this.#fail(`decode: token id ${id} is not in 0..${this.vocabSize - 1}`);
    }
    if (ids.length === 0) return ''; // the library refuses empty lists
    return this.#lib.decode([...ids], {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: options.cleanUpTokenizationSpaces,
    });
  }

  #encodeOne(text: string, pair: string | undefined, options: EncodeOptions): Encoding {
    const addSpecial = options.addSpecialTokens ?? true;
    const a = this.#lib.encode(text, { add_special_tokens: false });
    const b = pair === undefined ? undefined : this.#lib.encode(pair, { add_special_tokens: false });
    const template = b ? this.#pair : this.#single;
    const nSpecial = addSpecial ? template.filter((t) => typeof t.item === 'number').length : 0;
    const total = a.ids.length + (b?.ids.length ?? 0) + nSpecial;

    const maxLength = options.maxLength ?? this.modelMaxLength;
    if (options.maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength > 0)) this.#fail(`maxLength must be a positive integer, got ${options.maxLength}`);
    const truncation = options.truncation ?? options.maxLength !== undefined;
    if (truncation !== false && truncation !== true && !['longest_first', 'only_first', 'only_second'].includes(truncation)) {
      this.#fail(`truncation must be true, false, 'longest_first', 'only_first' or 'only_second', got ${String(truncation)}`);
    }
    let [nA, nB] = [a.ids.length, b?.ids.length ?? 0];
    if (total > maxLength) {
      if (truncation === false) {
        if (options.maxLength !== undefined) {
          this.#fail(`the input is ${total} tokens (${nSpecial} of them special), longer than maxLength ${maxLength}; pass truncation: true to cut it`);
        }
      } else {
        // Truncate the content, so that the special tokens survive (as transformers' fast tokenizers do).
        const budget = maxLength - nSpecial;
        if (budget < 0) this.#fail(`maxLength ${maxLength} leaves no room for the ${nSpecial} special tokens`);
        [nA, nB] = this.#truncate(nA, b ? nB : undefined, budget, truncation === true ? 'longest_first' : truncation);
      }
    }
    const ids = { A: a.ids.slice(0, nA), B: b ? b.ids.slice(0, nB) : [] };
    const tokens = { A: a.tokens.slice(0, nA), B: b ? b.tokens.slice(0, nB) : [] };
    const out: Encoding = { inputIds: [], attentionMask: [], tokenTypeIds: [], tokens: [] };
    for (const { item, typeId } of addSpecial ? template : b ? [{ item: 'A' as const, typeId: 0 }, { item: 'B' as const, typeId: 1 }] : [{ item: 'A' as const, typeId: 0 }]) {
      const [itemIds, itemTokens] = typeof item === 'number' ? [[item], [this.idToToken(item) ?? '']] : [ids[item], tokens[item]];
      out.inputIds.push(...itemIds);
      out.tokens.push(...itemTokens);
      for (let i = 0; i < itemIds.length; i++) out.tokenTypeIds.push(typeId);
    }
    out.attentionMask = out.inputIds.map(() => 1);
    return out;
  }

  /**
   * Content lengths after cutting to `budget` tokens. longest_first is the rule of Hugging Face's fast
   * tokenizers: the shorter sequence stays whole if the longer can absorb the cut; otherwise both get
   * budget/2 and the longer one the odd token.
   */
  #truncate(nA: number, nB: number | undefined, budget: number, strategy: TruncationStrategy): [number, number] {
    const toRemove = nA + (nB ?? 0) - budget;
    if (strategy === 'longest_first') {
      if (nB === undefined) return [budget, 0];
      const short = Math.min(nA, nB);
      let [s, l] = short > budget ? [short, short] : [short, Math.max(short, budget - short)];
      if (s + l > budget) [s, l] = [Math.floor(budget / 2), Math.floor(budget / 2) + (budget % 2)];
      return nA <= nB ? [s, l] : [l, s];
    }
    if (strategy === 'only_second' && nB === undefined) this.#fail(`truncation 'only_second' needs a text pair`);
    const [which, n] = strategy === 'only_first' ? ['first', nA] : ['second', nB ?? 0];
    if (n <= toRemove) {
      this.#fail(`truncation '${strategy}': the ${which} sequence has ${n} tokens, but ${toRemove} must go (room for ${budget} besides the special tokens); use 'longest_first'`);
    }
    return strategy === 'only_first' ? [nA - toRemove, nB ?? 0] : [nA, (nB ?? 0) - toRemove];
  }

  /** Pads on the right with padTokenId, attention mask 0 and token type 0. */
  #pad(encoded: Encoding[], padding: 'longest' | 'max_length', options: EncodeOptions): Encoding[] {
    if (padding !== 'longest' && padding !== 'max_length') this.#fail(`padding must be false, true, 'longest' or 'max_length', got ${String(padding)}`);
    let target = Math.max(0, ...encoded.map((e) => e.inputIds.length));
    if (padding === 'max_length') {
      target = options.maxLength ?? this.modelMaxLength;
      if (!Number.isFinite(target)) this.#fail(`padding 'max_length' needs maxLength (tokenizer_config.json sets no model_max_length)`);
    }
    const multiple = options.padToMultipleOf;
    if (multiple !== undefined) {
      if (!(Number.isInteger(multiple) && multiple > 0)) this.#fail(`padToMultipleOf must be a positive integer, got ${multiple}`);
      target = Math.ceil(target / multiple) * multiple;
    }
    return encoded.map((e) => {
      const n = Math.max(0, target - e.inputIds.length);
      return {
        inputIds: [...e.inputIds, ...new Array<number>(n).fill(this.padTokenId)],
        attentionMask: [...e.attentionMask, ...new Array<number>(n).fill(0)],
        tokenTypeIds: [...e.tokenTypeIds, ...new Array<number>(n).fill(0)],
        tokens: [...e.tokens, ...new Array<string>(n).fill(this.padToken)],
      };
    });
  }

  /**
   * The post-processor's template, found by running it on placeholders: this covers every kind the
   * library knows (TemplateProcessing, BertProcessing, RobertaProcessing, Sequence, none).
   */
  #template(pair: boolean): Template {
    const post = this.#lib.post_processor;
    if (!post) return pair ? [{ item: 'A', typeId: 0 }, { item: 'B', typeId: 1 }] : [{ item: 'A', typeId: 0 }];
    const out: { tokens: string[]; token_type_ids?: number[] } = post.post_process([SEQ_A], pair ? [SEQ_B] : null, true);
    const afterB = out.tokens.indexOf(SEQ_B);
    return out.tokens.map((token, i) => {
      const typeId = out.token_type_ids?.[i] ?? (afterB >= 0 && i >= afterB ? 1 : 0);
      if (token === SEQ_A) return { item: 'A', typeId };
      if (token === SEQ_B) return { item: 'B', typeId };
      const id = this.tokenToId(token);
      if (id === undefined) this.#fail(`the post_processor adds '${token}', which is not in the vocabulary`);
      return { item: id, typeId };
    });
  }

  /** Refuses patterns that can backtrack exponentially, wherever they sit in a section (Sequences nest them). */
  #refuseExponentialPatterns(value: unknown, path: string): void {
    if (Array.isArray(value)) return value.forEach((v, i) => this.#refuseExponentialPatterns(v, `${path}[${i}]`));
    if (!isJson(value)) return;
    const regex = isJson(value.pattern) ? value.pattern.Regex : undefined;
    const found = typeof regex === 'string' ? exponentialBacktracking(regex) : undefined;
    if (found) {
      const what = found.kind === 'nested quantifiers' ? 'has nested quantifiers' : 'repeats alternatives that can match the same text';
      this.#fail(`tokenizer.json's ${path} pattern '${regex}' ${what} ('${found.construct}') that can take exponential time on some inputs; `
        + 'refusing to load it (the tokenizer library runs its patterns uninterruptibly)');
    }
    for (const [key, child] of Object.entries(value)) if (key !== 'pattern') this.#refuseExponentialPatterns(child, `${path}.${key}`);
  }

  #fail(message: string, cause?: unknown): never {
    throw new Error(`${this.#source}: ${message}`, cause === undefined ? undefined : { cause });
  }
}
