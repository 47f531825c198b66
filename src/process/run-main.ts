import { ConfigError, settingsHelp } from '../config';

export interface MainOptions {
  /** One paragraph: what the command does and how it is used. */
  usage: string;
  main: (argv: string[]) => Promise<void>;
}

/**
 * Entry point of every command: `--help` prints the usage and the settings; a bad setting exits 2
 * with a message naming it; any other failure exits 1. A failed process exits at once, so a
 * half-started worker never lingers without polling: its supervisor restarts it instead.
 */
export function runMain({ usage, main }: MainOptions): void {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage.trim()}\n\n${settingsHelp()}\n`);
    return;
  }
  main(argv).catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`error: ${error.message}\nRun with --help to see every setting.\n`, () => process.exit(2));
      return;
    }
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`, () =>
      process.exit(1),
    );
  });
}
