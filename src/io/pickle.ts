/**
 * A restricted unpickler: the opcodes of pickle protocols 2–5 that saved state dicts use, and no
 * code. A pickle may name a global (any module attribute) and call it, which is how pickles run
 * arbitrary code; here the caller passes an allow-list of globals, each a small TypeScript function
 * or an inert name, and any other global is refused when it is named, before anything is built.
 * Opcodes: Lib/pickletools.py in CPython documents each one (argument layout and stack effect).
 *
 * Values: None → null, bool → boolean, int → number (bigint beyond 2^53), float → number,
 * str → string, bytes → Uint8Array (a copy), list → Array, tuple → PickleTuple, dict → Map.
 */

/** A pickled tuple (JavaScript arrays stand for lists, which are mutable). */
export class PickleTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** An allowed global as the pickle sees it; `call` makes it callable by REDUCE and NEWOBJ. */
export class PickleGlobal {
  constructor(
    readonly name: string,
    readonly call?: (args: readonly unknown[]) => unknown,
  ) {}
}

export interface PickleEnvironment {
  /** Allowed globals by 'module.name'. */
  globals: ReadonlyMap<string, PickleGlobal>;
  /** BINPERSID: the object a persistent id stands for (torch: a storage). */
  persistentLoad(pid: unknown): unknown;
  /** The message for a refused global; the default says a state dict never contains it. */
  refuse?(name: string): string;
}

/** Integers longer than this (LONG1/LONG4) are refused; a state dict's are at most 8 bytes. */
const MAX_LONG_BYTES = 64;
const HIGHEST_PROTOCOL = 5;

/**
 * What a pickle may build. A MARK, a memo entry or an empty dict takes one byte of pickle and 50 to
 * 100 bytes of memory, so without bounds a 20 MB file costs gigabytes. State dicts stay far below
 * them: MARKs nest 3 or 4 deep, the stack holds a few thousand items (pickle batches by 1000), and
 * there is one object (tuple, dict, dict entry, call result) or memo entry per 3 bytes at the very
 * densest (protocol 4, one-letter names; 6 or more usually), about 10 per tensor: 2^21 objects are
 * 200,000 tensors, and the largest real models have fewer than 100,000.
 */
const PICKLE_LIMITS = {
  markDepth: 1000,
  stackItems: 2 ** 20,
  /** Objects, and memo entries, may number one per this many bytes of pickle (plus `allowance`)… */
  bytesPerObject: 3,
  allowance: 4096,
  /** …and never more than this. */
  objects: 2 ** 21,
} as const;

/** Unpickles `bytes`, which must end with STOP. Every error names `source` and the offset. */
export function unpickle(bytes: Uint8Array, env: PickleEnvironment, source: string): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let stack: unknown[] = [];
  const metastack: unknown[][] = []; // MARK saves the stack here and starts an empty one, as CPython does
  let saved = 0; // items in the stacks on the metastack
  // An array, not a Map: memo keys are dense from 0 in real pickles, and a slot costs 8 bytes, not ~80.
  const memo: unknown[] = [];
  let memoSize = 0;
  let objects = 0;
  const { markDepth, stackItems, bytesPerObject, allowance } = PICKLE_LIMITS;
  const maxObjects = Math.min(PICKLE_LIMITS.objects, Math.floor(bytes.length / bytesPerObject) + allowance);
  const perBytes = `one per ${bytesPerObject} bytes of a ${bytes.length}-byte pickle, at most ${PICKLE_LIMITS.objects}`;
  let at = 0;
  let op = 0;
  let opAt = 0;
  const opName = () => `opcode 0x${op.toString(16).padStart(2, '0')} at pickle offset ${opAt}`;
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  /** Advances past n argument bytes and returns where they start. */
  const take = (n: number): number => {
    if (n > bytes.length - at) fail(`truncated pickle: ${opName()} needs ${n} bytes, ${bytes.length - at} remain`);
    at += n;
    return at - n;
  };
  const u8 = () => bytes[take(1)];
  const u32 = () => view.getUint32(take(4), true);
  const u64 = () => {
    const v = view.getBigUint64(take(8), true);
    return v > BigInt(bytes.length) ? fail(`truncated pickle: ${opName()} announces ${v} bytes, the pickle has ${bytes.length}`) : Number(v);
  };
  const pop = (): unknown => (stack.length > 0 ? stack.pop() : fail(`pickle stack underflow at ${opName()}`));
  const top = (): unknown => (stack.length > 0 ? stack[stack.length - 1] : fail(`pickle stack underflow at ${opName()}`));
  const push = (v: unknown) => {
    if (stack.length + saved >= stackItems) fail(`the pickle stack holds more than ${stackItems} items at ${opName()} (a state dict's holds a few thousand); refusing to go on`);
    stack.push(v);
  };
  /** Counts n new objects (containers, dict entries, call results) against the limit; a dict or bytes costs twice a tuple, so counts 2. */
  const built = (n = 1) => {
    objects += n;
    if (objects > maxObjects) fail(`the pickle builds more than ${maxObjects} objects (${perBytes}) at ${opName()}; a state dict builds about 10 per tensor, so refusing to go on`);
  };
  const mark = () => {
    if (metastack.length >= markDepth) fail(`MARKs nested more than ${markDepth} deep at pickle offset ${opAt} (a state dict nests a few); refusing to go on`);
    saved += stack.length;
    metastack.push(stack);
    stack = [];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    stack = metastack.pop() ?? fail(`${opName()} needs a MARK and there is none`);
    saved -= stack.length;
    return items;
  };
  const put = (key: number) => {
    const value = top();
    if (memo[key] === undefined && ++memoSize > maxObjects) {
      fail(`the pickle stores more than ${maxObjects} memo entries (${perBytes}) at ${opName()}; a state dict stores one per object at most, so refusing to go on`);
    }
    memo[key] = value;
  };
  const text = (n: number): string => {
    const start = take(n);
    try {
      return utf8.decode(bytes.subarray(start, start + n));
    } catch {
      return fail(`invalid UTF-8 in the string at pickle offset ${start}`);
    }
  };
  const blob = (n: number): Uint8Array => (built(2), bytes.slice(take(n), at));
  /** LONG1 / LONG4: little-endian two's complement. */
  const long = (n: number): number | bigint => {
    if (n > MAX_LONG_BYTES) fail(`${opName()}: an integer of ${n} bytes is larger than anything a state dict holds`);
    const start = take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[start + i]);
    if (n > 0 && bytes[start + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) fail(`truncated pickle: ${opName()} has no newline-terminated argument`);
    return text(end - at + 1).slice(0, -1);
  };
  const resolve = (module: unknown, name: unknown): PickleGlobal => {
    if (typeof module !== 'string' || typeof name !== 'string') return fail(`${opName()} names a global with non-string parts`);
    const full = `${module}.${name}`;
    const found = env.globals.get(full);
    if (found) return found;
    return fail(env.refuse?.(full) ?? `pickle refers to '${full}', which a state dict never contains; refusing to load it (nothing was executed)`);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PickleGlobal) || !fn.call) {
      return fail(`${opName()} calls ${fn instanceof PickleGlobal ? `'${fn.name}', which is not callable here` : describe(fn)}`);
    }
    if (!(args instanceof PickleTuple)) return fail(`${opName()} calls '${fn.name}' with ${describe(args)} instead of an argument tuple`);
    built();
    return fn.call(args.items);
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map)) return fail(`${opName()} sets items on ${describe(dict)}, not a dict`);
    if (items.length % 2 !== 0) return fail(`${opName()} has an odd number (${items.length}) of keys and values`);
    const before = dict.size;
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
    built(dict.size - before);
  };
  const append = (list: unknown, items: unknown[]) => {
    if (!Array.isArray(list)) return fail(`${opName()} appends to ${describe(list)}, not a list`);
    for (const item of items) list.push(item);
  };
  const get = (key: number) => (memo[key] !== undefined ? memo[key] : fail(`${opName()} reads memo entry ${key}, which was never stored`));

  for (;;) {
    opAt = at;
    if (at >= bytes.length) fail(`truncated pickle: it ends at offset ${at} without a STOP opcode`);
    op = bytes[at++];
    switch (op) {
      case 0x80: { // PROTO
        const version = u8();
        if (version > HIGHEST_PROTOCOL) fail(`pickle protocol ${version} is newer than ${HIGHEST_PROTOCOL}, the newest this reader knows`);
        break;
      }
      case 0x95: { // FRAME: a read-ahead hint, but a frame that overruns the pickle means it is truncated
        const length = u64();
        if (length > bytes.length - at) fail(`truncated pickle: a frame of ${length} bytes at offset ${opAt} overruns its end`);
        break;
      }
      case 0x2e: return pop(); // STOP '.'
      case 0x28: mark(); break; // MARK '('
      case 0x30: pop(); break; // POP '0'
      case 0x31: popMark(); break; // POP_MARK '1'
      case 0x32: push(top()); break; // DUP '2'
      case 0x4e: push(null); break; // NONE 'N'
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x4a: push(view.getInt32(take(4), true)); break; // BININT 'J'
      case 0x4b: push(u8()); break; // BININT1 'K'
      case 0x4d: push(view.getUint16(take(2), true)); break; // BININT2 'M'
      case 0x8a: push(long(u8())); break; // LONG1
      case 0x8b: { // LONG4 (signed length)
        const n = view.getInt32(take(4), true);
        if (n < 0) fail(`${opName()}: negative length ${n}`);
        push(long(n));
        break;
      }
      case 0x47: push(view.getFloat64(take(8), false)); break; // BINFLOAT 'G', big-endian
      case 0x58: push(text(u32())); break; // BINUNICODE 'X'
      case 0x8c: push(text(u8())); break; // SHORT_BINUNICODE
      case 0x8d: push(text(u64())); break; // BINUNICODE8
      case 0x54: { // BINSTRING 'T' (Python 2 str; signed length)
        const n = view.getInt32(take(4), true);
        if (n < 0) fail(`${opName()}: negative length ${n}`);
        push(blob(n));
        break;
      }
      case 0x55: case 0x43: push(blob(u8())); break; // SHORT_BINSTRING 'U', SHORT_BINBYTES 'C'
      case 0x42: push(blob(u32())); break; // BINBYTES 'B'
      case 0x8e: case 0x96: push(blob(u64())); break; // BINBYTES8, BYTEARRAY8
      case 0x29: built(); push(new PickleTuple([])); break; // EMPTY_TUPLE ')'
      case 0x74: { const items = popMark(); built(); push(new PickleTuple(items)); break; } // TUPLE 't' (popMark swaps `stack`)
      case 0x85: built(); push(new PickleTuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); built(); push(new PickleTuple([pop(), b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); built(); push(new PickleTuple([pop(), b, c])); break; } // TUPLE3
      case 0x5d: built(); push([]); break; // EMPTY_LIST ']'
      case 0x6c: { const items = popMark(); built(); push(items); break; } // LIST 'l'
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND 'a'
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS 'e'
      case 0x7d: built(2); push(new Map()); break; // EMPTY_DICT '}'
      case 0x64: { const d = new Map(); built(2); setItems(d, popMark()); push(d); break; } // DICT 'd'
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM 's'
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS 'u'
      case 0x71: put(u8()); break; // BINPUT 'q'
      case 0x72: put(u32()); break; // LONG_BINPUT 'r'
      case 0x94: put(memoSize); break; // MEMOIZE
      case 0x68: push(get(u8())); break; // BINGET 'h'
      case 0x6a: push(get(u32())); break; // LONG_BINGET 'j'
      case 0x63: { const module = line(); push(resolve(module, line())); break; } // GLOBAL 'c'
      case 0x93: { const name = pop(); push(resolve(pop(), name)); break; } // STACK_GLOBAL
      case 0x52: case 0x81: { const args = pop(); push(call(pop(), args)); break; } // REDUCE 'R', NEWOBJ
      case 0x92: { // NEWOBJ_EX: keyword arguments are never needed, so only an empty dict of them is accepted
        const kwargs = pop();
        const args = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0) fail(`${opName()} passes keyword arguments (${describe(kwargs)})`);
        push(call(pop(), args));
        break;
      }
      case 0x62: { // BUILD 'b': the state (an OrderedDict's _metadata, a tensor's attributes) is never needed
        pop();
        const target = top();
        if (typeof target !== 'object' || target === null) fail(`${opName()} sets the state of ${describe(target)}`);
        break;
      }
      case 0x51: built(); push(env.persistentLoad(pop())); break; // BINPERSID 'Q'
      default:
        fail(`unsupported pickle ${opName()} (not one that a saved state dict uses)`);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A short description of an unpickled value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PickleGlobal) return `the global '${v.name}'`;
  if (v instanceof PickleTuple) return `a tuple of ${v.items.length}`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof Map) return `a dict of ${v.size}`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${typeof v === 'boolean' ? 'the boolean' : 'the number'} ${v}`;
  return typeof v === 'object' ? `a ${v.constructor?.name ?? 'object'}` : typeof v;
}
