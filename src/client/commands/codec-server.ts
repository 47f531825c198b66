/** `orch codec-server`: the payload encryption codec server, in the foreground (as `orchestrator-codec-server`). */
import { CODEC_SERVER_USAGE_DETAILS, runCodecServer } from '../../codec/serve';
import { loadConnectionConfig } from '../../config';
import { createLogger } from '../../observability/logger';
import { type Command, parseCommandLine, UsageError } from './common';

const NAME = 'codec-server';

const codecServerUsage = `
Usage: orch codec-server
${CODEC_SERVER_USAGE_DETAILS}

Options:
  -h, --help   this help

Exit codes: 0 stopped by SIGINT or SIGTERM; 1 cannot listen; 2 bad usage or a bad setting (no keys).

Examples:
  ORCH_CODEC_KEYS_FILE=/etc/orch/keys ORCH_CODEC_KEY_ID=k2 ORCH_CODEC_SERVER_TOKEN=$(cat /etc/orch/codec-token) \\
    ORCH_CODEC_CORS_ORIGINS=http://localhost:8233 orch codec-server
  orch codec-server   # then: temporal workflow show -w corr-evt-42 --codec-endpoint http://127.0.0.1:8089
`;

export const codecServerCommand: Command = {
  name: NAME,
  summary: 'serve the payload encryption codec to the Temporal UI and CLI',
  usage: codecServerUsage,
  async run(argv, ctx) {
    const { positionals } = parseCommandLine(NAME, { args: argv, options: {}, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(NAME, `unexpected argument: ${positionals.join(' ')}`);
    const config = loadConnectionConfig(ctx.env);
    await runCodecServer(config, createLogger(config.logLevel, 'codec-server'));
  },
};
