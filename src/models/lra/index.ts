/** The Long Range Arena encoder and classifier. */
export { LraEncoder, LraClassifier, parseAttention, LRA_CONV, LRA_NYSTROM } from './encoder.js';
export type { LraConfig, LraInputs } from './encoder.js';
