'use strict';
// Loads the compiled addon (built by `node-gyp rebuild` at npm install time).
const path = require('node:path');
let binding;
let loadError;
try {
  binding = require(path.join(__dirname, 'build', 'Release', 'honeywall_nf.node'));
} catch (err) {
  loadError = err;
}
module.exports = { binding, loadError };
