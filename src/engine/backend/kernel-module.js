/**
 * Loads the WebAssembly kernels: the relaxed-SIMD (FMA) build where the runtime validates it,
 * the plain SIMD build otherwise. The probe is the real module, so it cannot disagree with use.
 */
import { enableRelaxedSimd, readBinary } from '#platform';
export function loadKernelModule(prefer = 'relaxed') {
    if (prefer === 'relaxed') {
        enableRelaxedSimd();
        const bytes = readBinary(new URL('../../../kernels/relaxed.wasm', import.meta.url));
        if (WebAssembly.validate(bytes))
            return { build: 'relaxed', module: new WebAssembly.Module(bytes) };
    }
    const bytes = readBinary(new URL('../../../kernels/simd.wasm', import.meta.url));
    if (!WebAssembly.validate(bytes)) {
        throw new Error('engine: this runtime cannot run WebAssembly 128-bit SIMD, which the kernels need');
    }
    return { build: 'simd', module: new WebAssembly.Module(bytes) };
}
export function instantiate(module, memory) {
    const instance = new WebAssembly.Instance(module, {
        env: {
            memory,
            abort: (_msg, _file, line, col) => {
                throw new Error(`kernel abort at ${line}:${col}`);
            },
            seed: () => 0,
        },
    });
    return instance.exports;
}
//# sourceMappingURL=kernel-module.js.map