/**
 * Jest's order, with the suites that run for a minute or more first: on a fresh clone Jest has no
 * durations of its own and starts the biggest files first, which left the chaos scenarios (small
 * files that run a minute each) for last, one worker busy with them while the other sat idle.
 */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- Jest loads its sequencer as CommonJS */
const { relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

/** Folders and files whose suites run longest, longest first (test/ relative paths). */
const LONG_RUNNING = ['chaos/', 'bench/smoke', 'cluster/', 'e2e/bridge', 'e2e/operations', 'e2e/codec'];

class LongestFirst extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const path = relative(test.context.config.rootDir, test.path).replace(/^test\//, '');
      const index = LONG_RUNNING.findIndex((prefix) => path.startsWith(prefix));
      return index === -1 ? LONG_RUNNING.length : index;
    };
    const jestOrder = super.sort(tests);
    return jestOrder
      .map((test, position) => ({ test, position }))
      .sort((a, b) => rank(a.test) - rank(b.test) || a.position - b.position)
      .map(({ test }) => test);
  }
}

module.exports = LongestFirst;
