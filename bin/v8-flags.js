// V8's linear-time regexp engine (pcre from attackers' traffic must not stall the matcher), switched on before any
// regular expression exists: the launcher requires this module first. Tested on Node 20: v8.setFlagsFromString
// works here; the `l` flag and the excessive-backtracks fallback are then available. (The lint bundle's code cache
// is made and used under these same flags: V8 refuses a cache made under others.)
'use strict';
const v8 = require('node:v8');

v8.setFlagsFromString('--enable-experimental-regexp-engine');
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
v8.setFlagsFromString('--regexp-backtracks-before-fallback=10000');
