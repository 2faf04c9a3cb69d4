/**
 * The engine's view of its host (Node.js or a browser), chosen once when this module loads.
 *
 * Why not a static `import … from '#platform'`: browsers do not resolve package.json "imports",
 * so it would fail to link in an unbundled page and in module Web Workers (which have no import
 * maps). The browser platform is imported statically (it is host-neutral code); the Node one is
 * imported dynamically and only in Node, through `#platform`, so a bundler resolving it for
 * browsers picks platform.browser.js by the "default" condition and no node:* module or
 * onnxruntime-node reaches a browser bundle.
 *
 * The top-level await runs only in Node. In browsers no await is reached, so the engine's modules
 * finish evaluating within the task that loads them: a module worker that imports the engine and
 * then listens for 'message' does not miss messages posted to it at once (an await on a fetch here
 * would let them be dispatched before the listener exists).
 */
import { platform as browserPlatform } from './platform.browser.js';
import type { Platform } from './host.js';

const inNode = typeof process === 'object' && typeof process.versions?.node === 'string';

export const platform: Platform = inNode ? (await import('#platform')).platform : browserPlatform;
