import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../../src/cli/args.js';

describe('parseCommandLine', () => {
  it('reads disasm with defaults', () => {
    expect(parseCommandLine(['disasm', 'f.bpf'])).toMatchObject({
      kind: 'disasm',
      inputs: ['f.bpf'],
      inputFormat: undefined,
      labels: false,
      output: undefined,
      arch: { name: 'x86_64' },
    });
  });

  it('reads asm as a conversion from bpf_asm, raw by default', () => {
    expect(parseCommandLine(['asm', '-', '-o', 'g.bpf'])).toMatchObject({ kind: 'convert', inputs: ['-'], inputFormat: 'asm', to: 'raw', output: 'g.bpf' });
    expect(parseCommandLine(['asm', 'f.s', '--to', 'c'])).toMatchObject({ to: 'c' });
  });

  it('reads convert, info and their options', () => {
    expect(parseCommandLine(['convert', 'f', '--to', 'raw-be', '--input-format', 'ddd', '--arch', 'aarch64'])).toMatchObject({
      kind: 'convert',
      to: 'raw-be',
      inputFormat: 'ddd',
      arch: { name: 'aarch64' },
    });
    expect(parseCommandLine(['info', 'f', '--json'])).toMatchObject({ kind: 'info', json: true });
  });

  it.each([
    [
      'defaults to realistic records from seed 1, binary, to standard output',
      ['records', '--generate', '1000'],
      { count: 1000, mix: 'realistic', seed: 1, format: 'bin', output: undefined },
    ],
    [
      'reads the mix, seed, format and output',
      ['records', '--generate', '0x10', '--mix', 'random', '--seed', '7', '--format', 'jsonl', '-o', 't.jsonl'],
      { count: 16, mix: 'random', seed: 7, format: 'jsonl', output: 't.jsonl' },
    ],
    ['takes - as standard output', ['records', '--generate', '0', '-o', '-'], { count: 0, output: '-' }],
  ])('records: %s', (_, argv, expected) => {
    expect(parseCommandLine(argv)).toMatchObject({ kind: 'records', ...expected });
  });

  it('gives help and the version', () => {
    expect(parseCommandLine([])).toMatchObject({ kind: 'help' });
    expect(parseCommandLine(['--help'])).toMatchObject({ kind: 'help', text: expect.stringContaining('Commands:') });
    expect(parseCommandLine(['convert', '--help'])).toMatchObject({ kind: 'help', text: expect.stringContaining('--to FORMAT') });
    expect(parseCommandLine(['--help'])).toMatchObject({ text: expect.stringMatching(/^ {2}records +generate a sample trace/m) });
    expect(parseCommandLine(['records', '--help'])).toMatchObject({ kind: 'help', text: expect.stringContaining('--generate N') });
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
  });

  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['disasm'], /takes one FILE/],
    [['verify'], /takes one or more FILEs/],
    [['emu', 'f'], /needs --nr/],
    [['emu', 'f', '--nr', '1', '--args', '1,2,3,4,5,6,7'], /at most 6/],
    [['emu', 'f', '--nr', '0x100000000'], /does not fit in 32 bits/],
    [['eval', 'f'], /needs --records/],
    [['eval', '-', '--records', '-'], /cannot hold both/],
    [['eval', 'f', '--records', 'r', '--engine', 'wasm'], /--engine: unknown value "wasm" \(one of auto, interp, jit\)/],
    [['eval', 'f', '--records', 'r', '--workers', '0'], /--workers: 0 threads cannot decide anything; 1 is the main thread alone/],
    [['disasm', 'a', 'b'], /takes one FILE/],
    [['disasm', 'f', '--bogus'], /^disasm: unknown option --bogus$/],
    [['disasm', 'f', '-z'], /^disasm: unknown option -z$/],
    [['eval', 'f', '--records'], /^eval: --records needs a value$/],
    [['disasm', 'f', '-o'], /^disasm: --output needs a value$/],
    [['eval', 'f', '--records', 'r', '--summary=yes'], /^eval: --summary takes no value$/],
    [['eval', 'f', '--records', '--summary'], /^eval: --records needs a value; to give one that starts with a dash, write --records=VALUE$/],
    [['convert', 'f'], /needs --to FORMAT/],
    [['convert', 'f', '--to', 'elf'], /--to: unknown format "elf"/],
    [['disasm', 'f', '--input-format', 'pcap'], /--input-format: unknown format "pcap"/],
    [['disasm', 'f', '--arch', 'vax'], /--arch: unknown arch "vax"/],
    [['records'], /^records needs --generate N$/],
    [['records', '--generate', '-5'], /^records: --generate needs a value; to give one that starts with a dash, write --generate=VALUE$/],
    [['records', '--generate=-5'], /--generate: "-5" is not a decimal or 0x number/],
    [['records', '--generate', '1e6'], /--generate: "1e6" is not a decimal or 0x number/],
    [['records', '--generate', '0x100000000'], /--generate: 0x100000000 does not fit in 32 bits/],
    [['records', '--generate', '10', '--mix', 'worst'], /--mix: unknown value "worst" \(one of realistic, random\)/],
    [['records', '--generate', '10', '--format', 'strace'], /--format: unknown value "strace" \(one of bin, jsonl\)/],
    [['records', '--generate', '10', '--seed', 'abc'], /--seed: "abc" is not a decimal or 0x number/],
    [['records', 'trace.bin'], /^records takes no FILE, got 1$/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(message);
  });

  it('names the command whose options were wrong, and none for an unknown command', () => {
    const thrown = (argv: string[]): UsageError => {
      try {
        parseCommandLine(argv);
      } catch (error) {
        return error as UsageError;
      }
      throw new Error(`${argv.join(' ')} was accepted`);
    };
    expect(thrown(['eval', 'f']).command).toBe('eval');
    expect(thrown(['disasm', 'f', '--bogus']).command).toBe('disasm');
    expect(thrown(['frobnicate']).command).toBeUndefined();
  });
});
