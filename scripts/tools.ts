/** `npm run tools`: provisions the Temporal CLI and the time-skipping test server (CI calls this). */
import { provisionAll, ToolMissingError } from '../dev/tools';

provisionAll((line) => process.stdout.write(`${line}\n`))
  .then(({ cli, testServer }) => {
    process.stdout.write(`temporal CLI:  ${cli}\ntest server:   ${testServer}\n`);
  })
  .catch((error) => {
    process.stderr.write(`${error instanceof ToolMissingError ? error.message : String(error)}\n`);
    process.exit(1);
  });
