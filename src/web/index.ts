/**
 * The browser entry (`nystromformer/web`): what works without a file system. The tokenizer imports
 * `@huggingface/tokenizers` by its bare name: a page maps it with an import map (see web/index.html),
 * a bundler resolves it. In a module Web Worker import core.ts instead and tokenize on the page.
 */
export * from './core.js';
export { Tokenizer } from '../io/tokenizer.js';
export type { Encoding, BatchEncoding, EncodeOptions as TokenizerEncodeOptions } from '../io/tokenizer.js';
export { fetchHubModel, WEB_HUB_CACHE } from './hub.js';
export type { WebHubOptions } from './hub.js';
