/** `nystromformer export --model DIR --out DIR2`: a model folder as ONNX, in the layout transformers.js reads. */
import { exportFolder } from '../runtime/index.js';
import type { AttentionMode } from '../models/index.js';
import type { WeightDType } from '../nn/index.js';

export interface ExportCommandOptions {
  model: string;
  out: string;
  attention?: AttentionMode;
  landmarks?: number;
  architecture?: string;
  externalData?: boolean;
  dtype?: WeightDType;
  json?: boolean;
}

export async function exportCommand(options: ExportCommandOptions): Promise<void> {
  if (options.landmarks !== undefined && options.attention !== 'nystrom') {
    throw new Error(`--landmarks applies to --attention nystrom only ('hf' uses the config's num_landmarks)`);
  }
  const started = performance.now();
  const report = await exportFolder(options.model, options.out, {
    attention: options.attention, numLandmarks: options.landmarks, architecture: options.architecture,
    externalData: options.externalData, dtype: options.dtype, onWarning: (m) => console.error(`warning: ${m}`),
  });
  const seconds = (performance.now() - started) / 1000;
  if (options.json) {
    const { architecture, files, weightBytes, quantizedWeightBytes, externalData, outputs } = report;
    console.log(JSON.stringify({
      model: options.model, out: options.out, architecture, files, outputs, weight_bytes: weightBytes,
      ...(quantizedWeightBytes !== undefined && { quantized_weight_bytes: quantizedWeightBytes }), external_data: externalData,
      seconds: Number(seconds.toFixed(2)),
      // the camelCase spellings of earlier versions, which scripts (and test/onnx-export-folder.test.ts) read
      weightBytes, externalData,
    }));
    return;
  }
  const size = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} kB`);
  const q8 = report.quantizedWeightBytes === undefined ? '' : `, ${size(report.quantizedWeightBytes)} in 8 bits`;
  console.log(`${report.architecture} (${size(report.weightBytes)} of weights${q8}${report.externalData ? ', as external data' : ''}; outputs ${report.outputs.join(', ')}) → ${options.out}`);
  for (const f of report.files) console.log(`  ${f}`);
  console.error(`exported in ${seconds.toFixed(2)} s`);
}
