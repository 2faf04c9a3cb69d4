/**
 * config.json of an exported folder, as transformers.js reads it: the source's fields, with
 * `architectures` naming the exported class (`--architecture` may differ from the source's), the
 * attention the graph was exported with (nystromformer_attention, as save() records it), and
 * `transformers.js_config` naming what was written. transformers.js picks the graph file by dtype,
 * and in browsers its default is q8 (onnx/model_quantized.onnx); `dtype` says which graph the
 * export made the default ('fp32': onnx/model.onnx; 'q8' where the 8-bit graph was written too, or
 * alone), and use_external_data_format that onnx/model.onnx_data comes with it.
 */
import { withSavedAttention, type NystromformerPreTrainedModel } from '../models/index.js';
import type { WeightDType } from '../nn/index.js';

const TJS = 'transformers.js_config';

/** The exported config.json's text, from the source's (`source`, already known to parse as the model's config). */
export function exportedConfig(source: string, model: NystromformerPreTrainedModel, externalData: boolean, dtype: WeightDType = 'fp32'): string {
  const config = JSON.parse(source) as Record<string, unknown>;
  const earlier = config[TJS];
  // what the source says for other keys (device, free dimensions…) is kept; what the files are is ours to say
  const { use_external_data_format: _stale, ...kept } = earlier !== null && typeof earlier === 'object' && !Array.isArray(earlier) ? earlier as Record<string, unknown> : {};
  const tjs = { ...kept, dtype, ...(externalData && { use_external_data_format: true }) };
  const out = withSavedAttention({ ...config, architectures: [model.architecture], [TJS]: tjs }, model.attentionSettings);
  return JSON.stringify(out, null, 2) + '\n';
}
