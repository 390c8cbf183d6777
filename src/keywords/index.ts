/**
 * The index of every rule keyword honeywall knows (Snort 2.9's rule language). One module per keyword or per
 * family; each entry declares its grammar and validation (see `spec.ts`). Unknown keywords are errors, as in Snort.
 */
import type { AnyKeywordSpec } from './spec.js';
import { classtype, gid, metadata, msg, priority, reference, rev, sid } from './general.js';
import { content, uricontent } from './content.js';
import * as modifiers from './content-modifiers.js';
import { pcreKeywords } from './pcre.js';
import { byteKeywords } from './byte-ops.js';
import { payloadMiscKeywords } from './payload-misc.js';
import { nonPayloadKeywords } from './non-payload.js';
import { postDetectionKeywords } from './post-detection.js';
import { preprocessorKeywords } from './preprocessor.js';

const ALL: AnyKeywordSpec[] = [
  msg,
  sid,
  gid,
  rev,
  classtype,
  priority,
  reference,
  metadata,
  content,
  uricontent,
  ...Object.values(modifiers),
  ...pcreKeywords,
  ...byteKeywords,
  ...payloadMiscKeywords,
  ...nonPayloadKeywords,
  ...postDetectionKeywords,
  ...preprocessorKeywords,
];

export const KEYWORDS: ReadonlyMap<string, AnyKeywordSpec> = new Map(ALL.map((k) => [k.name, k]));
