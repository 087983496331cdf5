/**
 * The part of the WebAssembly JS API the JIT uses. TypeScript ships these
 * types only with the DOM lib, which a Node library should not pull in.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
    static imports(module: Module): { module: string; name: string; kind: string }[];
  }
  class Instance {
    constructor(module: Module, imports: Record<string, unknown>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    /** Sizes in 64 KiB pages. */
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Global {
    /** Settable on a mutable global only (the table kernel's heap_base). */
    value: unknown;
  }
}
