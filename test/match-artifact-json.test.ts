/**
 * The artifact's JSON, made the fast way (src/match/stored-json.ts: byte arrays given a `toJSON` for one stringify,
 * many values per call, each call's array cut at its top-level commas), is the JSON of the plain definition: each
 * value on its own through JSON.stringify, byte arrays replaced by {"$b": base64} beforehand.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { elementBounds, elementsByStart, jsonBlob, storedJson } from '../src/match/stored-json.js';

/**
 * The definition, what the artifact held before the fast path: each value on its own through JSON.stringify after a
 * walk that replaces every byte array (Buffers included) by {"$b": base64}.
 */
function reference(value: unknown): string {
  const storable = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof Uint8Array) return { $b: Buffer.from(v.buffer, v.byteOffset, v.length).toString('base64') };
    if (Array.isArray(v)) return v.map(storable);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, storable(x)]));
  };
  return JSON.stringify(storable(value));
}

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('"', '\\', '\\"', '",', '{[', '"]}', 'é', '\u2028', '\ud83d\ude00', '\ud800'),
);
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 20 }).map((a) => a),
  fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)),
);
const leaf = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), bytes);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(text, tie('value'), { maxKeys: 4 })),
}));
// What a blob element can be: JSON.stringify leaves out undefined values only inside objects and arrays.
const element = fc.oneof(fc.array(value, { maxLength: 4 }), fc.dictionary(text, value, { maxKeys: 5 }), text, fc.integer(), bytes);

describe('stored JSON', () => {
  it('storedJson == JSON.stringify with the byte-array replacer, and leaves no toJSON behind', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(storedJson(v)).toBe(reference(v));
      }),
      { numRuns: 500 },
    );
    expect(Object.getOwnPropertyDescriptor(Uint8Array.prototype, 'toJSON')).toBeUndefined();
    expect(Buffer.from('ab').toJSON()).toEqual({ type: 'Buffer', data: [97, 98] });
  });

  it('jsonBlob: element i is the UTF-8 JSON of value i, one after the other', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 30 }), (values) => {
        const { blob, offsets } = jsonBlob(values);
        expect(offsets.length).toBe(values.length + 1);
        expect(offsets[values.length]).toBe(blob.length);
        values.forEach((v, i) => expect(blob.toString('utf8', offsets[i], offsets[i + 1])).toBe(reference(v)));
      }),
      { numRuns: 300 },
    );
  });

  it('jsonBlob over more values than one stringify call takes', () => {
    const values = Array.from({ length: 9000 }, (_, i) => ({ i, b: Uint8Array.of(i & 255, 34, 92), s: `"${i}",\\` }));
    const { blob, offsets } = jsonBlob(values);
    for (const i of [0, 63, 64, 65, 4095, 4096, 4097, 8191, 8192, 8999])
      expect(blob.toString('utf8', offsets[i], offsets[i + 1])).toBe(reference(values[i]));
    expect(blob.toString('utf8')).toBe(values.map(reference).join(''));
  });

  it('elementBounds refuses a text with another number of elements', () => {
    const t = Buffer.from('[{"a":"x,y"},[1,2]]');
    expect([...elementBounds(t, 2)]).toEqual([1, 12, 13, 18]);
    expect(() => elementBounds(t, 1)).toThrow();
    expect(() => elementBounds(t, 3)).toThrow();
    expect(() => elementBounds(Buffer.from('[]'), 1)).toThrow();
  });

  it('jsonBlob with an element start (stored rules: {"gid":) cuts where the walk cuts, nested look-alikes included', () => {
    // objects that start with "gid", holding the start again in strings, in nested objects (a look-alike the search
    // must not take for an element: then it gives up and the walk decides), after commas in arrays
    const lookAlike = fc.oneof(
      value,
      fc.constant(',{"gid":'),
      fc.record({ gid: fc.integer(), x: value }),
      fc.array(fc.record({ gid: fc.integer() }), { maxLength: 3 }),
    );
    const rule = fc.record({ gid: fc.integer(), sid: fc.integer(), rest: fc.array(lookAlike, { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 12 }), (values) => {
        const fast = jsonBlob(values, '{"gid":');
        const walked = jsonBlob(values);
        expect(fast.blob.equals(walked.blob)).toBe(true);
        expect([...fast.offsets]).toEqual([...walked.offsets]);
      }),
      { numRuns: 300 },
    );
    const start = Buffer.from('{"gid":');
    const plain = Buffer.from(JSON.stringify([{ gid: 1, a: 'x,{"gid":' }, { gid: 2 }]));
    expect([...elementsByStart(plain, 2, start)!]).toEqual([...elementBounds(plain, 2)]);
    expect(elementsByStart(Buffer.from('[{"gid":1,"a":[1,{"gid":2}]},{"gid":3}]'), 2, start)).toBeUndefined();
    expect(elementsByStart(Buffer.from('[{"sid":1},{"gid":3}]'), 2, start)).toBeUndefined();
  });
});
