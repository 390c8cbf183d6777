/**
 * The gateway's own events about streams and fragments, logged like rule events (fast.log, eve.json, `[Drop]`) under
 * their own generator id, as Snort's preprocessors log theirs (stream5 is gid 129): an operator greps for them the
 * same way. Each names a packet the gateway dropped without a rule deciding it.
 */
import type { MatchEvent } from '../match/decide.js';
import type { RulePlan } from '../match/plan.js';
import type { Packet } from '../packet/packet.js';

/** Generator id of the gateway's stream events (no Snort 2.9 preprocessor uses it). */
export const STREAM_GID = 1000;

export type StreamEventName =
  | 'overlap-conflict'
  | 'stale-retransmission'
  | 'hold-limit'
  | 'hold-expired'
  | 'fragment-incomplete'
  | 'truncated'
  | 'gso-not-tcp';

export const STREAM_EVENTS: Record<StreamEventName, { sid: number; msg: string }> = {
  'overlap-conflict': { sid: 1, msg: 'honeywall stream: TCP segment overlaps earlier data with different bytes' },
  'stale-retransmission': { sid: 2, msg: 'honeywall stream: TCP retransmission of data older than the history kept' },
  'hold-limit': { sid: 3, msg: 'honeywall stream: out-of-order segment or fragment beyond the hold limit' },
  'hold-expired': { sid: 4, msg: 'honeywall stream: held segment whose gap never filled' },
  'fragment-incomplete': { sid: 5, msg: 'honeywall stream: IP fragments of a datagram that never completed' },
  truncated: { sid: 6, msg: 'honeywall stream: packet larger than the queue copies whole (GSO super-packet over 65531 bytes)' },
  'gso-not-tcp': { sid: 7, msg: 'honeywall stream: GSO super-packet other than TCP (several datagrams in one)' },
};

const PLANS = new Map<StreamEventName, RulePlan>();

function planOf(name: StreamEventName): RulePlan {
  let r = PLANS.get(name);
  if (r === undefined) {
    const e = STREAM_EVENTS[name];
    const any = { any: true, include: [], exclude: [] };
    r = {
      index: -1,
      gid: STREAM_GID,
      sid: e.sid,
      rev: 1,
      msg: e.msg,
      classtype: 'bad-unknown',
      classDescription: 'Potentially Bad Traffic',
      priority: 2,
      action: 'drop',
      proto: 'tcp',
      src: any,
      srcPorts: any,
      dst: any,
      dstPorts: any,
      bidirectional: false,
      flow: undefined,
      flowbits: [],
      headers: [],
      ops: [],
      fastPattern: undefined,
      threshold: undefined,
      detectionFilter: undefined,
      contentLength: 0,
      file: '(gateway)',
      line: 0,
    };
    PLANS.set(name, r);
  }
  return r;
}

export function streamEvent(name: StreamEventName, packet: Packet): MatchEvent {
  return { rule: planOf(name), packet, action: 'drop' };
}
