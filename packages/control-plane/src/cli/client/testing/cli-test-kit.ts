// Runs client commands in-process for tests: a fresh commander program, a private config
// directory, a fake control plane, captured output and the exit code the process would have.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { ManualClock } from '../../../clock.js';
import type { CliDeps } from '../cli-deps.js';
import { profileOption } from '../profile-option.js';
import { FakeTransport } from './fake-transport.js';
import { ProfileStore, type Profile } from '../profile-store.js';

export const TEST_ENDPOINT = 'https://tether.test:8443';
export const TEST_TENANT = '11111111-1111-4111-8111-111111111111';
export const TEST_SUBSCRIPTION = '22222222-2222-4222-8222-222222222222';
export const TEST_APP_ID = '33333333-3333-4333-8333-333333333333';

export type Register = (program: Command, deps: CliDeps) => void;

export interface CliRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

class ExitSignal extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export class CliTestKit {
  readonly transport = new FakeTransport();
  readonly clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0));
  env: Record<string, string | undefined> = {};
  interactive = false;
  /** Whether the command's standard output is a terminal. */
  terminal = false;
  answer = false;
  questions: string[] = [];
  transportOptions: { ca?: string }[] = [];

  private constructor(
    readonly configDir: string,
    private readonly registers: readonly Register[],
  ) {
    this.env['TETHER_CONFIG_DIR'] = configDir;
  }

  static async create(...registers: Register[]): Promise<CliTestKit> {
    const root = await mkdtemp(join(tmpdir(), 'tether-cli-'));
    return new CliTestKit(join(root, 'config'), registers);
  }

  get store(): ProfileStore {
    return new ProfileStore(this.configDir);
  }

  /** Saves a signed-in profile with a token that is still fresh. */
  async signIn(overrides: Partial<Profile> = {}): Promise<void> {
    await this.store.save({
      endpoint: TEST_ENDPOINT,
      tenantId: TEST_TENANT,
      clientId: TEST_APP_ID,
      clientSecret: 'profile-secret',
      subscriptionId: TEST_SUBSCRIPTION,
      token: { accessToken: 'cached-token', expiresOn: this.clock.now() + 3_600_000 },
      ...overrides,
    });
  }

  async run(...args: string[]): Promise<CliRun> {
    let stdout = '';
    let stderr = '';
    let exitCode = 0;
    const deps: CliDeps = {
      env: this.env,
      homeDir: join(this.configDir, '..', 'home'),
      clock: this.clock,
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      setExitCode: (code) => {
        exitCode = code;
      },
      exit: (code) => {
        throw new ExitSignal(code);
      },
      isInteractive: () => this.interactive,
      stdoutIsTerminal: () => this.terminal,
      confirm: (question) => {
        this.questions.push(question);
        return Promise.resolve(this.answer);
      },
      createTransport: (options) => {
        this.transportOptions.push(options);
        return this.transport;
      },
      sleep: () => Promise.resolve(),
    };
    const program = new Command('tether').exitOverride().addOption(profileOption());
    for (const register of this.registers) register(program, deps);
    try {
      await program.parseAsync(args, { from: 'user' });
    } catch (error) {
      if (!(error instanceof ExitSignal)) throw error;
      exitCode = error.code;
    }
    return { stdout, stderr, exitCode };
  }

  async dispose(): Promise<void> {
    await rm(join(this.configDir, '..'), { recursive: true, force: true });
  }
}
