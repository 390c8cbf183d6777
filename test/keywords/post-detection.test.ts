import { keywordTables, planTables } from './table.js';

keywordTables('post-detection keywords', {
  threshold: [
    ['type limit, track by_src, seconds 60, count 1', { args: { type: 'limit', track: 'by_src', seconds: 60, count: 1 } }],
    ['type both,track by_dst,count 10,seconds 120', { args: { type: 'both', track: 'by_dst', count: 10, seconds: 120 } }],
    // parser.c ParseOtnThreshold compares with strcasecmp and reads count with xatoup (> 0)
    ['Type Limit, Track BY_SRC, Count 1, Seconds 60', { args: { type: 'limit', track: 'by_src', count: 1, seconds: 60 } }],
    ['type limit, track by_src, count 0, seconds 60', { error: 'number-out-of-range' }],
    ['type limit, track by_rule, count 5, seconds 300', { error: 'unknown-track' }],
    ['type limit, track by_flow, count 1, seconds 3600', { error: 'unknown-track' }],
    ['type backoff, track by_flow, count 1, multiplier 2', { error: 'bad-argument' }],
    ['type limit, track by_src, count 1', { error: 'missing-argument' }],
    ['type limit, type both, track by_src, count 1, seconds 1', { error: 'duplicate-argument' }],
    ['type limit, track by_src, count x, seconds 1', { error: 'bad-number' }],
    ['type limit, track by_src, count 1, seconds 0', { error: 'number-out-of-range' }],
  ],
  detection_filter: [
    ['track by_src, count 30, seconds 60', { args: { track: 'by_src', count: 30, seconds: 60 } }],
    ['track by_dst,count 10,seconds 60', { args: { track: 'by_dst', count: 10, seconds: 60 } }],
    ['Track By_Dst, COUNT 10, Seconds 60', { args: { track: 'by_dst', count: 10, seconds: 60 } }],
    ['track by_src, count 1, seconds 60, unique_on src_port', { error: 'bad-argument-count' }],
    ['track by_flow, count 1, seconds 3600', { error: 'unknown-track' }],
    ['track by_src, count 0, seconds 60', { error: 'number-out-of-range' }],
    ['track by_src, count 1, minutes 60', { error: 'bad-argument' }],
  ],
  tag: [
    ['session,5,packets', { args: { type: 'session', limits: [{ count: 5, metric: 'packets' }], exclusive: false } }],
    ['session, 20, packets', { args: { type: 'session', limits: [{ count: 20, metric: 'packets' }], exclusive: false } }],
    ['session,exclusive', { args: { type: 'session', limits: [], exclusive: true } }],
    // parser.c ParseOtnTag compares every word with strcasecmp
    ['Host,600,Seconds,SRC', { args: { type: 'host', limits: [{ count: 600, metric: 'seconds' }], direction: 'src', exclusive: false } }],
    ['host,600,seconds,src', { args: { type: 'host', limits: [{ count: 600, metric: 'seconds' }], direction: 'src', exclusive: false } }],
    [
      'host,0,packets,600,seconds,src',
      {
        args: {
          type: 'host',
          limits: [
            { count: 0, metric: 'packets' },
            { count: 600, metric: 'seconds' },
          ],
          direction: 'src',
          exclusive: false,
        },
      },
    ],
    ['session', { error: 'missing-argument' }],
    ['host,600,seconds', { error: 'missing-argument' }],
    ['session,10', { error: 'missing-argument' }],
    ['session,10,minutes', { error: 'bad-argument' }],
    ['flow,10,packets', { error: 'bad-argument' }],
    ['session,10,packets,src', { error: 'bad-argument' }],
  ],
  logto: [['"nmap.log"', { args: 'nmap.log' }]],
  session: [
    ['printable', { args: 'printable' }],
    ['ascii', { error: 'bad-argument' }],
  ],
  resp: [
    ['rst_all', { args: ['rst_all'] }],
    ['reset_source,icmp_port', { args: ['reset_source', 'icmp_port'] }],
    ['rst_everything', { error: 'bad-argument' }],
  ],
  react: [
    [undefined, { args: { msg: false, deprecated: [] } }],
    ['msg', { args: { msg: true, deprecated: [] } }],
    ['block, proxy 8080', { args: { msg: false, deprecated: ['block', 'proxy'], proxy: 8080 } }],
    ['redirect', { error: 'bad-argument' }],
  ],
  activates: [
    ['1', { args: 1 }],
    ['x', { error: 'bad-number' }],
  ],
  activated_by: [['1', { args: 1 }]],
  count: [
    ['50', { args: 50 }],
    ['0', { error: 'number-out-of-range' }],
  ],
});

planTables('post-detection keywords: plan pieces', {
  threshold: [['type both,track by_dst,count 10,seconds 120', { piece: { type: 'both', track: 'by_dst', count: 10, seconds: 120 } }]],
  detection_filter: [['track by_src, count 30, seconds 60', { piece: { track: 'by_src', count: 30, seconds: 60 } }]],
  // the matcher does not tag
  tag: [['session,5,packets', { piece: undefined }]],
});
