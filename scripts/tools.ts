/** `npm run tools`: provisions the Temporal CLI, the time-skipping test server, moto_server and the chart test's tools (CI calls this). */
import { provisionAll, ToolMissingError } from '../dev/tools';

provisionAll((line) => process.stdout.write(`${line}\n`))
  .then(({ cli, testServer, motoServer, helm, kubeconform, schemas }) => {
    process.stdout.write(
      `temporal CLI:  ${cli}\ntest server:   ${testServer}\nmoto server:   ${motoServer}\nhelm:          ${helm}\nkubeconform:   ${kubeconform}\nk8s schemas:   ${schemas}\n`,
    );
  })
  .catch((error) => {
    process.stderr.write(`${error instanceof ToolMissingError ? error.message : String(error)}\n`);
    process.exit(1);
  });
