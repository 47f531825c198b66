import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain } from '../process/run-main';
import { renderJsonSchemas } from './json-schemas';

runMain({
  usage: `
Usage: npm run schemas [-- --help]

Writes schemas/*.schema.json from the zod definitions in src/contract. Commit the result: a test
fails when the committed files drift from the zod definitions.`,
  async main() {
    const dir = join(__dirname, '..', '..', '..', 'schemas');
    mkdirSync(dir, { recursive: true });
    for (const [file, content] of Object.entries(renderJsonSchemas())) {
      writeFileSync(join(dir, file), content);
      process.stdout.write(`wrote schemas/${file}\n`);
    }
  },
});
