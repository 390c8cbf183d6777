/**
 * Which mode a prefilter database is compiled in (src/match/prefilter.ts STREAM_COMPILED_MAX_PATTERNS): a database of
 * few patterns in streaming mode (Hyperscan's block mode builds its small-write engine for it, up to 100 times the
 * compile), scanned as one block all the same; a large one in block mode, for the speed of its scans. Also when a
 * stored database is rebuilt because this machine cannot load it. That both modes give the same ids is held by
 * test/prefilter-short.test.ts and test/match-broad-ports.test.ts; every matcher test scans through both.
 */
import { describe, expect, it } from 'vitest';
import { Matcher } from '../src/match/engine.js';
import { PrefilterLoader, STREAM_COMPILED_MAX_PATTERNS } from '../src/match/prefilter.js';
import type { NativeHandle } from '../src/native/engine.js';
import { compileText } from './helpers/match.js';

/** UDP rules with n distinct fast patterns of six bytes or more (one group: udp, pkt). */
function rules(n: number): string {
  return Array.from({ length: n }, (_, i) => `alert udp any any -> any any (content:"pat-${i.toString(36)}-x"; sid:${i + 1};)`).join('\n');
}

describe('prefilter database modes', () => {
  const small = new Matcher(compileText(rules(3)).plan, undefined, { checksumMode: 'none' });
  const engine = small.ctx.engine;
  const streaming = (db: NativeHandle | undefined) => engine.hsInfo(db!).streamBytes > 0;

  it(`a set of at most ${STREAM_COMPILED_MAX_PATTERNS} patterns is compiled in streaming mode and found by a block scan`, () => {
    const g = small.prefilter.find((x) => x.proto === 'udp' && x.buf === 'pkt')!;
    const loaded = new PrefilterLoader(engine).load(g);
    expect(streaming(loaded.db)).toBe(true);
    const bytes = new TextEncoder().encode('..pat-1-x..pat-2-x');
    const out = new Int32Array(g.nocase.length);
    // the two patterns found, nothing else, and the same again on the next scan (the stream is reset after each)
    const found = () => Array.from(out.subarray(0, engine.hsScan(loaded.db, bytes, 0, bytes.length, out))).sort((a, b) => a - b);
    // (patterns are numbered in order of first use: rule i's is pattern i)
    expect(found()).toEqual([1, 2]);
    expect(found()).toEqual([1, 2]);
  });

  it('a larger set is compiled in block mode; rebuilt, each keeps its mode', () => {
    const large = new Matcher(compileText(rules(STREAM_COMPILED_MAX_PATTERNS + 1)).plan, undefined, { checksumMode: 'none' });
    for (const [m, stream] of [
      [small, true],
      [large, false],
    ] as const) {
      const g = m.prefilter.find((x) => x.proto === 'udp' && x.buf === 'pkt')!;
      expect(streaming(new PrefilterLoader(engine).load(g).db)).toBe(stream);
      const foreign: typeof engine = Object.create(engine);
      foreign.hsLoad = (bytes, maxId) => {
        if (bytes === g.block) throw Object.assign(new Error('hyperscan: cannot load the database (platform)'), { code: 'platform' });
        return engine.hsLoad(bytes, maxId);
      };
      const rebuilder = new PrefilterLoader(foreign);
      expect(streaming(rebuilder.load(g).db)).toBe(stream);
      expect(rebuilder.rebuilt).toBe(1);
    }
  });
});
