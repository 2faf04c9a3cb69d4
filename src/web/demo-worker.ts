/**
 * The demo's Web Worker: owns the engine and the model, so the page stays responsive and the
 * engine's caller may sleep in Atomics.wait while kernel threads work. It receives token ids (the
 * page tokenizes: the tokenizer's bare import needs the page's import map) and answers with numbers.
 */
import { backend, initEngine, NystromformerForMaskedLM, setBackend, WebGpuBackend, type NystromformerForSequenceClassification } from './core.js';
import { classifyIds, embedIds, fillMaskIds, headAttention, loadDemoModel, timeAttention, type DemoModel, type ModelFiles } from './demo-compute.js';
import type { DemoReply, DemoRequest } from './demo-protocol.js';
import { trainSteps } from './demo-train.js';

let model: DemoModel | undefined;
let engine: Awaited<ReturnType<typeof initEngine>> | undefined;

const reply = (message: DemoReply) => postMessage(message);

/** Where the engine runs: WebGPU (with its adapter) or the WebAssembly threads. */
function deviceName(): string {
  const b = backend();
  return b instanceof WebGpuBackend ? `WebGPU (${b.adapterName})` : 'WebAssembly';
}

/** Swaps in a new model; a folder that fails to load leaves the current one in place. */
function load(files: ModelFiles): DemoReply {
  const next = loadDemoModel(files);
  model?.dispose();
  model = next;
  const c = model.config;
  return {
    type: 'ready', threads: engine!.threads, build: engine!.build, device: deviceName(),
    model: {
      architecture: model instanceof NystromformerForMaskedLM ? 'NystromformerForMaskedLM' : 'NystromformerForSequenceClassification',
      layers: c.num_hidden_layers, heads: c.num_attention_heads, hidden: c.hidden_size, landmarks: model.attentionSettings.numLandmarks,
      maxPositions: c.max_position_embeddings, vocabSize: c.vocab_size,
    },
  };
}

async function handle(request: DemoRequest): Promise<void> {
  switch (request.type) {
    case 'init': {
      engine = await initEngine({ threads: request.threads, gemm: 'wasm' });
      await setBackend(request.device === 'cpu' ? 'wasm' : request.device);
      const fetchOk = async (name: string) => {
        const url = new URL(name, request.modelUrl);
        const response = await fetch(url);
        if (!response.ok) throw new Error(`fetching ${url} failed: ${response.status} ${response.statusText}`);
        return response;
      };
      const config = (await (await fetchOk('config.json')).json()) as Record<string, unknown>;
      const weights = new Uint8Array(await (await fetchOk('model.safetensors')).arrayBuffer());
      return reply(load({ config, weights }));
    }
    case 'load':
      if (!engine) throw new Error('the engine is not started yet');
      return reply(load(request.files));
    case 'run': {
      if (!model) throw new Error('the model is not loaded yet');
      const onCpu = backend() === engine;
      const sharesBefore = onCpu ? engine!.kernelShares() : [];
      const t0 = performance.now();
      const steps = 4;
      const mlm = model instanceof NystromformerForMaskedLM ? model : undefined;
      reply({ type: 'progress', what: mlm ? 'fill-mask' : 'classification', done: 0, total: steps });
      const fill = mlm ? await fillMaskIds(mlm, request.idsA, request.maskId, request.topK) : [];
      const classes = mlm ? [] : await classifyIds(model as NystromformerForSequenceClassification, request.idsA);
      reply({ type: 'progress', what: 'embedding A', done: 1, total: steps });
      const embA = await embedIds(model, request.idsA);
      reply({ type: 'progress', what: 'embedding B', done: 2, total: steps });
      const embB = await embedIds(model, request.idsB);
      reply({ type: 'progress', what: 'attention map', done: 3, total: steps });
      const attention = await headAttention(model, request.idsA, request.layer, request.head);
      const ms = performance.now() - t0;
      const sharesAfter = onCpu ? engine!.kernelShares() : [];
      reply({ type: 'progress', what: 'done', done: steps, total: steps });
      return reply({
        type: 'result', fill, classes, embA, embB, attention, ms,
        shares: sharesAfter.map((s, tid) => s - (sharesBefore[tid] ?? 0)),
      });
    }
    case 'bench': {
      for (const [impl, lengths] of [['nystrom', request.nystrom], ['softmax', request.softmax]] as const) {
        for (const n of lengths) reply({ type: 'timing', timing: await timeAttention(impl, n, request.shape) });
      }
      return reply({ type: 'bench-done' });
    }
    case 'train': {
      if (!model) throw new Error('the model is not loaded yet');
      const steps = await trainSteps(model, request.examples, request.settings, (step) => reply({ type: 'train-step', ...step }));
      return reply({ type: 'train-done', steps });
    }
  }
}

// Requests are handled one after another: the engine runs one computation at a time.
let queue = Promise.resolve();
addEventListener('message', (e: MessageEvent<DemoRequest>) => {
  queue = queue.then(() => handle(e.data)).catch((err: Error) => reply({ type: 'error', message: `${err.message}\n${err.stack ?? ''}` }));
});
