/** The Hugging Face–compatible Nyströmformer family. */
export { parseConfig, configToJSON, numLabels, CONFIG_DEFAULTS } from './config.js';
export type { NystromformerConfig } from './config.js';
export type { AttentionMode, AttentionSettings } from './self-attention.js';
export { attentionPlan } from './attention-plan.js';
export type { AttentionPlan, NystromPlan } from './attention-plan.js';
export { NystromformerPreTrainedModel } from './pretrained.js';
export type { AttentionOptions, FromPretrainedOptions, LoadReport, Runtime, SaveOptions } from './pretrained.js';
export { withSavedAttention } from './saved-attention.js';
export type { SavedAttention } from './saved-attention.js';
export { NystromformerModel } from './model.js';
export type { NystromformerInputs, OutputOptions, BaseModelOutput, EncoderRuntime } from './model.js';
export type { HeadOutput } from './head-base.js';
export { NystromformerForMaskedLM } from './masked-lm.js';
export { NystromformerForSequenceClassification } from './sequence-classification.js';
export { NystromformerForMultipleChoice } from './multiple-choice.js';
export { NystromformerForTokenClassification } from './token-classification.js';
export { NystromformerForQuestionAnswering } from './question-answering.js';
export { ARCHITECTURES, architectureClass, loadModel } from './auto.js';
