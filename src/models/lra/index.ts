/** The Long Range Arena encoder and classifier. */
export { LraEncoder, LraClassifier, parseAttention } from './encoder.js';
export type { LraConfig, LraInputs } from './encoder.js';
