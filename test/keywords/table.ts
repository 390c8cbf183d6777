import { describe, expect, it } from 'vitest';
import { parseValue, type Row } from './helpers.js';

/** Registers one describe block per keyword: each row parses to the expected args or reports the error code. */
export function keywordTables(title: string, tables: Record<string, Row[]>): void {
  describe(title, () => {
    for (const [keyword, rows] of Object.entries(tables)) {
      describe(keyword, () => {
        it.each(rows)('%s', (value, expected) => {
          const r = parseValue(keyword, value);
          if ('error' in expected) {
            expect(r.errors).toContain(expected.error);
            expect(r.args).toBeUndefined();
          } else {
            expect(r.errors).toEqual([]);
            expect(r.args).toEqual(expected.args);
          }
        });
      });
    }
  });
}
