/** `--input-dialect`: the dialect rule files are read in (lint, compile, replay --rules, convert). */
import { Option } from '../commander.js';
import type { InputDialect } from '../../suricata/index.js';

export const INPUT_DIALECTS: readonly InputDialect[] = ['snort', 'suricata', 'auto'];

export function inputDialectOption(): Option {
  return new Option(
    '--input-dialect <dialect>',
    'dialect of the rule files read: snort (Snort 2.9), suricata (Suricata 5-7, translated to the engine), auto (decided per file)',
  )
    .choices([...INPUT_DIALECTS])
    .default('snort');
}
