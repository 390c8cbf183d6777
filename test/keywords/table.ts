import { describe, expect, it } from 'vitest';
import { parseValue, planValue, type PlanRow, type Row } from './helpers.js';

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

/** Registers one describe block per keyword: each row's value compiles to the expected plan piece, or is refused. */
export function planTables(title: string, tables: Record<string, PlanRow[]>): void {
  describe(title, () => {
    for (const [keyword, rows] of Object.entries(tables)) {
      describe(keyword, () => {
        it.each(rows)('%s', (value, expected) => {
          const r = planValue(keyword, value);
          if ('refused' in expected) expect('refused' in r ? r.refused : r).toMatch(expected.refused);
          else expect(r).toEqual({ piece: expected.piece });
        });
      });
    }
  });
}

/** Rows whose value parses with a warning (Snort accepts it but reads it in a way worth a note): args and the code. */
export function warningTables(title: string, tables: Record<string, [value: string, args: unknown, warning: string][]>): void {
  describe(title, () => {
    for (const [keyword, rows] of Object.entries(tables)) {
      describe(keyword, () => {
        it.each(rows)('%s', (value, args, warning) => {
          const r = parseValue(keyword, value);
          expect(r.errors).toEqual([]);
          expect(r.args).toEqual(args);
          expect(r.warnings).toContain(warning);
        });
      });
    }
  });
}
