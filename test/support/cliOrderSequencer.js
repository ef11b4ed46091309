/**
 * Jest test sequencer that runs the files in the order the command line names them (Jest's own
 * puts the slowest first): to reproduce an order-dependent failure, such as a file that holds the
 * shared time-skipping server's clock for every file after it.
 *
 *   npx jest --runInBand --testSequencer ./test/support/cliOrderSequencer.js a.test.ts b.test.ts
 *
 * Files the command line does not name exactly keep Jest's order, after the named ones.
 */
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

class CliOrderSequencer extends Sequencer {
  async sort(tests) {
    const named = process.argv.slice(2).map((arg) => path.resolve(arg));
    const rank = (test) => {
      const at = named.indexOf(test.path);
      return at === -1 ? named.length : at;
    };
    return [...(await super.sort(tests))].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = CliOrderSequencer;
