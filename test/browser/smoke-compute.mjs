// The computation the smoke test runs in Chromium (window and Web Worker) and in Node alike.
// The engine module is passed in because the page, the worker and Node import it by different URLs.

/** Starts the engine on `threads` threads, then a 256×256 matmul, a softmax and a large GELU. */
export async function run(E, initEngine, threads) {
  const b = await initEngine({ threads, gemm: 'wasm' }); // the WebAssembly GEMM everywhere
  return E.tidy(() => {
    const a = E.randn([256, 256], 1);
    const w = E.randn([256, 256], 2);
    const before = b.kernelShares();
    const c = E.matmul(a, w); // 2·256³ ≈ 3.4e7 operations: split over the threads
    const s = E.softmax(c); // along the last axis
    const g = E.sum(E.gelu(E.randn([1024, 1024], 3))).item();
    const after = b.kernelShares();
    return {
      build: b.build,
      threads: b.threads,
      // Shares each thread ran during the calls above, counted by the thread itself after its share.
      shares: after.map((n, tid) => n - before[tid]),
      matmul: Array.from(c.toArray()),
      softmax: Array.from(s.toArray()),
      geluSum: g,
    };
  });
}

export function describeError(e) {
  return e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
}
