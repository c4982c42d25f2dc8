import { BACKEND_USAGE, runBackend } from './cli/backendCommand';
import { escapeControlCharacters, InputFileError, UsageError, type CliIo } from './cli/cliIo';
import { ENCODE_USAGE, EVAL_USAGE, EXPORT_USAGE, runEncode, runEval, runExport } from './cli/modelCommands';
import { LAB_MAP_USAGE, LAB_NEIGHBOURS_USAGE, runLabMap, runLabNeighbours } from './cli/labMapCommand';
import { LAB_SEARCH_USAGE, runLabSearch } from './cli/labSearchCommand';
import { LAB_WINS_USAGE, runLabWins } from './cli/labWinsCommand';
import { MINE_NEGATIVES_USAGE, runMineNegatives } from './cli/mineNegativesCommand';
import { PREVIEW_DATA_USAGE, runPreviewData } from './cli/previewDataCommand';
import { runTrain, TRAIN_USAGE } from './cli/trainCommand';
import { runValidate, VALIDATE_USAGE } from './cli/validateCommand';

const COMMANDS: Record<string, { usage: string; run: (args: string[], io: CliIo) => number | Promise<number> }> = {
  validate: { usage: VALIDATE_USAGE, run: runValidate },
  train: { usage: TRAIN_USAGE, run: runTrain },
  eval: { usage: EVAL_USAGE, run: runEval },
  encode: { usage: ENCODE_USAGE, run: runEncode },
  export: { usage: EXPORT_USAGE, run: runExport },
  'preview-data': { usage: PREVIEW_DATA_USAGE, run: runPreviewData },
  'mine-negatives': { usage: MINE_NEGATIVES_USAGE, run: (args, io) => runMineNegatives(args, io) },
  'lab-search': { usage: LAB_SEARCH_USAGE, run: runLabSearch },
  'lab-map': { usage: LAB_MAP_USAGE, run: runLabMap },
  'lab-neighbours': { usage: LAB_NEIGHBOURS_USAGE, run: runLabNeighbours },
  'lab-wins': { usage: LAB_WINS_USAGE, run: runLabWins },
  backend: { usage: BACKEND_USAGE, run: runBackend },
};

const USAGE = `Usage: embedtune <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((command) => `  ${command.usage.split('\n')[0]}`)
  .join('\n')}

Run "embedtune <command> --help" for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const io: CliIo = {
    out: (line) => process.stdout.write(`${escapeControlCharacters(line)}\n`),
    err: (line) => process.stderr.write(`${escapeControlCharacters(line)}\n`),
  };
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`embedtune: unknown command "${name}".\n\n${USAGE}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`embedtune ${name}: ${(error as Error).message}\n\n${command.usage}`);
      return 2;
    }
    if (error instanceof InputFileError) {
      io.err(`embedtune ${name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `embedtune: ${escapeControlCharacters(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
    );
    process.exitCode = 70;
  },
);
