import { keywordTables, planTables } from './table.js';

keywordTables('preprocessor keywords', {
  ssl_version: [
    ['sslv3', { args: [{ name: 'sslv3', negated: false }] }],
    ['sslv2,sslv3,tls1.0,tls1.1,tls1.2', { args: ['sslv2', 'sslv3', 'tls1.0', 'tls1.1', 'tls1.2'].map((name) => ({ name, negated: false })) }],
    ['!sslv2', { args: [{ name: 'sslv2', negated: true }] }],
    ['tls1.3', { error: 'bad-argument' }],
  ],
  ssl_state: [
    ['server_hello', { args: [{ name: 'server_hello', negated: false }] }],
    [
      'client_hello|!server_keyx',
      {
        args: [
          { name: 'client_hello', negated: false },
          { name: 'server_keyx', negated: true },
        ],
      },
    ],
    ['handshake', { error: 'bad-argument' }],
  ],
  dce_iface: [
    ['4b324fc8-1670-01d3-1278-5a47bf6ee188', { args: { uuid: '4b324fc8-1670-01d3-1278-5a47bf6ee188', anyFrag: false } }],
    [
      '975201B0-59CA-11D0-A8D5-00A0C90D8051, <2, any_frag',
      { args: { uuid: '975201b0-59ca-11d0-a8d5-00a0c90d8051', version: { op: '<', value: 2 }, anyFrag: true } },
    ],
    ['4b324fc8-1670-01d3-1278', { error: 'bad-uuid' }],
    ['4b324fc8-1670-01d3-1278-5a47bf6ee188, ~2', { error: 'bad-argument' }],
  ],
  dce_opnum: [
    ['15', { args: [{ lo: 15, hi: 15 }] }],
    [
      '1,2',
      {
        args: [
          { lo: 1, hi: 1 },
          { lo: 2, hi: 2 },
        ],
      },
    ],
    [
      '0-11, 15',
      {
        args: [
          { lo: 0, hi: 11 },
          { lo: 15, hi: 15 },
        ],
      },
    ],
    ['11-0', { error: 'bad-range' }],
    ['70000', { error: 'number-out-of-range' }],
  ],
  sip_method: [
    ['invite', { args: [{ name: 'invite', negated: false }] }],
    [
      'invite, cancel',
      {
        args: [
          { name: 'invite', negated: false },
          { name: 'cancel', negated: false },
        ],
      },
    ],
    ['!invite', { args: [{ name: 'invite', negated: true }] }],
    ['!invite,cancel', { error: 'bad-negation' }],
  ],
  sip_stat_code: [
    ['180', { args: [180] }],
    ['4', { args: [4] }],
    ['2, 180', { args: [2, 180] }],
    ['42', { error: 'number-out-of-range' }],
    ['1000', { error: 'number-out-of-range' }],
  ],
  gtp_type: [
    ['10, 11, echo_request', { args: [10, 11, 'echo_request'] }],
    ['256', { error: 'number-out-of-range' }],
  ],
  gtp_info: [
    ['16', { args: 16 }],
    ['1,2', { error: 'too-many-arguments' }],
  ],
  gtp_version: [
    ['1', { args: 1 }],
    ['3', { error: 'number-out-of-range' }],
  ],
  modbus_func: [
    ['read_coils', { args: 1 }],
    ['43', { args: 43 }],
    ['read_everything', { error: 'bad-argument' }],
  ],
  modbus_unit: [
    ['1', { args: 1 }],
    ['256', { error: 'number-out-of-range' }],
  ],
  dnp3_func: [
    ['cold_restart', { args: 13 }],
    ['nope', { error: 'bad-argument' }],
  ],
  dnp3_obj: [
    ['60,2', { args: { group: 60, variation: 2 } }],
    ['60', { error: 'bad-argument-count' }],
  ],
  dnp3_ind: [
    [
      'device_restart,need_time',
      {
        args: [
          { name: 'device_restart', negated: false },
          { name: 'need_time', negated: false },
        ],
      },
    ],
    ['device_reboot', { error: 'bad-argument' }],
  ],
  sd_pattern: [
    ['2,us_social', { args: { threshold: 2, pattern: 'us_social', builtin: true } }],
    ['5,\\b\\d{4}\\b', { args: { threshold: 5, pattern: '\\b\\d{4}\\b', builtin: false } }],
    ['0,credit_card', { error: 'number-out-of-range' }],
    ['credit_card', { error: 'bad-argument' }],
  ],
  file_type: [
    ['PDF', { args: ['PDF'] }],
    ['MSEXE|PDF', { args: ['MSEXE', 'PDF'] }],
  ],
  appids: [['"HTTP, SSH"', { args: ['HTTP', 'SSH'] }]],
});

planTables('preprocessor keywords: plan pieces', {
  ssl_version: [['sslv3,!tls1.0', { piece: { t: 'ssl_version', versions: [0, 1], negated: [false, true] } }]],
  ssl_state: [['client_hello|!unknown', { piece: { t: 'ssl_state', states: [1, -2], negated: [false, true] } }]],
});
