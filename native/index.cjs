'use strict';
// Loads the compiled addons (built by `node-gyp rebuild` at npm install time; each only where its Debian libraries
// are installed): honeywall_nf (NFQUEUE, NFLOG, frame sending), honeywall_engine (PCRE2, Hyperscan) and
// honeywall_unix (datagrams to a local socket: syslog's /dev/log).
const path = require('node:path');
function load(name) {
  try {
    return { mod: require(path.join(__dirname, 'build', 'Release', `${name}.node`)), error: undefined };
  } catch (err) {
    return { mod: undefined, error: err };
  }
}
const nf = load('honeywall_nf');
const engine = load('honeywall_engine');
const unix = load('honeywall_unix');
module.exports = {
  binding: nf.mod,
  loadError: nf.error,
  engine: engine.mod,
  engineError: engine.error,
  unix: unix.mod,
  unixError: unix.error,
};
