// Runs `serve` or `report` exactly as the CLI would, without src/cli/main.ts
// (which loads the native addon for training): used by test/server-cli.test.ts
// and test/report.test.ts.
import { reportCommand } from '../src/cli/report.js';
import { serveCommand } from '../src/cli/serve.js';

const [cmd, ...rest] = process.argv.slice(2);
const run = cmd === 'serve' ? serveCommand : cmd === 'report' ? reportCommand : null;
if (!run) {
  process.stderr.write(`web-cli-runner: unknown command ${cmd}\n`);
  process.exitCode = 2;
} else {
  run(rest).then((code) => {
    process.exitCode = code;
  });
}
