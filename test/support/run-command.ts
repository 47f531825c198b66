/** Runs programs the way a user would, to completion, with their output captured. */
import { spawn } from 'node:child_process';
import { compiledEntryPoint } from '../../src/devstack/local-stack';

export interface CommandRun {
  status: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export interface RunOptions {
  /** The whole environment of the program (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Written to its stdin, which is closed either way. */
  input?: string | Buffer;
  /** Killed after this long, so a hung program fails its test instead of the suite. */
  timeoutMs?: number;
}

export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(killer);
      resolve({ status, stdout, stderr, elapsedMs: Date.now() - started });
    });
    // A program that exits without reading its stdin closes the pipe first: EPIPE is its choice, not a failure.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(error);
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The compiled `orch` CLI, with `env` over this process's environment. */
export function runOrch(
  args: string[],
  env: Record<string, string> = {},
  options: Omit<RunOptions, 'env'> = {},
): Promise<CommandRun> {
  return runCommand(process.execPath, [compiledEntryPoint('client/cli'), ...args], {
    ...options,
    env: { ...process.env, ...env },
  });
}

/**
 * `npm start`'s program (`dist/src/devstack/up.js`) with `args`: its exit code and its stdout and stderr as they came,
 * interleaved.
 */
export function runUp(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [compiledEntryPoint('devstack/up'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}
