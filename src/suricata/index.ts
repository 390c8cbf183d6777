/**
 * Reading a rule file in either dialect: the one call the loaders make (config/ruleset.ts for lint, compile and
 * replay; transform/convert.ts for convert and update). Snort 2.9 text is returned as it is; Suricata text is
 * translated (translate.ts) and carries its translation, which maps positions back and names refused rules.
 */
import { detectDialect, type InputDialect } from './detect.js';
import { translateSuricata, type SuricataTranslation, type TranslateOptions } from './translate.js';

export { detectDialect, type Detection, type InputDialect } from './detect.js';
export { rewriteDiagnostics, translateSuricata, translationLines, type SuricataTranslation } from './translate.js';
export { SURICATA_KEYWORDS, SURICATA_PROTOCOLS, SURICATA_ACTIONS, BUFFER_FORMS } from './keywords.js';

/** A file that mixes the dialects: refused whole, naming the line that decides each. */
export class MixedDialectError extends Error {}

export interface DialectText {
  text: string;
  /** Set when the file was read as Suricata's. */
  suricata?: SuricataTranslation;
}

export function readDialectText(text: string, display: string, dialect: InputDialect | undefined, opts: TranslateOptions = {}): DialectText {
  if (dialect === undefined || dialect === 'snort') return { text };
  if (dialect === 'auto') {
    const d = detectDialect(text);
    if (d.dialect === 'mixed')
      throw new MixedDialectError(
        `${display}: mixes Suricata and Snort 2.9 rules: line ${d.suricata.line}:${d.suricata.column} has ${d.suricata.what}, line ${d.snort.line}:${d.snort.column} has ${d.snort.what} (split the file, or name its dialect with --input-dialect)`,
      );
    if (d.dialect === 'snort') return { text };
  }
  const tr = translateSuricata(text, display, opts);
  return { text: tr.text, suricata: tr };
}
