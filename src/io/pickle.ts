/**
 * A restricted unpickler: the opcodes of pickle protocols 2–5 that state dicts use, and no code.
 * A pickle may name a global (a module attribute) and call it; here only the handful of globals
 * that `torch.save(state_dict)` writes are known, each mapped to a small TypeScript function, and
 * any other global is refused before anything is built. Nothing is ever executed.
 */

/** A global the pickle named, resolved against the allow-list. */
export interface PickleGlobal {
  readonly kind: 'global';
  readonly name: string;
}

/** What the unpickler's callers define: the allowed globals and the persistent-id loader. */
export interface PickleEnvironment {
  /** 'module.name' → the function REDUCE / NEWOBJ calls with the argument tuple. */
  callables: Record<string, (args: unknown[]) => unknown>;
  /** Other allowed names (e.g. storage types), returned as PickleGlobal values. */
  names: ReadonlySet<string>;
  /** BINPERSID: the persistent id (a tuple) → the object it stands for. */
  persistentLoad(pid: unknown): unknown;
}

/** Marks a pickled tuple (JavaScript arrays stand for lists). */
export class PickleTuple extends Array<unknown> {}

export function unpickle(bytes: Uint8Array, env: PickleEnvironment, source: string): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let at = 0;
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  const need = (n: number) => {
    if (at + n > bytes.length) fail(`truncated pickle (needed ${n} bytes at offset ${at}, file has ${bytes.length})`);
    const start = at;
    at += n;
    return start;
  };
  const pop = () => (stack.length > 0 ? stack.pop() : fail(`pickle stack underflow at offset ${at}`));
  const top = () => (stack.length > 0 ? stack[stack.length - 1] : fail(`pickle stack underflow at offset ${at}`));
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail(`pickle has no MARK before offset ${at}`);
    return stack.splice(m!);
  };
  const text = (n: number) => {
    const start = need(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, at));
    } catch {
      return fail(`invalid UTF-8 in a pickled string at offset ${start}`);
    }
  };
  const size = (n: number) => {
    const v = n === 1 ? view.getUint8(need(1)) : n === 4 ? view.getUint32(need(4), true) : Number(view.getBigUint64(need(8), true));
    return v;
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) fail(`truncated pickle (unterminated GLOBAL at offset ${at})`);
    const s = new TextDecoder().decode(bytes.subarray(at, end));
    at = end + 1;
    return s;
  };
  const resolve = (module: string, name: string): unknown => {
    const full = `${module}.${name}`;
    if (full in env.callables || env.names.has(full)) return { kind: 'global', name: full } satisfies PickleGlobal;
    return fail(`pickle refers to '${full}', which a state dict never contains; refusing to load it (nothing was executed)`);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    const g = fn as PickleGlobal;
    if (g?.kind !== 'global' || !(g.name in env.callables)) fail(`pickle calls something that is not an allowed function (offset ${at})`);
    if (!Array.isArray(args)) fail(`pickle calls '${g.name}' without an argument tuple (offset ${at})`);
    return env.callables[g.name](args as unknown[]);
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map)) fail(`pickle sets items on something that is not a dict (offset ${at})`);
    if (items.length % 2 !== 0) fail(`pickle SETITEMS with an odd number of values (offset ${at})`);
    for (let i = 0; i < items.length; i += 2) (dict as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const append = (list: unknown, items: unknown[]) => {
    if (!Array.isArray(list) || list instanceof PickleTuple) fail(`pickle appends to something that is not a list (offset ${at})`);
    (list as unknown[]).push(...items);
  };
  const tuple = (items: unknown[]) => PickleTuple.from(items) as PickleTuple;

  for (;;) {
    const offset = at;
    const op = bytes[need(1)];
    switch (op) {
      case 0x80: need(1); break; // PROTO
      case 0x95: need(8); break; // FRAME (framing is only a read-ahead hint)
      case 0x2e: return pop(); // STOP '.'
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT '}'
      case 0x5d: stack.push([]); break; // EMPTY_LIST ']'
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE ')'
      case 0x28: marks.push(stack.length); break; // MARK '('
      case 0x4e: stack.push(null); break; // NONE 'N'
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(view.getInt32(need(4), true)); break; // BININT 'J'
      case 0x4b: stack.push(view.getUint8(need(1))); break; // BININT1 'K'
      case 0x4d: stack.push(view.getUint16(need(2), true)); break; // BININT2 'M'
      case 0x8a: { // LONG1: little-endian two's complement of n bytes
        const n = view.getUint8(need(1));
        if (n > 8) fail(`integer of ${n} bytes at offset ${offset} is too large for a state dict`);
        const start = need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[start + i]);
        if (n > 0 && bytes[start + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(Number(v));
        break;
      }
      case 0x47: stack.push(view.getFloat64(need(8), false)); break; // BINFLOAT 'G' (big-endian)
      case 0x58: stack.push(text(size(4))); break; // BINUNICODE 'X'
      case 0x8c: stack.push(text(size(1))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text(size(8))); break; // BINUNICODE8
      case 0x54: case 0x42: stack.push(bytes.slice(need(size(4)), at)); break; // BINSTRING 'T', BINBYTES 'B'
      case 0x55: case 0x43: stack.push(bytes.slice(need(size(1)), at)); break; // SHORT_BINSTRING 'U', SHORT_BINBYTES 'C'
      case 0x8e: stack.push(bytes.slice(need(size(8)), at)); break; // BINBYTES8
      case 0x74: stack.push(tuple(popMark())); break; // TUPLE 't'
      case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push(tuple([pop(), b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push(tuple([pop(), b, c])); break; } // TUPLE3
      case 0x6c: stack.push(popMark()); break; // LIST 'l'
      case 0x64: { const d = new Map(); setItems(d, popMark()); stack.push(d); break; } // DICT 'd'
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND 'a'
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS 'e'
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM 's'
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS 'u'
      case 0x71: memo.set(view.getUint8(need(1)), top()); break; // BINPUT 'q'
      case 0x72: memo.set(view.getUint32(need(4), true), top()); break; // LONG_BINPUT 'r'
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET 'h', LONG_BINGET 'j'
        const key = op === 0x68 ? view.getUint8(need(1)) : view.getUint32(need(4), true);
        if (!memo.has(key)) fail(`pickle reads memo entry ${key} that was never stored (offset ${offset})`);
        stack.push(memo.get(key));
        break;
      }
      case 0x63: { const module = line(); stack.push(resolve(module, line())); break; } // GLOBAL 'c'
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail(`STACK_GLOBAL without two strings (offset ${offset})`);
        stack.push(resolve(module as string, name as string));
        break;
      }
      case 0x52: { const args = pop(); stack.push(call(pop(), args)); break; } // REDUCE 'R'
      case 0x81: { const args = pop(); stack.push(call(pop(), args)); break; } // NEWOBJ
      case 0x62: pop(); top(); break; // BUILD 'b': the state (e.g. a state dict's _metadata) is not needed
      case 0x51: stack.push(env.persistentLoad(pop())); break; // BINPERSID 'Q'
      case 0x30: pop(); break; // POP '0'
      case 0x31: popMark(); break; // POP_MARK '1'
      case 0x32: stack.push(top()); break; // DUP '2'
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at offset ${offset} (not something a state dict uses)`);
    }
  }
}
