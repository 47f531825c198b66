import { CODEC_SERVER_USAGE_DETAILS, runCodecServer } from '../codec/serve';
import { loadConnectionConfig } from '../config';
import { createLogger } from '../observability/logger';
import { runMain } from '../process/run-main';

runMain({
  usage: `
Usage: orchestrator-codec-server [--help]
${CODEC_SERVER_USAGE_DETAILS}`,
  async main() {
    const config = loadConnectionConfig();
    await runCodecServer(config, createLogger(config.logLevel, 'codec-server'));
  },
});
