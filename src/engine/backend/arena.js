/**
 * The arena: every tensor's storage, inside one shared WebAssembly.Memory so that kernel
 * threads read and write it without copies. A best-fit free list with coalescing; blocks are
 * 64-byte aligned (cache line, and SIMD loads never straddle one).
 */
const ALIGN = 64;
const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB, the wasm32 limit
export class ArenaOutOfMemoryError extends Error {
}
export class Arena {
    memory;
    #top; // first byte never handed out
    #free = []; // sorted by ptr, never adjacent (coalesced)
    #sizes = new Map(); // live ptr → size
    #inUse = 0;
    #peak = 0;
    #buffer;
    /** @param base first usable byte (above the kernels' static data) */
    constructor(memory, base) {
        this.memory = memory;
        this.#top = roundUp(base, ALIGN);
        this.#buffer = memory.buffer;
    }
    /** Bytes held by live allocations. */
    get bytesInUse() {
        return this.#inUse;
    }
    /** Highest bytesInUse since the last resetPeak(). */
    get peakBytes() {
        return this.#peak;
    }
    resetPeak() {
        this.#peak = this.#inUse;
    }
    /** Bytes of memory reserved from the runtime (grows, never shrinks). */
    get reservedBytes() {
        return this.memory.buffer.byteLength;
    }
    alloc(bytes) {
        const size = roundUp(Math.max(bytes, 1), ALIGN);
        const ptr = this.#takeFree(size) ?? this.#bump(size);
        this.#sizes.set(ptr, size);
        this.#inUse += size;
        if (this.#inUse > this.#peak)
            this.#peak = this.#inUse;
        return ptr;
    }
    free(ptr) {
        const size = this.#sizes.get(ptr);
        if (size === undefined)
            throw new Error(`arena: free of unknown pointer ${ptr}`);
        this.#sizes.delete(ptr);
        this.#inUse -= size;
        this.#insertFree(ptr, size);
    }
    /** The current buffer (a new object after the memory grows). */
    get buffer() {
        if (this.#buffer.byteLength !== this.memory.buffer.byteLength)
            this.#buffer = this.memory.buffer;
        return this.#buffer;
    }
    f32(ptr, length) {
        return new Float32Array(this.buffer, ptr, length);
    }
    i32(ptr, length) {
        return new Int32Array(this.buffer, ptr, length);
    }
    #takeFree(size) {
        let best = -1;
        for (let i = 0; i < this.#free.length; i++) {
            const b = this.#free[i];
            if (b.size >= size && (best < 0 || b.size < this.#free[best].size)) {
                best = i;
                if (b.size === size)
                    break;
            }
        }
        if (best < 0)
            return undefined;
        const block = this.#free[best];
        const ptr = block.ptr;
        if (block.size === size)
            this.#free.splice(best, 1);
        else {
            block.ptr += size;
            block.size -= size;
        }
        return ptr;
    }
    #bump(size) {
        // A free block touching the top is extended rather than left stranded.
        const last = this.#free[this.#free.length - 1];
        let ptr = this.#top;
        if (last && last.ptr + last.size === this.#top) {
            this.#free.pop();
            ptr = last.ptr;
        }
        const end = ptr + size;
        const have = this.memory.buffer.byteLength;
        if (end > have) {
            const need = Math.ceil((end - have) / PAGE);
            const pages = have / PAGE;
            const grow = Math.min(Math.max(need, Math.ceil(pages / 4)), MAX_PAGES - pages);
            if (grow < need || !(this.#tryGrow(grow) || this.#tryGrow(need))) {
                if (last && last.ptr === ptr)
                    this.#free.push(last);
                throw new ArenaOutOfMemoryError(`arena: out of memory allocating ${size} bytes (${this.#inUse} bytes in use, ${have} reserved)`);
            }
        }
        this.#top = end;
        return ptr;
    }
    /** Grows by `pages`; false when the runtime refuses (the memory's maximum, or the host's). */
    #tryGrow(pages) {
        try {
            this.memory.grow(pages);
            return true;
        }
        catch {
            return false;
        }
    }
    #insertFree(ptr, size) {
        const list = this.#free;
        let lo = 0;
        let hi = list.length;
        while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (list[mid].ptr < ptr)
                lo = mid + 1;
            else
                hi = mid;
        }
        const prev = list[lo - 1];
        const next = list[lo];
        if (prev && prev.ptr + prev.size === ptr) {
            prev.size += size;
            if (next && prev.ptr + prev.size === next.ptr) {
                prev.size += next.size;
                list.splice(lo, 1);
            }
        }
        else if (next && ptr + size === next.ptr) {
            next.ptr = ptr;
            next.size += size;
        }
        else
            list.splice(lo, 0, { ptr, size });
    }
}
function roundUp(x, to) {
    return Math.ceil(x / to) * to;
}
//# sourceMappingURL=arena.js.map