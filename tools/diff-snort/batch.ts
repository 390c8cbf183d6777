/**
 * One batch: many cases, one Snort run and one honeywall compile. Case i takes slot i (its own addresses and sids);
 * its capture is its own pcap, read with fresh state by both engines. Each engine's alerts go back to their case by
 * sid (gid 1) or by address, and each case's gid:sid multisets are compared. A rule Snort refuses stops Snort at that
 * rule: its case is taken out (a lint finding when honeywall accepted the rule) and Snort runs again without it.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderPcap, renderRules, RULES_PER_SLOT, SID_BASE, slotOfAddress, slotOfSid, type Case } from './case.js';
import { countEvents, loadMatcher, multiset, replayEvents, type EngineEvent } from './honeywall.js';
import { snortChoiceReaching } from './order.js';
import { runSnort, writeConf, type SnortAlert } from './snort.js';

/**
 * `snort-order`: the multisets differ, but honeywall gives Snort's under another of the choices Snort 2.9.20 makes
 * at random (order.ts): Snort's answer depends on its run, and honeywall's model reaches it.
 */
export type Verdict = 'agree' | 'differ' | 'snort-order' | 'snort-refused' | 'both-refused' | 'honeywall-refused' | 'snort-hung';

export interface CaseResult {
  slot: number;
  case: Case;
  verdict: Verdict;
  snort: string;
  honeywall: string;
  /** Snort's or honeywall's reason for refusing a rule of the case. */
  detail?: string;
}

export interface BatchTimes {
  snortSeconds: number;
  honeywallSeconds: number;
  snortRuns: number;
}

function slotOf(e: SnortAlert | EngineEvent): number | undefined {
  if (e.gid === 1 && e.sid >= SID_BASE) return slotOfSid(e.sid);
  return slotOfAddress(e.src) ?? slotOfAddress(e.dst);
}

function bySlot(events: readonly (SnortAlert | EngineEvent)[], n: number): Map<string, number>[] {
  const per: (SnortAlert | EngineEvent)[][] = Array.from({ length: n }, () => []);
  for (const e of events) {
    const s = slotOf(e);
    if (s === undefined || s >= n) throw new Error(`an event no case owns: ${e.gid}:${e.sid} ${e.src} -> ${e.dst}`);
    per[s]!.push(e);
  }
  return per.map((es) => countEvents(es));
}

export async function runBatch(cases: readonly Case[], dir: string): Promise<{ results: CaseResult[]; times: BatchTimes }> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  const lineSlot: number[] = [];
  const pcaps: string[] = [];
  cases.forEach((c, slot) => {
    for (const r of renderRules(c, slot)) {
      lines.push(r);
      lineSlot.push(slot);
    }
    const p = join(dir, `case-${String(slot).padStart(5, '0')}.pcap`);
    writeFileSync(p, renderPcap(c, slot));
    pcaps.push(p);
  });
  const rules = join(dir, 'cases.rules');
  writeFileSync(rules, lines.join('\n') + '\n');
  const conf = writeConf(dir, [rules]);

  const refused = new Map<number, string>();
  const times: BatchTimes = { snortSeconds: 0, honeywallSeconds: 0, snortRuns: 0 };

  // honeywall: the same configuration file, compiled once; its replay runs while Snort runs (two processes, two cores)
  const honeywall = (async () => {
    const t0 = performance.now();
    const loaded = loadMatcher({ paths: [], conf });
    const failures = new Map<number, string>();
    for (const f of loaded.failures) {
      if (f.sid !== undefined && f.sid >= SID_BASE) failures.set(slotOfSid(f.sid), `${f.reason}`);
      else if (f.line >= 1 && f.line <= lineSlot.length) failures.set(lineSlot[f.line - 1]!, f.reason);
    }
    const events: EngineEvent[] = [];
    for (const p of pcaps) events.push(...(await replayEvents(p, loaded.matcher)));
    times.honeywallSeconds += (performance.now() - t0) / 1000;
    return { events, failures };
  })();

  const hung = new Set<number>();
  const snort = (async () => {
    let keep = lines.map((_, i) => i);
    let pending = pcaps.map((_, s) => s);
    const alerts: SnortAlert[] = [];
    // Each run ends the batch, or takes out one case (a refused rule's, or the capture Snort was stuck on), so one
    // run per case and one more always suffice: the loop is bounded by the batch's size.
    const maxRuns = cases.length + 1;
    for (let run = 0; run < maxRuns; run++) {
      writeFileSync(rules, keep.map((i) => lines[i]).join('\n') + '\n');
      const r = await runSnort(
        join(dir, 'snort'),
        conf,
        pending.map((s) => pcaps[s]!),
      );
      times.snortSeconds += r.seconds;
      times.snortRuns++;
      if (r.failed) throw new Error(`Snort failed on batch ${dir}:\n${r.failed}`);
      if (r.hung !== undefined) {
        const stuck = pcaps.indexOf(r.hung);
        // The rules Snort was looping in (gdb), by case: those cases are not compared and their rules leave the
        // batch, or they would hang Snort again on every later capture that holds their content. The stuck
        // capture itself runs again when the loop was another case's rule. Without that answer, the stuck case is
        // the one not compared.
        const culprits = new Set((r.culprits ?? []).map((gs) => slotOfSid(Number(gs.split(':')[1]))).filter((s) => s >= 0 && s < cases.length));
        const out = culprits.size > 0 ? culprits : new Set([stuck]);
        for (const s of out) hung.add(s);
        // the captures before the stuck one are done; it and the ones after it run again (without the cases taken
        // out), so what was logged for the stuck capture before the kill is left out too (it comes again)
        alerts.push(...r.alerts.filter((a) => !out.has(slotOf(a) ?? -1) && slotOf(a) !== stuck));
        pending = pending.slice(pending.indexOf(stuck) + (out.has(stuck) ? 1 : 0)).filter((s) => !out.has(s));
        keep = keep.filter((i) => !out.has(lineSlot[i]!));
        if (pending.length === 0) return alerts;
        continue;
      }
      if (!r.refused) return [...alerts, ...r.alerts];
      const lineIndex = keep[r.refused.line - 1];
      if (lineIndex === undefined)
        throw new Error(`Snort refused a line outside the case rules: ${r.refused.file}(${r.refused.line}) ${r.refused.message}`);
      const slot = lineSlot[lineIndex]!;
      refused.set(slot, r.refused.message);
      keep = keep.filter((i) => lineSlot[i] !== slot);
      pending = pending.filter((s) => s !== slot);
    }
    throw new Error(`more than ${maxRuns} Snort runs for one batch of ${cases.length} cases`);
  })();

  const [snortAlerts, hw] = await Promise.all([snort, honeywall]);
  const sCounts = bySlot(snortAlerts, cases.length);
  const hCounts = bySlot(hw.events, cases.length);
  const results: CaseResult[] = cases.map((c, slot) => {
    if (hung.has(slot))
      return {
        slot,
        case: c,
        verdict: 'snort-hung',
        snort: '',
        honeywall: multiset(hCounts[slot]!),
        detail: "Snort 2.9.20 looped for ever in this case's rules (or, when gdb could not say whose, on its capture) and was killed",
      };
    const sRefused = refused.get(slot);
    const hRefused = hw.failures.get(slot);
    const snortText = multiset(sCounts[slot]!);
    const hwText = multiset(hCounts[slot]!);
    if (sRefused !== undefined)
      return {
        slot,
        case: c,
        verdict: hRefused !== undefined ? 'both-refused' : 'snort-refused',
        snort: '',
        honeywall: hwText,
        detail: `Snort: ${sRefused}${hRefused ? `; honeywall: ${hRefused}` : ''}`,
      };
    if (hRefused !== undefined)
      return { slot, case: c, verdict: 'honeywall-refused', snort: snortText, honeywall: hwText, detail: `honeywall: ${hRefused}` };
    return { slot, case: c, verdict: snortText === hwText ? 'agree' : 'differ', snort: snortText, honeywall: hwText };
  });
  // a difference Snort's own order explains (order.ts): honeywall again with the orders Snort may have taken
  const t0 = performance.now();
  for (const r of results) {
    if (r.verdict !== 'differ') continue;
    const choice = snortChoiceReaching(r.case, r.slot, pcaps[r.slot]!, r.snort, dir);
    if (choice !== undefined) {
      r.verdict = 'snort-order';
      r.detail = choice;
    }
  }
  times.honeywallSeconds += (performance.now() - t0) / 1000;
  // The batch is one Snort rule set, and Snort shares the nodes of identical options between rules: whether a rule
  // is evaluated again in another tree of the packet (another port group, another state of the pattern automaton)
  // depends on the other cases' rules. What is still a difference is asked again of the case alone, its own answer.
  if (cases.length > 1)
    for (const r of results) {
      if (r.verdict !== 'differ') continue;
      const alone = await runBatch([r.case], join(dir, 'alone'));
      times.snortSeconds += alone.times.snortSeconds;
      times.honeywallSeconds += alone.times.honeywallSeconds;
      times.snortRuns += alone.times.snortRuns;
      const a = alone.results[0]!;
      if (a.verdict === 'agree' || a.verdict === 'snort-order') {
        r.verdict = a.verdict;
        r.detail = `alone: Snort [${a.snort}]${a.detail ? `, ${a.detail}` : ''}; in the batch other cases' rules changed Snort's rule trees`;
      }
    }
  return { results, times };
}

/** Whether the result is a disagreement between the engines (a refusal both make is an agreement). */
export function disagrees(r: CaseResult): boolean {
  return r.verdict === 'differ' || r.verdict === 'snort-refused' || r.verdict === 'honeywall-refused';
}

/** A case with no answer from Snort (stuck): listed, not counted either way. */
export function unanswered(r: CaseResult): boolean {
  return r.verdict === 'snort-hung';
}

export { RULES_PER_SLOT };
