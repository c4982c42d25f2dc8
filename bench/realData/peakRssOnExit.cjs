// Preloaded into each `embedtune train` of the real-data report (node --require): writes the process's peak
// resident memory, as the kernel counted it (getrusage ru_maxrss, in KiB), to EMBEDTUNE_PEAK_RSS_FILE on exit.
// The same measure bench/trainThroughput.ts reports, and exact where polling /proc would miss the export's peak.
'use strict';
const { writeFileSync } = require('node:fs');

const target = process.env.EMBEDTUNE_PEAK_RSS_FILE;
if (target) {
  process.on('exit', () => {
    writeFileSync(target, String(process.resourceUsage().maxRSS));
  });
}
