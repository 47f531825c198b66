import { ConfigError } from '../../src/config';
import { parseBenchOptions } from '../../src/bench/options';

const parse = (...argv: string[]) => parseBenchOptions(argv, '/repo', new Date('2026-11-22T04:05:06.789Z'));

function errorOf(...argv: string[]): ConfigError {
  try {
    parse(...argv);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

describe('bench options', () => {
  it('has the documented defaults', () => {
    const options = parse();
    expect(options).toMatchObject({
      ratePerMinute: 5000,
      durationMs: 60_000,
      agents: ['momentum', 'risk'],
      partialShare: 0.1,
      agentSpreadMs: 0,
      timeoutMs: 5000,
      target: 'local',
      outDir: '/repo/.cache/bench/2026-11-22T04-05-06',
      findCapacity: false,
      stepDurationMs: 60_000,
      stepFactor: 1.5,
      p95BoundMs: 1000,
      ceiling: false,
      settleMs: 30_000,
      maxInFlight: 256,
      pids: {},
      stackEnv: {},
      workers: 1,
      bridges: 0,
    });
    expect(options.runId).toMatch(/^[a-z0-9]{1,6}$/);
  });

  it('reads dev-server dynamic configuration and SQLite pragmas for the local target, refusing them for an external one', () => {
    expect(
      parse(
        '--dynamic-config',
        'history.hostLevelCacheMaxSize=32768',
        '--dynamic-config',
        'system.forceSearchAttributesCacheRefreshOnRead=false',
        '--sqlite-pragma',
        'cache_size=-262144',
      ).devServer,
    ).toEqual({
      dynamicConfig: {
        'history.hostLevelCacheMaxSize': '32768',
        'system.forceSearchAttributesCacheRefreshOnRead': 'false',
      },
      sqlitePragmas: { cache_size: '-262144' },
      env: {},
    });
    expect(parse('--temporal-env', 'GOGC=200').devServer.env).toEqual({ GOGC: '200' });
    expect(errorOf('--dynamic-config', 'novalue').message).toBe('--dynamic-config: expected name=value, got "novalue"');
    expect(errorOf('--target', 'external', '--sqlite-pragma', 'temp_store=MEMORY').message).toContain(
      '--sqlite-pragma: only for --target local',
    );
    expect(errorOf('--engine', 'cluster', '--temporal-env', 'GOGC=200').message).toBe(
      '--temporal-env: only for --engine dev: the cluster runs deploy/temporal/ as it is',
    );
  });

  it('runs the dev engine unless --engine cluster asks for the production shape, and names a wrong one', () => {
    expect(parse().engine).toBe('dev');
    expect(parse('--engine', 'cluster').engine).toBe('cluster');
    expect(errorOf('--engine', 'k8s').message).toBe('--engine: expected dev or cluster, got "k8s"');
    expect(errorOf('--target', 'external', '--engine', 'cluster').message).toBe(
      '--engine: only for --target local: an external target is what it is',
    );
  });

  it('reads the spread of the agents as a duration', () => {
    expect(parse('--agent-spread', '2s').agentSpreadMs).toBe(2_000);
    expect(parse('--agent-spread', '250ms').agentSpreadMs).toBe(250);
    expect(errorOf('--agent-spread', 'wide').message).toContain('--agent-spread: invalid duration "wide"');
  });

  it('reads durations with units, and bare numbers as seconds', () => {
    expect(parse('--duration', '30m').durationMs).toBe(1_800_000);
    expect(parse('--duration', '1.5s').durationMs).toBe(1_500);
    expect(parse('--duration', '90').durationMs).toBe(90_000);
    expect(parse('--duration', '2h').durationMs).toBe(7_200_000);
    expect(parse('--p95-bound', '500ms').p95BoundMs).toBe(500);
    expect(parse('--settle', '45').settleMs).toBe(45_000);
    expect(parse('--step-duration', '30s').stepDurationMs).toBe(30_000);
  });

  it('reads rates, shares, agents, capacity and external settings', () => {
    const options = parse(
      '--rate',
      '7500.5',
      '--partial-share',
      '0',
      '--agents',
      'momentum,risk,news',
      '--find-capacity',
      '--step-factor',
      '2',
      '--ceiling',
    );
    expect(options).toMatchObject({
      ratePerMinute: 7500.5,
      partialShare: 0,
      agents: ['momentum', 'risk', 'news'],
      findCapacity: true,
      stepFactor: 2,
      ceiling: true,
    });
    expect(parse('--target', 'external', '--pids', 'worker=123, bridge=456').pids).toEqual({
      worker: 123,
      bridge: 456,
    });
    expect(parse('--stack-env', 'ORCH_BRIDGE_CONCURRENCY=64', '--stack-env', 'ORCH_LOG_LEVEL=warn').stackEnv).toEqual({
      ORCH_BRIDGE_CONCURRENCY: '64',
      ORCH_LOG_LEVEL: 'warn',
    });
    expect(parse('--out', '/tmp/x', '--run-id', 'soak-1').outDir).toBe('/tmp/x');
    expect(parse('--workers', '2', '--bridges', '3')).toMatchObject({ workers: 2, bridges: 3 });
  });

  it.each([
    [['--duration', '10 minutes'], '--duration: invalid duration "10 minutes"'],
    [['--duration', '0s'], '--duration: must be longer than 0'],
    [['--settle', 'soon'], '--settle: invalid duration'],
    [['--p95-bound=-1s'], '--p95-bound: invalid duration'],
    [['--rate', 'fast'], '--rate: expected a number of signals per minute above 0, got "fast"'],
    [['--rate', '0'], '--rate: expected a number of signals per minute above 0'],
    [['--rate', ''], '--rate: expected'],
    [['--partial-share', '1'], '--partial-share: expected a share from 0 up to (not including) 1, got "1"'],
    [
      ['--partial-share', '0.2', '--agents', 'momentum'],
      '--partial-share: a partial correlation leaves out its last agent',
    ],
    [['--agents', 'momentum,Risk'], '--agents: "Risk" is not an agent name'],
    [['--agents', 'risk,risk'], '--agents: an agent is listed twice'],
    [['--target', 'cloud'], '--target: expected local or external, got "cloud"'],
    [['--timeout-ms', '2.5'], '--timeout-ms: expected a whole number of milliseconds'],
    [['--timeout-ms', '60000'], '--settle: must be longer than --timeout-ms (60000 ms)'],
    [['--step-factor', '1'], '--step-factor: expected a factor above 1'],
    [['--max-in-flight', '0'], '--max-in-flight: expected a whole number above 0'],
    [['--pids', 'worker=abc', '--target', 'external'], '--pids: expected name=value, got "worker=abc"'],
    [['--pids', 'worker=1'], '--pids: only for --target external'],
    [['--stack-env', 'lower=1'], '--stack-env: expected name=value, got "lower=1"'],
    [['--target', 'external', '--stack-env', 'ORCH_LOG_LEVEL=warn'], '--stack-env: only for --target local'],
    [['--run-id', 'a b'], '--run-id: expected 1-40 letters'],
    [['--workers', '0'], '--workers: expected a whole number from 1 to 16, got "0"'],
    [['--bridges', '1.5'], '--bridges: expected a whole number from 0 to 16'],
    [['--target', 'external', '--workers', '2'], '--workers: only for --target local'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
    [['extra'], "Unexpected argument 'extra'"],
  ])('rejects %j naming the option', (argv, message) => {
    expect(errorOf(...argv).message).toContain(message);
  });
});
