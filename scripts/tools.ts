/** `npm run tools`: provisions the Temporal CLI, the time-skipping test server and moto_server (CI calls this). */
import { provisionAll, ToolMissingError } from '../dev/tools';

provisionAll((line) => process.stdout.write(`${line}\n`))
  .then(({ cli, testServer, motoServer }) => {
    process.stdout.write(`temporal CLI:  ${cli}\ntest server:   ${testServer}\nmoto server:   ${motoServer}\n`);
  })
  .catch((error) => {
    process.stderr.write(`${error instanceof ToolMissingError ? error.message : String(error)}\n`);
    process.exit(1);
  });
