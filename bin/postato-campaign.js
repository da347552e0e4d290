#!/usr/bin/env node
// The published `postato-campaign` command: runs the campaign CLI from the compiled dist/ (run `npm run build` first).
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'campaign-cli.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(
    'postato-campaign needs the compiled service: run `npm run build` in the postato-sheets folder first.\n',
  );
  process.exitCode = 2;
} else {
  require(entry).main();
}
