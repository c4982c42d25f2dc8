// A bench-only build of the embedtune CLI for bench/realImages (issue 17): dist/cli.js's own source, bundled as
// scripts/build.mjs bundles it, except that the config check which refuses `task: image-classification` on
// `engine.type: accelerate` (src/shared/config/checks/accelerateChecks.ts, code accelerate-option-unsupported) lets
// that task through. The Python side (python/embedtune_accelerate/image_classification.py) trains it, but the CLI
// stops every such config before launch; until the check admits the task, this bundle is how the real-data check
// runs the PyTorch side. Nothing else changes: the bundle fails if the check's text is not found.
//
//   node bench/realImages/buildLiftedCli.mjs   → bench/.cache/real-images/lifted-cli/cli.js
//   npm run bench:images-real -- --cases softmax@accelerate,focal@accelerate --cli bench/.cache/real-images/lifted-cli/cli.js
//
// The bundle sits under the repository so that the accelerate engine finds python/embedtune_accelerate above it.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REFUSAL = "if (task !== 'embedding') {";
const LIFTED = "if (task !== 'embedding' && task !== 'image-classification') {";
const outfile = join(ROOT, 'bench/.cache/real-images/lifted-cli/cli.js');

const lift = {
  name: 'lift-accelerate-image-check',
  setup(build) {
    build.onLoad({ filter: /accelerateChecks\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(REFUSAL))
        throw new Error(`${args.path} no longer holds ${REFUSAL}: check whether dist/cli.js still needs this build.`);
      return { contents: source.replace(REFUSAL, LIFTED), loader: 'ts' };
    });
  },
};

await esbuild.build({
  entryPoints: [join(ROOT, 'src/trainer/cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  banner: { js: '#!/usr/bin/env node' },
  plugins: [lift],
  logLevel: 'warning',
});
console.log(`wrote ${outfile}`);
