export declare class ArenaOutOfMemoryError extends Error {
}
export declare class Arena {
    #private;
    readonly memory: WebAssembly.Memory;
    /** @param base first usable byte (above the kernels' static data) */
    constructor(memory: WebAssembly.Memory, base: number);
    /** Bytes held by live allocations. */
    get bytesInUse(): number;
    /** Highest bytesInUse since the last resetPeak(). */
    get peakBytes(): number;
    resetPeak(): void;
    /** Bytes of memory reserved from the runtime (grows, never shrinks). */
    get reservedBytes(): number;
    alloc(bytes: number): number;
    free(ptr: number): void;
    /** The current buffer (a new object after the memory grows). */
    get buffer(): ArrayBufferLike;
    f32(ptr: number, length: number): Float32Array;
    i32(ptr: number, length: number): Int32Array;
}
