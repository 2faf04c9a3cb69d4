/**
 * The task heads as ONNX nodes on the encoder's last hidden state (B, n, h), with the output names
 * Hugging Face's ONNX exports use and transformers.js reads:
 *
 *   NystromformerModel                      last_hidden_state (B, n, h)
 *   NystromformerForMaskedLM                logits (B, n, vocab)
 *   NystromformerForSequenceClassification  logits (B, labels)
 *   NystromformerForTokenClassification     logits (B, n, labels)
 *   NystromformerForQuestionAnswering       start_logits, end_logits (B, n)
 *   NystromformerForMultipleChoice          logits (B, choices), inputs (B, choices, n)
 *
 * With the export option lastHiddenState, a head graph (but multiple choice's) also outputs
 * last_hidden_state, after the head's outputs.
 */
import {
  NystromformerForMaskedLM, NystromformerForMultipleChoice, NystromformerForQuestionAnswering,
  NystromformerForSequenceClassification, NystromformerForTokenClassification, NystromformerModel,
  numLabels, type NystromformerPreTrainedModel,
} from '../models/index.js';
import { activation, layerNorm, linear } from './export-layers.js';
import { attr, type Dim, type OnnxGraph } from './onnx-graph.js';

/** What the head needs from the graph's inputs: the declared ids (for the choices' shape) and the sequence dim. */
interface HeadContext { ids: string; seq: Dim }

interface Head {
  base: NystromformerModel;
  /** True when the inputs are (B, choices, n). */
  choices: boolean;
  /** Adds the head's nodes and declares the graph's outputs. */
  outputs(g: OnnxGraph, hidden: string, context: HeadContext): void;
}

/** The encoder's output as the graph output last_hidden_state (B, n, h). */
export const hiddenStateOutput = (g: OnnxGraph, hidden: string, seq: Dim, h: number) =>
  g.output(g.node('Identity', [hidden], {}, 'last_hidden_state'), 'float32', ['batch', seq, h]);

/** The hidden state of token 0 of each sequence: (B, n, h) → (B, h). */
const firstToken = (g: OnnxGraph, hidden: string) => g.node('Gather', [hidden, g.ints([0], [])], { axis: attr.int(1) }, 'first_token');

export function headOf(model: NystromformerPreTrainedModel): Head {
  const h = model.config.hidden_size;
  const eps = model.config.layer_norm_eps;
  const act = model.config.hidden_act;
  if (model instanceof NystromformerModel) {
    return {
      base: model, choices: false,
      outputs: (g, hidden, { seq }) => hiddenStateOutput(g, hidden, seq, h),
    };
  }
  if (model instanceof NystromformerForMaskedLM) {
    const { transform, decoder } = model.cls.predictions;
    return {
      base: model.nystromformer, choices: false,
      outputs: (g, hidden, { seq }) => {
        const x = layerNorm(g, transform.norm, activation(g, act, linear(g, transform.dense, hidden, 'mlm_transform')), eps, 'mlm_transform');
        g.output(g.node('Identity', [linear(g, decoder, x, 'mlm_decoder')], {}, 'logits'), 'float32', ['batch', seq, model.config.vocab_size]);
      },
    };
  }
  if (model instanceof NystromformerForSequenceClassification) {
    const { dense, outProj } = model.classifier;
    return {
      base: model.nystromformer, choices: false,
      outputs: (g, hidden) => {
        const x = activation(g, act, linear(g, dense, firstToken(g, hidden), 'classifier_dense'));
        g.output(g.node('Identity', [linear(g, outProj, x, 'classifier_out_proj')], {}, 'logits'), 'float32', ['batch', numLabels(model.config)]);
      },
    };
  }
  if (model instanceof NystromformerForTokenClassification) {
    return {
      base: model.nystromformer, choices: false,
      outputs: (g, hidden, { seq }) => {
        g.output(g.node('Identity', [linear(g, model.classifier, hidden, 'classifier')], {}, 'logits'), 'float32', ['batch', seq, numLabels(model.config)]);
      },
    };
  }
  if (model instanceof NystromformerForQuestionAnswering) {
    return {
      base: model.nystromformer, choices: false,
      outputs: (g, hidden, { seq }) => {
        const both = linear(g, model.qaOutputs, hidden, 'qa_outputs'); // (B, n, 2)
        for (const [i, name] of ['start_logits', 'end_logits'].entries()) {
          g.output(g.node('Gather', [both, g.ints([i], [])], { axis: attr.int(2) }, name), 'float32', ['batch', seq]);
        }
      },
    };
  }
  if (model instanceof NystromformerForMultipleChoice) {
    return {
      base: model.nystromformer, choices: true,
      outputs: (g, hidden, { ids }) => {
        const x = g.node('Relu', [linear(g, model.preClassifier, firstToken(g, hidden), 'pre_classifier')]);
        const scores = linear(g, model.classifier, x, 'classifier'); // (B·C, 1)
        const shape = g.node('Shape', [ids], { end: attr.int(2) }); // [B, C]
        g.output(g.node('Reshape', [scores, shape], {}, 'logits'), 'float32', ['batch', 'num_choices']);
      },
    };
  }
  throw new Error(`exportOnnx: no ONNX export for ${model.architecture}`);
}
