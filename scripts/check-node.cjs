#!/usr/bin/env node
// Stops `npm start` / `npm test` (wired as their npm "pre" scripts) at once on a Node.js older than
// package.json's engines.node, with one line saying what was found, what is needed and where to
// get it. `npm ci` and `npm install` are stopped by engine-strict in .npmrc instead: npm runs a
// root package's preinstall only after it has installed the dependencies
// (https://docs.npmjs.com/cli/using-npm/scripts#npm-ci).
//
// CommonJS, no dependencies and no modern syntax, so that it runs on the old Node it reports.
// MOCKLLM_NODE_VERSION stands in for the running version (for the tests).
'use strict';

var path = require('path');
var fs = require('fs');

function parse(version) {
  var parts = String(version).replace(/^v/, '').split('.');
  return [0, 1, 2].map(function (i) {
    var n = parseInt(parts[i], 10);
    return isNaN(n) ? 0 : n;
  });
}

function atLeast(found, needed) {
  for (var i = 0; i < 3; i++) {
    if (found[i] !== needed[i]) return found[i] > needed[i];
  }
  return true;
}

var pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
var range = (pkg.engines && pkg.engines.node) || '';
var minimum = /^\s*>=\s*v?(\d+(?:\.\d+){0,2})\s*$/.exec(range);
if (!minimum) {
  process.stderr.write('scripts/check-node.cjs understands only an engines.node of the form ">=X.Y", not ' + JSON.stringify(range) + '\n');
  process.exit(2);
}
var found = process.env.MOCKLLM_NODE_VERSION || process.versions.node;
if (!atLeast(parse(found), parse(minimum[1]))) {
  process.stderr.write(
    'mockllm needs Node.js ' + minimum[1] + ' or newer, found ' + found.replace(/^v?/, 'v') +
      ': install Node.js 24 LTS from https://nodejs.org/en/download (or nvm install 24), or run npm through it with npx -y -p node@24 npm …\n'
  );
  process.exit(1);
}
