/**
 * The demo's Web Worker: owns the engine and the model, so the page stays responsive and the
 * engine's caller may sleep in Atomics.wait while kernel threads work. It receives token ids (the
 * page tokenizes: the tokenizer's bare import needs the page's import map) and answers with numbers.
 */
import { backend, initEngine, type NystromformerForMaskedLM } from './core.js';
import { embedIds, fillMaskIds, headAttention, loadDemoModel, timeAttention } from './demo-compute.js';
import type { DemoReply, DemoRequest } from './demo-protocol.js';

let model: NystromformerForMaskedLM | undefined;

const reply = (message: DemoReply) => postMessage(message);

async function handle(request: DemoRequest): Promise<void> {
  switch (request.type) {
    case 'init': {
      const b = await initEngine({ threads: request.threads, gemm: 'wasm' });
      const fetchOk = async (name: string) => {
        const url = new URL(name, request.modelUrl);
        const response = await fetch(url);
        if (!response.ok) throw new Error(`fetching ${url} failed: ${response.status} ${response.statusText}`);
        return response;
      };
      const config = (await (await fetchOk('config.json')).json()) as Record<string, unknown>;
      const weights = new Uint8Array(await (await fetchOk('model.safetensors')).arrayBuffer());
      model?.dispose();
      model = loadDemoModel({ config, weights });
      const c = model.config;
      return reply({
        type: 'ready', threads: b.threads, build: b.build,
        model: { layers: c.num_hidden_layers, heads: c.num_attention_heads, hidden: c.hidden_size, landmarks: model.attentionSettings.numLandmarks, maxPositions: c.max_position_embeddings },
      });
    }
    case 'run': {
      if (!model) throw new Error('the model is not loaded yet');
      const sharesBefore = backend().kernelShares();
      const t0 = performance.now();
      const steps = 4;
      reply({ type: 'progress', what: 'fill-mask', done: 0, total: steps });
      const fill = fillMaskIds(model, request.idsA, request.maskId, request.topK);
      reply({ type: 'progress', what: 'embedding A', done: 1, total: steps });
      const embA = embedIds(model, request.idsA);
      reply({ type: 'progress', what: 'embedding B', done: 2, total: steps });
      const embB = embedIds(model, request.idsB);
      reply({ type: 'progress', what: 'attention map', done: 3, total: steps });
      const attention = headAttention(model, request.idsA, request.layer, request.head);
      const ms = performance.now() - t0;
      const sharesAfter = backend().kernelShares();
      reply({ type: 'progress', what: 'done', done: steps, total: steps });
      return reply({
        type: 'result', fill, embA, embB, attention, ms,
        shares: sharesAfter.map((s, tid) => s - (sharesBefore[tid] ?? 0)),
      });
    }
    case 'bench': {
      for (const [impl, lengths] of [['nystrom', request.nystrom], ['softmax', request.softmax]] as const) {
        for (const n of lengths) reply({ type: 'timing', timing: timeAttention(impl, n, request.shape) });
      }
      return reply({ type: 'bench-done' });
    }
  }
}

// Requests are handled one after another: the engine runs one computation at a time.
let queue = Promise.resolve();
addEventListener('message', (e: MessageEvent<DemoRequest>) => {
  queue = queue.then(() => handle(e.data)).catch((err: Error) => reply({ type: 'error', message: `${err.message}\n${err.stack ?? ''}` }));
});
