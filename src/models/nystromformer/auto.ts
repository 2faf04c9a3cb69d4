/** Architectures by the names config.json's `architectures` uses. */
import { lookup } from '../../io/lookup.js';
import { NystromformerForMaskedLM } from './masked-lm.js';
import { NystromformerModel } from './model.js';
import { NystromformerForMultipleChoice } from './multiple-choice.js';
import { FromPretrainedOptions, ModelConstructor, NystromformerPreTrainedModel, readConfigJSON, resolveModelFolder } from './pretrained.js';
import { NystromformerForQuestionAnswering } from './question-answering.js';
import { NystromformerForSequenceClassification } from './sequence-classification.js';
import { NystromformerForTokenClassification } from './token-classification.js';

export const ARCHITECTURES = {
  NystromformerModel,
  NystromformerForMaskedLM,
  NystromformerForSequenceClassification,
  NystromformerForMultipleChoice,
  NystromformerForTokenClassification,
  NystromformerForQuestionAnswering,
} as const;

export type ArchitectureName = keyof typeof ARCHITECTURES;

export function architectureClass(name: string): (typeof ARCHITECTURES)[ArchitectureName] {
  return lookup(ARCHITECTURES, name, 'architecture');
}

/** Loads a folder (or, in Node, a Hub id) as the architecture its config.json names (or `architecture` when given). */
export async function loadModel(idOrDir: string, options: FromPretrainedOptions & { architecture?: string } = {}): Promise<NystromformerPreTrainedModel> {
  const dir = await resolveModelFolder(idOrDir, options);
  let name = options.architecture;
  if (!name) {
    const names = (await readConfigJSON(dir)).architectures;
    name = Array.isArray(names) && typeof names[0] === 'string' ? names[0] : 'NystromformerModel';
  }
  const cls = architectureClass(name) as ModelConstructor<NystromformerPreTrainedModel> & typeof NystromformerPreTrainedModel;
  return cls.fromPretrained(dir, options);
}
