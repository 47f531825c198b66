#!/usr/bin/env node
/** `orch`: the orchestrator's command-line client for people. A thin dispatcher over ./commands. */
import { runMain } from '../process/run-main';
import { codecServerCommand } from './commands/codec-server';
import { CliError, type Command, processContext } from './commands/common';
import { publishCommand } from './commands/publish';
import { redriveCommand } from './commands/redrive';
import { replayCommand } from './commands/replay';
import { stateCommand } from './commands/state';
import { statusCommand } from './commands/status';
import { waitCommand } from './commands/wait';
import { whatIfCommand } from './commands/what-if';

const COMMANDS: readonly Command[] = [
  publishCommand,
  stateCommand,
  waitCommand,
  replayCommand,
  redriveCommand,
  statusCommand,
  whatIfCommand,
  codecServerCommand,
];

const USAGE = `
Usage: orch <command> [options]
       orch <command> --help

The orchestrator's command-line client: publish an agent signal as an agent would, see what a
correlation knows and wait for its decision; replay, re-drive and what-if recorded correlations;
check the deployment's health.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n')}

Connection settings come from the environment, as for the worker (see below): TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE and Temporal's other settings for Temporal; NATS_URL and the NATS_* credentials
for NATS.

Exit codes: 0 done; 1 failed (not found, timed out, a server unreachable); 2 bad usage, input or
setting.

Examples:
  orch publish --agent momentum --corr-id evt-42 --analysis '{"trend_direction":"bullish","confidence":0.8}'
  orch state evt-42
  orch wait evt-42 --timeout 2m
  orch redrive --status failed --since 1h --dry-run
  orch what-if --policy policy-v2.json --since 24h
  orch status
`;

const findCommand = (name: string | undefined): Command | undefined => COMMANDS.find((c) => c.name === name);

runMain({
  // runMain answers --help itself: with the subcommand's usage when one is named.
  usage: findCommand(process.argv[2])?.usage ?? USAGE,
  async main([name, ...args]) {
    const command = findCommand(name);
    if (!command) {
      process.stderr.write(
        `${name === undefined ? 'error: no command given' : `error: unknown command ${JSON.stringify(name)}`}\n\n${USAGE.trim()}\n`,
      );
      process.exitCode = 2;
      return;
    }
    try {
      await command.run(args, processContext);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = error.exitCode;
    }
  },
});
